"""A user's uploaded file as a dataset: size checked first, then parsed by its kind (CSV, NPZ or ZIP).

Every parser reads the headers of everything in the upload and checks the decoded size and pixel count
against the budgets (UploadLimits) before it decodes anything. Given a folder (`out`), the arrays are written
there as X.npy and y.npy as they are decoded, and the dataset returned maps them: the server parses an upload
once, when it arrives, and never holds it decoded in memory.
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from pathlib import Path

from .base import Dataset, DatasetError, UploadLimits
from .csv_upload import load_csv
from .idx import FILES, IDX_DATASETS, find_idx_files, idx_dataset
from .image_zip import load_image_zip
from .npz_upload import load_npz
from .options import check_keys
from .safezip import SafeZip
from .store import Arrays

KINDS = ("csv", "npz", "zip")
EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".npz": "npz", ".zip": "zip"}
ZIP_MAGIC = b"PK"


def load_upload(path: Path, kind: str | None, options: dict, limits: UploadLimits, name: str,
                title: str, *, label: str | None = None, out: Path | None = None) -> Dataset:
    """`label`: the file's own name, which messages use (`path` may be a temporary file, whose name would mean
    nothing to the user); its extension picks the kind when `kind` is None. `out`: a folder to write X.npy and
    y.npy into, or None to keep the arrays in memory."""
    path = Path(path)
    label = label or path.name
    if kind not in (None, *KINDS):
        raise DatasetError(f"unknown upload kind '{kind}'; it is one of {', '.join(KINDS)}")
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise DatasetError(f"the file is {size:,} bytes; the limit is {limits.max_bytes:,} bytes (max_bytes)")
    arrays = Arrays(out)
    chosen = kind or _detect(path, label)
    if chosen == "csv":
        return load_csv(path, options, limits, name, title, label=label, out=arrays)
    with SafeZip(path, limits, label) as archive:
        if chosen == "npz" or (kind is None and _holds_arrays(archive)):
            return load_npz(archive, options, limits, name, title, out=arrays)
        check_keys(options, ("image_size", "dataset"), "a ZIP upload")
        idx_files = find_idx_files(info.filename for info in archive.files)
        if len(idx_files) == len(FILES):
            return _idx_zip(archive, idx_files, options, limits, name, title, arrays)
        return load_image_zip(archive, options, limits, name, title, out=arrays)


def _detect(path: Path, label: str) -> str:
    """By extension, else by content: a ZIP (an NPZ is one too) starts with PK; anything else is read as CSV."""
    suffix = Path(label).suffix.lower()
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    with path.open("rb") as file:
        return "zip" if file.read(2) == ZIP_MAGIC else "csv"


def _holds_arrays(archive: SafeZip) -> bool:
    """A ZIP of .npy files is an NPZ whatever its name: numpy.savez writes exactly that."""
    return bool(archive.files) and all(info.filename.endswith(".npy") for info in archive.files)


def _idx_zip(archive: SafeZip, idx_files: dict[str, str], options: dict, limits: UploadLimits, name: str,
             title: str, out: Arrays) -> Dataset:
    """MNIST or Fashion-MNIST uploaded as a ZIP of its four IDX files (the way in when the server can't
    download). The files are the same for both: the `dataset` option says which, else a name with "fashion"."""
    which = options.get("dataset") or ("fashion_mnist" if any("fashion" in entry.lower()
                                                              for entry in idx_files.values()) else "mnist")
    if which not in IDX_DATASETS:
        raise DatasetError(f"option 'dataset' must be one of {', '.join(IDX_DATASETS)}, got {which!r}")
    entries = {info.filename: info for info in archive.files}
    with ExitStack() as streams:
        sources = {file: (entry, streams.enter_context(archive.open(entries[entry])))
                   for file, entry in idx_files.items()}
        dataset = idx_dataset(which, sources, limits, out)
    return dataclasses.replace(dataset, name=name, title=title)
