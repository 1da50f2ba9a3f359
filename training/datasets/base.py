"""The dataset every loader returns, the error every loader raises, and the limits on uploads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TASKS = ("classification", "regression")
KINDS = ("image", "tabular", "points", "sequence", "tokens")


class DatasetError(ValueError):
    """Data a user supplied or asked for that cannot be loaded; the message says why, plainly."""


@dataclass(frozen=True)
class UploadLimits:
    """Bounds that keep one upload from exhausting the server's memory, disk or time.

    The two budgets are checked from the headers of everything in an upload before anything is decoded:
    `max_decoded_bytes` bounds the arrays the dataset becomes (after widening to float32 or int64 and joining
    the parts), `max_total_pixels` the pixels decoded from all its images together (each image at its own size,
    whatever size it is resized to)."""

    max_bytes: int = 50_000_000
    max_zip_entries: int = 100_000
    max_uncompressed_bytes: int = 500_000_000
    max_image_pixels: int = 4096 * 4096
    max_csv_rows: int = 1_000_000
    max_csv_columns: int = 1_000
    max_decoded_bytes: int = 1_000_000_000
    max_total_pixels: int = 200_000_000

    def check_budget(self, what: str, decoded_bytes: int, pixels: int = 0, fix: str = "") -> None:
        """Refuse, naming `what` (the files and what their headers declare), before decoding anything over budget.
        `fix`: what the user can change, if anything."""
        if pixels > self.max_total_pixels:
            raise DatasetError(f"{what}: {pixels:,} pixels to decode in all, over the limit of "
                               f"{self.max_total_pixels:,} pixels (max_total_pixels); upload fewer or smaller "
                               "images")
        if decoded_bytes > self.max_decoded_bytes:
            raise DatasetError(f"{what}: {decoded_bytes:,} bytes once decoded, over the limit of "
                               f"{self.max_decoded_bytes:,} bytes (max_decoded_bytes)" + (f"; {fix}" if fix else ""))


@dataclass
class Dataset:
    name: str
    title: str
    description: str
    X: np.ndarray  # float32 (N, *input_shape), or int64 token ids (N, T)
    y: np.ndarray  # int64 (N,) class indices, or float32 (N, *target_shape) regression targets
    task: str
    classes: list[str]
    kind: str
    # How raw inputs were turned into X, for whoever feeds the trained model ("pixel values 0..255 divided by 255").
    scaling: str = ""

    def __post_init__(self):
        # Loaders are the only producers; a broken one should fail here, not halfway through training.
        if self.task not in TASKS or self.kind not in KINDS:
            raise ValueError(f"task must be one of {TASKS} and kind one of {KINDS}, "
                             f"got {self.task!r} and {self.kind!r}")
        if len(self.X) != len(self.y):
            raise ValueError(f"X has {len(self.X)} samples but y has {len(self.y)}")

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.X.shape[1:])

    @property
    def input_dtype(self) -> str:
        return "int64" if self.X.dtype == np.int64 else "float32"

    @property
    def output_shape(self) -> tuple[int, ...]:
        if self.task == "classification":
            return (len(self.classes),)
        return tuple(self.y.shape[1:])

    def info(self) -> dict:
        return {"name": self.name, "title": self.title, "description": self.description,
                "task": self.task, "kind": self.kind, "classes": list(self.classes),
                "num_classes": len(self.classes), "input_shape": list(self.input_shape),
                "input_dtype": self.input_dtype, "output_shape": list(self.output_shape),
                "samples": len(self.X), "scaling": self.scaling}

    def preview(self, n: int = 8) -> dict:
        """A few samples spread over the whole set (uploads are often sorted by class), as plain JSON."""
        picks = np.unique(np.linspace(0, len(self.X) - 1, num=min(n, len(self.X))).astype(int))
        samples = [{"x": _plain(self.X[i]), "label": self._label(i)} for i in picks]
        counts = {}
        if self.task == "classification":
            tally = np.bincount(self.y, minlength=len(self.classes))
            counts = {name: int(count) for name, count in zip(self.classes, tally, strict=True)}
        return {"samples": samples, "class_counts": counts}

    def _label(self, i: int):
        if self.task == "classification":
            return self.classes[self.y[i]]
        return _plain(self.y[i])


def _plain(values: np.ndarray):
    if values.dtype.kind in "iu":
        return values.tolist()
    return np.round(values.astype(np.float64), 4).tolist()
