"""A user's uploaded file as a dataset: size checked first, then parsed by its kind (CSV, NPZ or ZIP)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .base import Dataset, DatasetError, UploadLimits
from .csv_upload import load_csv
from .idx import FILES, IDX_DATASETS, find_idx_files, idx_dataset
from .image_zip import load_image_zip
from .npz_upload import load_npz
from .options import check_keys
from .safezip import SafeZip

KINDS = ("csv", "npz", "zip")
EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".npz": "npz", ".zip": "zip"}
ZIP_MAGIC = b"PK"


def load_upload(path: Path, kind: str | None, options: dict, limits: UploadLimits, name: str,
                title: str) -> Dataset:
    path = Path(path)
    if kind not in (None, *KINDS):
        raise DatasetError(f"unknown upload kind '{kind}'; it is one of {', '.join(KINDS)}")
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise DatasetError(f"the file is {size:,} bytes; the limit is {limits.max_bytes:,} bytes (max_bytes)")
    chosen = kind or _detect(path)
    if chosen == "csv":
        return load_csv(path, options, limits, name, title)
    with SafeZip(path, limits) as archive:
        if chosen == "npz" or (kind is None and _holds_arrays(archive)):
            return load_npz(archive, options, name, title)
        check_keys(options, ("image_size", "dataset"), "a ZIP upload")
        idx_files = find_idx_files(info.filename for info in archive.files)
        if len(idx_files) == len(FILES):
            return _idx_zip(archive, idx_files, options, limits, name, title)
        return load_image_zip(archive, options, limits, name, title)


def _detect(path: Path) -> str:
    """By extension, else by content: a ZIP (an NPZ is one too) starts with PK; anything else is read as CSV."""
    if path.suffix.lower() in EXTENSIONS:
        return EXTENSIONS[path.suffix.lower()]
    with path.open("rb") as file:
        return "zip" if file.read(2) == ZIP_MAGIC else "csv"


def _holds_arrays(archive: SafeZip) -> bool:
    """A ZIP of .npy files is an NPZ whatever its name: numpy.savez writes exactly that."""
    return bool(archive.files) and all(info.filename.endswith(".npy") for info in archive.files)


def _idx_zip(archive: SafeZip, idx_files: dict[str, str], options: dict, limits: UploadLimits, name: str,
             title: str) -> Dataset:
    """MNIST or Fashion-MNIST uploaded as a ZIP of its four IDX files (the way in when the server can't
    download). The files are the same for both: the `dataset` option says which, else a name with "fashion"."""
    which = options.get("dataset") or ("fashion_mnist" if any("fashion" in entry.lower()
                                                              for entry in idx_files.values()) else "mnist")
    if which not in IDX_DATASETS:
        raise DatasetError(f"option 'dataset' must be one of {', '.join(IDX_DATASETS)}, got {which!r}")
    entries = {info.filename: info for info in archive.files}
    sources = {file: (entry, archive.read(entries[entry])) for file, entry in idx_files.items()}
    dataset = idx_dataset(which, sources, limits.max_uncompressed_bytes)
    return dataclasses.replace(dataset, name=name, title=title)
