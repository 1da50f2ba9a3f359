"""The datasets a run can use: the built-in ones by name, and its owner's uploads as `upload-<id>`."""

from __future__ import annotations

import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from .datasets import BUILTINS, Dataset, DatasetError, UploadLimits, load_dataset, load_upload
from .datasets.idx import IDX_DATASETS
from .engine import split
from .models import UploadedDataset


class NoSuchDataset(LookupError):
    """A key that names neither a built-in dataset nor one of the user's uploads."""

    def __init__(self, key: str):
        super().__init__(f"no dataset '{key}'")


def upload_limits() -> UploadLimits:
    return UploadLimits(max_bytes=settings.UPLOAD_MAX_BYTES, max_zip_entries=settings.UPLOAD_MAX_ZIP_ENTRIES,
                        max_uncompressed_bytes=settings.UPLOAD_MAX_UNCOMPRESSED_BYTES,
                        max_image_pixels=settings.UPLOAD_MAX_IMAGE_PIXELS, max_csv_rows=settings.UPLOAD_MAX_CSV_ROWS,
                        max_csv_columns=settings.UPLOAD_MAX_CSV_COLUMNS)


def own_upload(owner_id: int, key: str) -> UploadedDataset:
    pk = key.removeprefix("upload-")
    # str.isdigit() accepts digits such as "²" that int() refuses.
    if not (pk.isascii() and pk.isdigit()):
        raise NoSuchDataset(key)
    upload = UploadedDataset.objects.filter(pk=int(pk), owner_id=owner_id).first()
    if upload is None:
        raise NoSuchDataset(key)
    return upload


def load_run_dataset(key: str, owner_id: int, seed: int) -> Dataset:
    """The dataset as a run of this owner trains on it; NoSuchDataset or DatasetError otherwise."""
    if key.startswith("upload-"):
        upload = own_upload(owner_id, key)
        with upload.file.open("rb") as src, tempfile.NamedTemporaryFile(suffix=Path(upload.file.name).suffix) as tmp:
            shutil.copyfileobj(src, tmp)
            tmp.flush()
            return load_upload(Path(tmp.name), upload.kind or None, upload.options, upload_limits(), name=key,
                               title=upload.name)
    if key not in BUILTINS and key not in IDX_DATASETS:
        raise NoSuchDataset(key)
    return _builtin(key, seed)


@lru_cache(maxsize=8)
def _builtin(key: str, seed: int) -> Dataset:
    # Generated sets (spirals, waves) draw their points from the run's seed.
    return load_dataset(key, seed=seed, cache_dir=settings.DATASET_CACHE_DIR, download=settings.DATASET_DOWNLOADS)


def listing(key: str, owner_id: int) -> tuple[Dataset, dict]:
    """The dataset and how it is listed: key, title, kind and info (shapes, task, classes)."""
    data = load_run_dataset(key, owner_id, seed=0)
    if key.startswith("upload-"):
        upload = own_upload(owner_id, key)
        return data, {"key": key, "title": upload.name, "builtin": False, "kind": data.kind, "info": upload.info}
    return data, {"key": key, "title": data.title, "description": data.description, "builtin": True,
                  "kind": data.kind, "info": data.info()}


def split_indices(n: int, config: dict):
    """The run's training and validation indices, exactly as its training split them."""
    return split(n, config["val_split"], config["seed"])


__all__ = ["DatasetError", "NoSuchDataset", "listing", "load_run_dataset", "own_upload", "split_indices",
           "upload_limits"]
