"""The datasets core, in plain Python with no Django: built-in sets, MNIST and Fashion-MNIST from IDX files,
user uploads (CSV, NPZ, ZIP), and the check that a network fits a dataset. The Celery worker, the CLI, the
API and the benchmarks all call these same functions.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from .base import Dataset, DatasetError, UploadLimits
from .builtin import BUILTINS, load_builtin
from .fit import check_fit
from .idx import IDX_DATASETS, load_idx_dataset
from .options import check_keys
from .uploads import load_upload

__all__ = ["BUILTINS", "Dataset", "DatasetError", "UploadLimits", "check_fit", "list_builtins", "load_builtin",
           "load_dataset", "load_idx_dataset", "load_upload"]


def load_dataset(name: str, *, seed: int = 0, cache_dir: Path | str | None = None, download: bool = False,
                 mirrors: dict[str, str] | None = None, **options) -> Dataset:
    """A built-in dataset, or MNIST / Fashion-MNIST from `cache_dir` (downloaded into it if `download`, from
    `mirrors[name]` when given)."""
    if name in IDX_DATASETS:
        check_keys(options, (), f"dataset '{name}'")
        if cache_dir is None:
            raise DatasetError(f"{name} is read from IDX files, so it needs a cache_dir to find them in")
        return load_idx_dataset(name, cache_dir, download=download, mirror=(mirrors or {}).get(name))
    if name not in BUILTINS:
        raise DatasetError(f"unknown dataset '{name}'; known: {', '.join([*BUILTINS, *IDX_DATASETS])}")
    return load_builtin(name, seed=seed, **options)


def list_builtins() -> list[dict]:
    """Every built-in dataset with its info (shapes, task, classes), so a page can tell which ones a network
    fits before loading any; MNIST and Fashion-MNIST too, from what their files always hold."""
    return [{"name": name, "title": spec.title, "description": spec.description, "kind": spec.kind,
             "task": spec.task, "info": _builtin_info(name)} for name, spec in BUILTINS.items()] + [
        {"name": name, "title": spec.title, "description": spec.description, "kind": "image",
         "task": "classification", "info": spec.info(name)} for name, spec in IDX_DATASETS.items()]


@cache
def _builtin_info(name: str) -> dict:
    return load_builtin(name).info()  # all ten are made in about 0.1 s, once per process
