"""Encodings shared by the tabular loaders: standardised features and class labels."""

from __future__ import annotations

import numpy as np


def standardize(X: np.ndarray) -> np.ndarray:
    """Zero mean and unit variance per column, as float32; a constant column carries no signal, so it becomes 0."""
    X = X.astype(np.float64)
    std = X.std(axis=0)
    flat = std == 0
    scaled = (X - X.mean(axis=0)) / np.where(flat, 1.0, std)
    scaled[:, flat] = 0.0
    return scaled.astype(np.float32)


def encode_labels(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Class indices 0..K-1 in sorted order of the distinct values, and the values' names."""
    distinct, codes = np.unique(values, return_inverse=True)
    return codes.astype(np.int64).reshape(-1), [label_name(v) for v in distinct]


def label_name(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))  # a numeric column reads 3 as 3.0; its class is "3"
    return str(value)
