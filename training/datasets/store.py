"""Where a loader puts a dataset's arrays: in memory, or written once as .npy files and mapped back from them.

An upload is parsed once, when it arrives, straight into X.npy and y.npy, a block of rows at a time, so the
server never holds the decoded dataset in memory. Every later use (training, previews, the fit check) maps
those files instead of parsing the upload again.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import Dataset

ARRAYS = ("X", "y")  # the files of a stored dataset: X.npy, y.npy


class Rows:
    """One array of a known shape and dtype, filled in order, a block of rows at a time."""

    def __init__(self, shape: tuple[int, ...], dtype, path: Path | None):
        self.shape, self.dtype, self.path, self.filled = tuple(int(n) for n in shape), np.dtype(dtype), path, 0
        if path is None:
            self._array, self._file = np.empty(self.shape, self.dtype), None
        else:
            self._array, self._file = None, open(path, "wb")  # noqa: SIM115 (closed by done(), or with the folder)
            np.lib.format.write_array_header_1_0(self._file, {"descr": np.lib.format.dtype_to_descr(self.dtype),
                                                              "fortran_order": False, "shape": self.shape})

    def put(self, block: np.ndarray) -> None:
        block = np.asarray(block)
        end = self.filled + len(block)
        if block.shape[1:] != self.shape[1:] or end > self.shape[0]:
            raise ValueError(f"rows of shape {block.shape} don't fit at row {self.filled} of {self.shape}")
        if self._file is None:
            self._array[self.filled:end] = block
        else:
            self._file.write(np.ascontiguousarray(block, dtype=self.dtype).data)
        self.filled = end

    def done(self) -> np.ndarray:
        if self.filled != self.shape[0]:
            raise ValueError(f"{self.filled} rows written of {self.shape[0]}")
        if self._file is None:
            return self._array
        self._file.close()
        return open_array(self.path)


class Arrays:
    """The destination of a loader's arrays: memory, or .npy files in `folder`."""

    def __init__(self, folder: Path | None = None):
        self.folder = None if folder is None else Path(folder)

    def rows(self, name: str, shape: tuple[int, ...], dtype) -> Rows:
        return Rows(shape, dtype, None if self.folder is None else self.folder / f"{name}.npy")

    def whole(self, name: str, array: np.ndarray) -> np.ndarray:
        """An array already in memory, as this destination holds it."""
        if self.folder is None:
            return array
        rows = self.rows(name, array.shape, array.dtype)
        rows.put(array)
        return rows.done()


def open_array(path: Path | str) -> np.ndarray:
    """A stored array, mapped rather than read: pages are read when touched. Copy-on-write, so it is writable
    (torch.from_numpy wants that) while the file stays as it is."""
    return np.load(path, mmap_mode="c", allow_pickle=False)


def stored_dataset(X: np.ndarray, y: np.ndarray, info: dict, name: str, title: str) -> Dataset:
    """A dataset from its stored arrays and the info recorded when it was parsed (Dataset.info())."""
    return Dataset(name=name, title=title, description=info.get("description", ""), X=X, y=y, task=info["task"],
                   classes=list(info["classes"]), kind=info["kind"], scaling=info.get("scaling", ""))
