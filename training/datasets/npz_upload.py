"""An NPZ upload (arrays X and y, as numpy.savez writes them) as a dataset, without ever unpickling."""

from __future__ import annotations

import io
import zipfile

import numpy as np

from .base import Dataset, DatasetError
from .features import encode_labels
from .options import check_keys
from .safezip import SafeZip

NUMERIC_KINDS = "biuf"  # bool, signed and unsigned integers, floats
MAX_DIMS = 4
FLOAT32_MAX = np.finfo(np.float32).max
KIND_BY_RANK = {2: "tabular", 3: "sequence", 4: "image"}  # (N, F), (N, T, F), (N, C, H, W)


def load_npz(archive: SafeZip, options: dict, name: str, title: str) -> Dataset:
    check_keys(options, ("tokens",), "an NPZ upload")
    members = {info.filename.removesuffix(".npy"): info for info in archive.files}
    for key in ("X", "y"):
        if key not in members:
            raise DatasetError(f"the NPZ file has no array '{key}' (it has {', '.join(sorted(members)) or 'none'}); "
                               "save the features as X and the targets as y")
    X, y = (_array(archive, members[key], key) for key in ("X", "y"))
    for key, array, least in (("X", X, 2), ("y", y, 1)):
        if array.ndim < least:
            raise DatasetError(f"{key} has shape {array.shape}; it needs at least {least} dimensions, the first "
                               "one counting samples")
    if len(X) != len(y):
        raise DatasetError(f"X has {len(X):,} samples but y has {len(y):,}")
    if len(X) == 0:
        raise DatasetError("X and y hold no samples")
    X, kind = _inputs(X, bool(options.get("tokens")))
    y, task, classes = _targets(y)
    description = f"{len(X):,} samples of shape {X.shape[1:]}, {task}"
    return Dataset(name=name, title=title, description=description, X=X, y=y, task=task, classes=classes,
                   kind=kind)


def _array(archive: SafeZip, info: zipfile.ZipInfo, key: str) -> np.ndarray:
    """One array, its header read and checked before its data is."""
    stream = io.BytesIO(archive.read(info))
    try:
        version = np.lib.format.read_magic(stream)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
            np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(stream)
    except ValueError as exc:
        raise DatasetError(f"array '{key}' is not a readable .npy array: {exc}") from None
    if dtype.hasobject:
        raise DatasetError(f"array '{key}' holds Python objects, which would have to be unpickled; "
                           "only numeric arrays are accepted")
    if dtype.kind not in NUMERIC_KINDS:
        raise DatasetError(f"array '{key}' holds {dtype} values; only numeric arrays are accepted")
    if len(shape) > MAX_DIMS:
        raise DatasetError(f"array '{key}' has shape {shape}; at most {MAX_DIMS} dimensions are accepted")
    stream.seek(0)
    try:
        array = np.load(stream, allow_pickle=False)
    except (ValueError, EOFError) as exc:
        raise DatasetError(f"array '{key}' is damaged: {exc}") from None
    # NaN fails the comparison too; values past float32's range would turn infinite when cast.
    if dtype.kind == "f" and not (np.abs(array) <= FLOAT32_MAX).all():
        raise DatasetError(f"array '{key}' contains NaN, infinite values, or values too large for float32")
    return array


def _inputs(X: np.ndarray, tokens: bool) -> tuple[np.ndarray, str]:
    if not tokens:
        return X.astype(np.float32), KIND_BY_RANK[X.ndim]
    if X.dtype.kind not in "iu" or X.ndim != 2:
        raise DatasetError(f"with the option 'tokens', X must hold integer token ids of shape (N, T); it holds "
                           f"{X.dtype} values of shape {X.shape}")
    if X.min() < 0:
        raise DatasetError(f"X holds the negative token id {X.min()}; token ids start at 0")
    return X.astype(np.int64), "tokens"


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
