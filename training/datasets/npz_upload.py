"""An NPZ upload (arrays X and y, as numpy.savez writes them) as a dataset, without ever unpickling.

Both headers are read and the decoded size budgeted before any data is read; X is then read a block of rows at
a time."""

from __future__ import annotations

import math
import zipfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from .base import Dataset, DatasetError, UploadLimits
from .features import encode_labels
from .options import check_keys
from .safezip import SafeZip
from .store import Arrays

NUMERIC_KINDS = "biuf"  # bool, signed and unsigned integers, floats
MAX_DIMS = 4
FLOAT32_MAX = np.finfo(np.float32).max
KIND_BY_RANK = {2: "tabular", 3: "sequence", 4: "image"}  # (N, F), (N, T, F), (N, C, H, W)
LABEL_BYTES, FLOAT_BYTES = 8, 4  # class indices are int64, regression targets float32
BLOCK_BYTES = 4_000_000  # X is read and converted this much at a time


def load_npz(archive: SafeZip, options: dict, limits: UploadLimits, name: str, title: str,
             out: Arrays | None = None) -> Dataset:
    check_keys(options, ("tokens",), "an NPZ upload")
    out, tokens = out or Arrays(), bool(options.get("tokens"))
    members = {info.filename.removesuffix(".npy"): info for info in archive.files}
    for key in ("X", "y"):
        if key not in members:
            raise DatasetError(f"the NPZ file has no array '{key}' (it has {', '.join(sorted(members)) or 'none'}); "
                               "save the features as X and the targets as y")
    with archive.open(members["X"]) as x_stream, archive.open(members["y"]) as y_stream:
        X, y = _header(x_stream, "X"), _header(y_stream, "y")
        for array, least in ((X, 2), (y, 1)):
            if len(array.shape) < least:
                raise DatasetError(f"{array.key} has shape {array.shape}; it needs at least {least} dimensions, the "
                                   "first one counting samples")
        if X.shape[0] != y.shape[0]:
            raise DatasetError(f"X has {X.shape[0]:,} samples but y has {y.shape[0]:,}")
        if X.shape[0] == 0:
            raise DatasetError("X and y hold no samples")
        if tokens and (X.dtype.kind not in "iu" or len(X.shape) != 2):
            raise DatasetError(f"with the option 'tokens', X must hold integer token ids of shape (N, T); it holds "
                               f"{X.dtype} values of shape {X.shape}")
        count = X.shape[0]
        x_dtype = np.dtype(np.int64 if tokens else np.float32)
        y_bytes = count * LABEL_BYTES if y.dtype.kind != "f" else math.prod(y.shape) * FLOAT_BYTES
        limits.check_budget(f"the NPZ's arrays X {X.shape} of {X.dtype} and y {y.shape} of {y.dtype}",
                            math.prod(X.shape) * x_dtype.itemsize + y_bytes)
        if y.dtype.kind != "f" and len(y.shape) != 1:
            raise DatasetError(f"integer y holds class labels, so it must have shape (N,); it has shape {y.shape}")
        values = y.read()
        rows = out.rows("X", X.shape, x_dtype)
        for block in X.blocks(max(1, BLOCK_BYTES // max(1, X.row_bytes))):
            if tokens and block.min() < 0:
                raise DatasetError(f"X holds the negative token id {block.min()}; token ids start at 0")
            rows.put(block.astype(x_dtype))
        targets, task, classes = _targets(values)
    kind = "tokens" if tokens else KIND_BY_RANK[len(X.shape)]
    description = f"{count:,} samples of shape {X.shape[1:]}, {task}"
    return Dataset(name=name, title=title, description=description, X=rows.done(), y=out.whole("y", targets),
                   task=task, classes=classes, kind=kind, scaling="none: X as uploaded")


class _Npy:
    """One .npy member with its header read and checked; its data is read only when asked for."""

    def __init__(self, stream: BinaryIO, key: str, shape: tuple[int, ...], fortran: bool, dtype: np.dtype):
        self.stream, self.key, self.shape, self.fortran, self.dtype = stream, key, shape, fortran, dtype
        self.row_bytes = math.prod(shape[1:]) * dtype.itemsize

    def blocks(self, rows: int) -> Iterator[np.ndarray]:
        """The array a block of rows at a time; each block checked."""
        if self.fortran:  # column-major: no row is contiguous, so it is read whole (it is at most the ZIP's size)
            yield self._checked(self._data(math.prod(self.shape)).reshape(self.shape[::-1]).T)
            return
        left = self.shape[0]
        while left:
            n = min(left, rows)
            yield self._checked(self._data(n * math.prod(self.shape[1:])).reshape((n, *self.shape[1:])))
            left -= n

    def read(self) -> np.ndarray:
        return np.concatenate(list(self.blocks(max(1, self.shape[0]))))

    def _data(self, count: int) -> np.ndarray:
        size = count * self.dtype.itemsize
        try:
            data = self.stream.read(size)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise DatasetError(f"array '{self.key}' is damaged: {exc}") from None
        if len(data) < size:
            raise DatasetError(f"array '{self.key}' is damaged: its header declares shape {self.shape} of "
                               f"{self.dtype} but the data is shorter")
        return np.frombuffer(data, dtype=self.dtype, count=count)

    def _checked(self, values: np.ndarray) -> np.ndarray:
        # NaN fails the comparison too; values past float32's range would turn infinite when cast.
        if self.dtype.kind == "f" and not (np.abs(values) <= FLOAT32_MAX).all():
            raise DatasetError(f"array '{self.key}' contains NaN, infinite values, or values too large for float32")
        return values


def _header(stream: BinaryIO, key: str) -> _Npy:
    """The member's .npy header, checked before any of its data is read."""
    try:
        version = np.lib.format.read_magic(stream)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
            np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(stream)
    except (ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DatasetError(f"array '{key}' is not a readable .npy array: {exc}") from None
    if dtype.hasobject:
        raise DatasetError(f"array '{key}' holds Python objects, which would have to be unpickled; "
                           "only numeric arrays are accepted")
    if dtype.kind not in NUMERIC_KINDS:
        raise DatasetError(f"array '{key}' holds {dtype} values; only numeric arrays are accepted")
    if len(shape) > MAX_DIMS:
        raise DatasetError(f"array '{key}' has shape {shape}; at most {MAX_DIMS} dimensions are accepted")
    return _Npy(stream, key, shape, fortran, dtype)


def _targets(y: np.ndarray) -> tuple[np.ndarray, str, list[str]]:
    if y.dtype.kind == "f":
        y = y.astype(np.float32)
        return (y[:, None] if y.ndim == 1 else y), "regression", []  # one target value is shape (1,)
    if y.ndim != 1:
        raise DatasetError(f"integer y holds class labels, so it must have shape (N,); it has shape {y.shape}")
    codes, classes = encode_labels(y)
    if len(classes) < 2:
        raise DatasetError(f"y has a single class ({classes[0]}); classification needs at least two")
    return codes, "classification", classes
