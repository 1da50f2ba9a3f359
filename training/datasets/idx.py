"""MNIST and Fashion-MNIST from their standard IDX files, plain or gzipped.

The files come from a cache folder (downloaded into it once, when allowed) or from a user's ZIP upload.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import urlsplit

import numpy as np

from .base import Dataset, DatasetError, UploadLimits
from .download import DownloadFailed
from .download import download as fetch
from .store import Arrays

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
         0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
GZIP_MAGIC = b"\x1f\x8b"
PARTS = ("train", "t10k")
SCALING = "grayscale pixel values 0..255 divided by 255, to [0, 1]; white digits or clothes on black"
IMAGE_BLOCK_PIXELS = 1_000_000  # pixels decoded at a time: memory stays flat whatever the image count


@dataclass(frozen=True)
class IdxSet:
    title: str
    description: str
    classes: tuple[str, ...]
    mirror: str  # base URL of the four .gz files

    def info(self, name: str) -> dict:
        """What Dataset.info() says of it, known without its files: 28×28 grayscale images in ten classes."""
        return {"name": name, "title": self.title, "description": self.description, "task": "classification",
                "kind": "image", "classes": list(self.classes), "num_classes": len(self.classes),
                "input_shape": [1, 28, 28], "input_dtype": "float32", "output_shape": [len(self.classes)],
                "scaling": SCALING}


IDX_DATASETS = {
    "mnist": IdxSet("MNIST", "70,000 handwritten digits, 28×28 grayscale.", tuple("0123456789"),
                    "https://ossci-datasets.s3.amazonaws.com/mnist/"),
    "fashion_mnist": IdxSet("Fashion-MNIST", "70,000 photos of clothing in ten classes, 28×28 grayscale.",
                            ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                             "Bag", "Ankle boot"),
                            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
}


@dataclass
class IdxArray:
    """An IDX file with its header read: what it declares, and the stream positioned at its data."""

    label: str
    dims: tuple[int, ...]
    dtype: np.dtype
    stream: BinaryIO

    @property
    def count(self) -> int:
        return self.dims[0]

    def blocks(self, rows: int) -> Iterator[np.ndarray]:
        """The data, `rows` rows (along the first dimension) at a time, in native byte order. Reads no more than
        the header declares, and checks that the data is exactly that long."""
        row_bytes = math.prod(self.dims[1:]) * self.dtype.itemsize
        size, left = self.count * row_bytes, self.count
        try:
            while left:
                n = min(left, max(1, rows))
                body = _read_exactly(self.stream, n * row_bytes)
                if len(body) < n * row_bytes:
                    self._wrong_length(size, "is shorter")
                yield np.frombuffer(body, dtype=self.dtype).reshape((n, *self.dims[1:])).astype(
                    self.dtype.newbyteorder("="))
                left -= n
            if self.stream.read(1):  # one byte more than declared reveals trailing data
                self._wrong_length(size, "goes on longer")
        except zipfile.BadZipFile as exc:  # a ZIP member whose checksum fails
            raise DatasetError(f"{self.label} in the ZIP is damaged: {exc}") from None
        except (OSError, EOFError, zlib.error) as exc:  # only the gzip layer raises these
            raise DatasetError(f"{self.label} is not a valid gzip file: {exc}") from None

    def read(self) -> np.ndarray:
        return np.concatenate(list(self.blocks(self.count))) if self.count else \
            np.empty(self.dims, self.dtype.newbyteorder("="))

    def _wrong_length(self, size: int, how: str):
        raise DatasetError(f"{self.label}: its header declares shape {self.dims} ({size:,} bytes of data) but the "
                           f"data {how}")


def read_idx(source: Path | str | bytes, *, name: str | None = None,
             max_bytes: int = UploadLimits.max_uncompressed_bytes) -> np.ndarray:
    """One IDX array, in native byte order. Reads no more than the header declares, so a gzip bomb stops
    at `max_bytes`."""
    if isinstance(source, bytes):
        label, data = name or "the IDX data", source
    else:
        label, data = name or str(source), _read(Path(source))
    return open_idx(io.BytesIO(data), label, max_bytes).read()


def open_idx(raw: BinaryIO, label: str, max_bytes: int) -> IdxArray:
    """The IDX file in `raw` (plain or gzipped, seekable) with only its header read and checked."""
    try:
        magic = raw.read(2)
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw) if magic == GZIP_MAGIC else raw
        dims, dtype = _header(stream, label, max_bytes)
    except zipfile.BadZipFile as exc:
        raise DatasetError(f"{label} in the ZIP is damaged: {exc}") from None
    except (OSError, EOFError, zlib.error) as exc:  # only the gzip layer raises these
        raise DatasetError(f"{label} is not a valid gzip file: {exc}") from None
    return IdxArray(label, dims, dtype, stream)


def _header(stream: BinaryIO, label: str, max_bytes: int) -> tuple[tuple[int, ...], np.dtype]:
    header = _read_exactly(stream, 4)
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
    sizes = _read_exactly(stream, 4 * ndim)
    if len(sizes) < 4 * ndim:
        raise DatasetError(f"{label} ends inside its header ({ndim} dimensions declared)")
    dims = struct.unpack(f">{ndim}I", sizes)
    size = math.prod(dims) * dtype.itemsize
    if size > max_bytes:
        raise DatasetError(f"{label} declares shape {dims} ({size:,} bytes), over the limit of {max_bytes:,} "
                           "bytes (max_uncompressed_bytes)")
    return dims, dtype


def _read_exactly(stream: BinaryIO, n: int) -> bytes:
    """n bytes, or fewer only at the end of the stream."""
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def find_idx_files(names: Iterable[str]) -> dict[str, str]:
    """Which of the four files are among `names` (paths in a folder or a ZIP): file -> name, plain preferred."""
    found = {}
    for entry in sorted(names, key=lambda n: n.endswith(".gz")):
        base = PurePosixPath(entry).name.removesuffix(".gz")
        if base in FILES and base not in found:
            found[base] = entry
    return found


def idx_dataset(name: str, sources: dict[str, tuple[str, BinaryIO]], limits: UploadLimits = UploadLimits(),
                out: Arrays | None = None) -> Dataset:
    """The dataset from the four files (file -> (label for messages, seekable stream)), train then test. Every
    header is read and the whole dataset budgeted (`limits`) before any image is decoded; the images are then
    decoded a block at a time into `out`."""
    spec, out = IDX_DATASETS[name], out or Arrays()
    files = {file: open_idx(stream, label, limits.max_uncompressed_bytes) for file, (label, stream) in sources.items()}
    images = {part: files[f"{part}-images-idx3-ubyte"] for part in PARTS}
    labels = {part: files[f"{part}-labels-idx1-ubyte"] for part in PARTS}
    for part in PARTS:
        _check_part(images[part], labels[part])
    train, test = images["train"], images["t10k"]
    if train.dims[1:] != test.dims[1:]:
        raise DatasetError(f"the training images are {_size(train.dims)} but the test images are {_size(test.dims)}")
    count, pixels = train.count + test.count, math.prod(train.dims[1:])
    limits.check_budget(f"{train.label} and {test.label} declare {count:,} images of {_size(train.dims)}",
                        count * pixels * 4 + count * 8, count * pixels)
    y = np.concatenate([_labels(labels[part], len(spec.classes)) for part in PARTS])
    X = out.rows("X", (count, 1, *train.dims[1:]), np.float32)
    for part in PARTS:
        for block in images[part].blocks(max(1, IMAGE_BLOCK_PIXELS // max(1, pixels))):
            values = block[:, None].astype(np.float32)
            values /= np.float32(255)
            X.put(values)
    return Dataset(name=name, title=spec.title, description=spec.description, X=X.done(), y=out.whole("y", y),
                   task="classification", classes=list(spec.classes), kind="image", scaling=SCALING)


def _check_part(images: IdxArray, labels: IdxArray) -> None:
    """From the headers: the images are bytes of shape (count, rows, columns), one integer label each."""
    if len(images.dims) != 3 or images.dtype != np.uint8:
        raise DatasetError(f"{images.label} holds {images.dtype.newbyteorder('=')} values of shape {images.dims}; "
                           "the images must be unsigned bytes of shape (count, rows, columns)")
    if len(labels.dims) != 1 or labels.dtype.kind not in "iu":
        raise DatasetError(f"{labels.label} holds {labels.dtype.newbyteorder('=')} values of shape {labels.dims}; "
                           "the labels must be integers of shape (count,)")
    if images.count != labels.count:
        raise DatasetError(f"{images.label} has {images.count:,} images but {labels.label} has "
                           f"{labels.count:,} labels")


def _labels(labels: IdxArray, classes: int) -> np.ndarray:
    targets = labels.read()
    if len(targets) and (targets.min() < 0 or targets.max() >= classes):
        raise DatasetError(f"{labels.label} has labels from {targets.min()} to {targets.max()}; "
                           f"they must be 0 to {classes - 1}")
    return targets.astype(np.int64)


def _size(dims: tuple[int, ...]) -> str:
    return "×".join(map(str, dims[1:]))


def idx_cached(name: str, cache_dir: Path | str) -> bool:
    """Whether all four files of an IDX dataset are in the cache folder (plain or .gz)."""
    folder = Path(cache_dir) / name
    return folder.is_dir() and len(find_idx_files(os.listdir(folder))) == len(FILES)


def load_idx_dataset(name: str, cache_dir: Path | str, download: bool = False, mirror: str | None = None) -> Dataset:
    """From the four files in `cache_dir`/`name`, downloaded first when missing and `download` is on, from
    `mirror` (a base URL) or the dataset's usual host."""
    spec = IDX_DATASETS.get(name)
    if spec is None:
        raise DatasetError(f"unknown IDX dataset '{name}'; known: {', '.join(IDX_DATASETS)}")
    folder = Path(cache_dir) / name
    found = find_idx_files(os.listdir(folder) if folder.is_dir() else [])
    missing = [f for f in FILES if f not in found]
    if missing and not download:
        raise DatasetError(f"{spec.title} is not available: {', '.join(missing)} (plain or .gz) not found in "
                           f"{folder}, and downloading is off. Upload a ZIP holding the four IDX files instead.")
    base = mirror or spec.mirror
    try:
        for file in missing:
            fetch(base + file + ".gz", folder / (file + ".gz"))
            found[file] = file + ".gz"
    except DownloadFailed as exc:
        # Said plainly: the usual cause is a server without internet access, and the way out is an upload.
        raise DownloadFailed(exc.url, exc.reason, (
            f"The server could not download {spec.title} from {urlsplit(base).netloc or base} ({exc.reason}): it "
            f"may have no internet access. Upload the same data instead: under \"Upload your own data\", a ZIP "
            f"holding the four IDX files ({', '.join(FILES)}, plain or .gz), as {base} serves them.")) from None
    except DatasetError as exc:
        raise DatasetError(f"{exc}. Put the four IDX files in {folder}, or upload a ZIP holding them "
                           "instead.") from None
    with ExitStack() as files:
        return idx_dataset(name, {file: (str(folder / entry), files.enter_context(_open(folder / entry)))
                                  for file, entry in found.items()})


def _read(path: Path) -> bytes:
    with _open(path) as file:
        return file.read()


def _open(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror}") from None
