"""Small classic datasets that ship inside scikit-learn, so they load offline."""

from __future__ import annotations

import numpy as np
from sklearn import datasets as sk

from .features import standardize


def digits():
    """8×8 grayscale digit images, as (1, 8, 8) with pixel values scaled from 0..16 to [0, 1]."""
    bunch = sk.load_digits()
    X = (bunch.images[:, None] / 16.0).astype(np.float32)
    return X, bunch.target.astype(np.int64), [str(name) for name in bunch.target_names]


def iris():
    return _table(sk.load_iris())


def wine():
    return _table(sk.load_wine())


def breast_cancer():
    return _table(sk.load_breast_cancer())


def _table(bunch):
    return standardize(bunch.data), bunch.target.astype(np.int64), [str(name) for name in bunch.target_names]
