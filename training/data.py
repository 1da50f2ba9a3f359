"""The datasets a run can use: the built-in ones by name, and its owner's uploads as `upload-<id>`."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from functools import lru_cache
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile

from .datasets import BUILTINS, Dataset, DatasetError, UploadLimits, load_dataset, load_upload
from .datasets.idx import IDX_DATASETS, idx_cached
from .datasets.store import ARRAYS, open_array, stored_dataset
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
                        max_csv_columns=settings.UPLOAD_MAX_CSV_COLUMNS,
                        max_decoded_bytes=settings.UPLOAD_MAX_DECODED_BYTES,
                        max_total_pixels=settings.UPLOAD_MAX_TOTAL_PIXELS)


# ---- uploads: parsed once, into arrays in storage ----------------------------------------------------------

def add_upload(owner, file: UploadedFile, title: str, kind: str, options: dict) -> tuple[Dataset, UploadedDataset]:
    """Parse a user's uploaded file once, into X.npy and y.npy in storage, and record it. DatasetError, naming the
    user's own file, if it can't be. The dataset returned maps the stored arrays."""
    with tempfile.TemporaryDirectory(prefix="netbuilder-upload-", dir=settings.FILE_UPLOAD_TEMP_DIR) as folder:
        try:
            source = Path(file.temporary_file_path())  # FILE_UPLOAD_HANDLERS put every upload on disk
        except AttributeError:  # a file built in memory (a test's, a caller's own)
            source = _copy_into(file, Path(folder) / f"source{Path(file.name or '').suffix.lower()}")
        dataset = load_upload(source, kind or None, options, upload_limits(), name="upload", title=title,
                              label=Path(file.name or "upload").name, out=_arrays_folder(folder))
        arrays = _save_arrays(Path(folder) / "arrays")
    try:
        upload = UploadedDataset.objects.create(owner=owner, name=title[:200], kind=kind, file=file, options=options,
                                                info=dataset.info(), arrays=arrays)
    except BaseException:
        _delete_arrays(arrays)
        raise
    upload.info = {**upload.info, "name": upload.key}
    upload.save(update_fields=["info"])
    return stored_dataset(dataset.X, dataset.y, upload.info, upload.key, upload.name), upload


def upload_dataset(upload: UploadedDataset) -> Dataset:
    """The upload's dataset, mapped from its stored arrays; an upload older than them is parsed once, now."""
    if not upload.arrays:
        _convert(upload)
    try:
        X, y = (_open_stored(name) for name in upload.array_names())
    except FileNotFoundError:
        raise DatasetError(f"the stored arrays of '{upload.name}' are missing; upload the file again") from None
    return stored_dataset(X, y, upload.info, upload.key, upload.name)


def _convert(upload: UploadedDataset) -> None:
    """Write the arrays of an upload stored before uploads were parsed into them. Two processes may do it at once:
    the first to record its arrays wins, and the other deletes its own."""
    label = Path(upload.file.name).name
    with tempfile.TemporaryDirectory(prefix="netbuilder-upload-", dir=settings.FILE_UPLOAD_TEMP_DIR) as folder:
        with upload.file.open("rb") as src:
            source = _copy_into(src, Path(folder) / f"source{Path(label).suffix.lower()}")
        load_upload(source, upload.kind or None, upload.options, upload_limits(), name=upload.key, title=upload.name,
                    label=label, out=_arrays_folder(folder))
        arrays = _save_arrays(Path(folder) / "arrays")
    if UploadedDataset.objects.filter(pk=upload.pk, arrays="").update(arrays=arrays):
        upload.arrays = arrays
    else:
        _delete_arrays(arrays)
        upload.refresh_from_db(fields=["arrays"])


def _arrays_folder(folder: str) -> Path:
    path = Path(folder) / "arrays"
    path.mkdir()
    return path


def _copy_into(src, path: Path) -> Path:
    with path.open("wb") as dst:
        for chunk in src.chunks() if hasattr(src, "chunks") else iter(lambda: src.read(1 << 20), b""):
            dst.write(chunk)
    return path


class _OnDisk(File):
    """A local file that a FileSystemStorage moves into place rather than copying (Django's protocol for
    uploads already on disk); other storages read it as any file."""

    def temporary_file_path(self) -> str:
        return self.file.name


def _save_arrays(folder: Path) -> str:
    """Save folder/X.npy and folder/y.npy into storage, under a new folder name, which is returned."""
    prefix = f"datasets/arrays/{uuid.uuid4().hex}/"
    saved = []
    try:
        for name in ARRAYS:
            with (folder / f"{name}.npy").open("rb") as file:
                saved.append(default_storage.save(f"{prefix}{name}.npy", _OnDisk(file)))
    except BaseException:
        for name in saved:
            default_storage.delete(name)
        raise
    if saved != [f"{prefix}{name}.npy" for name in ARRAYS]:  # a storage that renamed them: one folder or nothing
        for name in saved:
            default_storage.delete(name)
        raise RuntimeError(f"the storage saved the arrays as {saved}, not in {prefix}")
    return prefix


def _delete_arrays(prefix: str) -> None:
    for name in ARRAYS:
        default_storage.delete(f"{prefix}{name}.npy")


def _open_stored(name: str) -> np.ndarray:
    """A stored array, mapped from its file: where the storage is local, in place; otherwise fetched into a
    temporary file first (the mapping outlives the file's name)."""
    try:
        path = default_storage.path(name)
    except NotImplementedError:
        with default_storage.open(name, "rb") as src, tempfile.NamedTemporaryFile(suffix=".npy") as tmp:
            shutil.copyfileobj(src, tmp, 1 << 20)
            tmp.flush()
            return open_array(tmp.name)
    return open_array(path)


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
        return upload_dataset(own_upload(owner_id, key))
    if key not in BUILTINS and key not in IDX_DATASETS:
        raise NoSuchDataset(key)
    return _builtin(key, seed)


@lru_cache(maxsize=8)
def _builtin(key: str, seed: int) -> Dataset:
    # Generated sets (spirals, waves) draw their points from the run's seed.
    return load_dataset(key, seed=seed, cache_dir=settings.DATASET_CACHE_DIR, download=settings.DATASET_DOWNLOADS,
                        mirrors=settings.DATASET_MIRRORS)


def listing(key: str, owner_id: int) -> tuple[Dataset, dict]:
    """The dataset and how it is listed: key, title, kind and info (shapes, task, classes)."""
    if key.startswith("upload-"):
        upload = own_upload(owner_id, key)
        data = upload_dataset(upload)
        return data, {"key": key, "title": upload.name, "builtin": False, "kind": data.kind, "info": upload.info}
    data = load_run_dataset(key, owner_id, seed=0)
    return data, {"key": key, "title": data.title, "description": data.description, "builtin": True,
                  "kind": data.kind, "info": data.info()}


def ready(key: str) -> bool:
    """Whether a built-in dataset opens without a download that is turned off (MNIST is then uploaded instead)."""
    return key not in IDX_DATASETS or settings.DATASET_DOWNLOADS or idx_cached(key, settings.DATASET_CACHE_DIR)


def split_indices(n: int, config: dict):
    """The run's training and validation indices, exactly as its training split them."""
    return split(n, config["val_split"], config["seed"])


__all__ = ["DatasetError", "NoSuchDataset", "add_upload", "listing", "load_run_dataset", "own_upload", "ready",
           "split_indices", "upload_dataset", "upload_limits"]
