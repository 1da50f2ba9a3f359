"""MNIST and Fashion-MNIST from their standard IDX files, plain or gzipped.

The files come from a cache folder (downloaded into it once, when allowed) or from a user's ZIP upload.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import numpy as np

from .base import Dataset, DatasetError, UploadLimits
from .download import download as fetch

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
         0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class IdxSet:
    title: str
    description: str
    classes: tuple[str, ...]
    mirror: str  # base URL of the four .gz files


IDX_DATASETS = {
    "mnist": IdxSet("MNIST", "70,000 handwritten digits, 28×28 grayscale.", tuple("0123456789"),
                    "https://ossci-datasets.s3.amazonaws.com/mnist/"),
    "fashion_mnist": IdxSet("Fashion-MNIST", "70,000 photos of clothing in ten classes, 28×28 grayscale.",
                            ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                             "Bag", "Ankle boot"),
                            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
}


def read_idx(source: Path | str | bytes, *, name: str | None = None,
             max_bytes: int = UploadLimits.max_uncompressed_bytes) -> np.ndarray:
    """One IDX array, in native byte order. Reads no more than the header declares, so a gzip bomb stops
    at `max_bytes`."""
    if isinstance(source, bytes):
        label, data = name or "the IDX data", source
    else:
        label, data = name or str(source), _read(Path(source))
    stream = gzip.GzipFile(fileobj=io.BytesIO(data)) if data[:2] == GZIP_MAGIC else io.BytesIO(data)
    try:
        return _parse(stream, label, max_bytes)
    except (OSError, EOFError, zlib.error) as exc:  # only the gzip layer raises these
        raise DatasetError(f"{label} is not a valid gzip file: {exc}") from None


def _parse(stream: BinaryIO, label: str, max_bytes: int) -> np.ndarray:
    header = stream.read(4)
    if len(header) < 4 or header[:2] != b"\0\0":
        raise DatasetError(f"{label} is not an IDX file: it does not start with the IDX magic number "
                           "(two zero bytes, a type code, a dimension count)")
    code, ndim = header[2], header[3]
    dtype = TYPES.get(code)
    if dtype is None:
        known = ", ".join(f"0x{c:02X}" for c in TYPES)
        raise DatasetError(f"{label} has unknown IDX type code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise DatasetError(f"{label} declares no dimensions")
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise DatasetError(f"{label} ends inside its header ({ndim} dimensions declared)")
    dims = struct.unpack(f">{ndim}I", sizes)
    size = math.prod(dims) * dtype.itemsize
    if size > max_bytes:
        raise DatasetError(f"{label} declares shape {dims} ({size:,} bytes), over the limit of {max_bytes:,} "
                           "bytes (max_uncompressed_bytes)")
    body = stream.read(size + 1)  # one byte more than declared reveals trailing data
    if len(body) != size:
        how = "is shorter" if len(body) < size else "goes on longer"
        raise DatasetError(f"{label}: its header declares shape {dims} ({size:,} bytes of data) but the data {how}")
    array = np.frombuffer(body, dtype=dtype).reshape(dims)
    return array.astype(dtype.newbyteorder("="))


def find_idx_files(names: Iterable[str]) -> dict[str, str]:
    """Which of the four files are among `names` (paths in a folder or a ZIP): file -> name, plain preferred."""
    found = {}
    for entry in sorted(names, key=lambda n: n.endswith(".gz")):
        base = PurePosixPath(entry).name.removesuffix(".gz")
        if base in FILES and base not in found:
            found[base] = entry
    return found


def idx_dataset(name: str, sources: dict[str, tuple[str, bytes]],
                max_bytes: int = UploadLimits.max_uncompressed_bytes) -> Dataset:
    """The dataset from the four files' contents (file -> (label for messages, bytes)), train then test."""
    spec = IDX_DATASETS[name]
    arrays = {file: read_idx(data, name=label, max_bytes=max_bytes) for file, (label, data) in sources.items()}
    labels = {file: label for file, (label, _) in sources.items()}
    for part in ("train", "t10k"):
        _check_part(arrays, labels, part, len(spec.classes))
    train, test = arrays["train-images-idx3-ubyte"], arrays["t10k-images-idx3-ubyte"]
    if train.shape[1:] != test.shape[1:]:
        raise DatasetError(f"the training images are {_size(train)} but the test images are {_size(test)}")
    X = np.concatenate([train, test])[:, None].astype(np.float32) / np.float32(255)
    y = np.concatenate([arrays["train-labels-idx1-ubyte"], arrays["t10k-labels-idx1-ubyte"]]).astype(np.int64)
    return Dataset(name=name, title=spec.title, description=spec.description, X=X, y=y,
                   task="classification", classes=list(spec.classes), kind="image")


def _check_part(arrays: dict[str, np.ndarray], labels: dict[str, str], part: str, classes: int) -> None:
    image_file, label_file = f"{part}-images-idx3-ubyte", f"{part}-labels-idx1-ubyte"
    images, targets = arrays[image_file], arrays[label_file]
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DatasetError(f"{labels[image_file]} holds {images.dtype} values of shape {images.shape}; the "
                           "images must be unsigned bytes of shape (count, rows, columns)")
    if targets.ndim != 1 or targets.dtype.kind not in "iu":
        raise DatasetError(f"{labels[label_file]} holds {targets.dtype} values of shape {targets.shape}; the "
                           "labels must be integers of shape (count,)")
    if len(images) != len(targets):
        raise DatasetError(f"{labels[image_file]} has {len(images):,} images but {labels[label_file]} has "
                           f"{len(targets):,} labels")
    if len(targets) and (targets.min() < 0 or targets.max() >= classes):
        raise DatasetError(f"{labels[label_file]} has labels from {targets.min()} to {targets.max()}; "
                           f"they must be 0 to {classes - 1}")


def _size(images: np.ndarray) -> str:
    return "×".join(map(str, images.shape[1:]))


def load_idx_dataset(name: str, cache_dir: Path | str, download: bool = False) -> Dataset:
    spec = IDX_DATASETS.get(name)
    if spec is None:
        raise DatasetError(f"unknown IDX dataset '{name}'; known: {', '.join(IDX_DATASETS)}")
    folder = Path(cache_dir) / name
    found = find_idx_files(os.listdir(folder) if folder.is_dir() else [])
    missing = [f for f in FILES if f not in found]
    if missing and not download:
        raise DatasetError(f"{spec.title} is not available: {', '.join(missing)} (plain or .gz) not found in "
                           f"{folder}, and downloading is off. Upload a ZIP holding the four IDX files instead.")
    try:
        for file in missing:
            fetch(spec.mirror + file + ".gz", folder / (file + ".gz"))
            found[file] = file + ".gz"
    except DatasetError as exc:
        raise DatasetError(f"{exc}. Put the four IDX files in {folder}, or upload a ZIP holding them "
                           "instead.") from None
    return idx_dataset(name, {file: (str(folder / entry), _read(folder / entry)) for file, entry in found.items()})


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror}") from None
