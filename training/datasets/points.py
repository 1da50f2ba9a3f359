"""Two-class point clouds in the plane, in the spirit of TensorFlow Playground.

Each maker takes a seed, a sample count and the standard deviation of Gaussian noise added to the points,
and returns (X float32 (N, 2), y int64 (N,), class names). Classes are balanced and their order shuffled.
"""

from __future__ import annotations

import numpy as np

from .options import number, whole

MAX_SAMPLES = 1_000_000


def spirals(seed: int, samples: int = 1000, noise: float = 0.05):
    rng, y, noise = _start(seed, samples, noise)
    radius = rng.uniform(0.05, 1.0, len(y))
    angle = radius * 1.75 * 2 * np.pi + y * np.pi  # the second spiral is the first turned half a turn
    return _finish(rng, radius[:, None] * _unit(angle), y, noise, ["spiral A", "spiral B"])


def moons(seed: int, samples: int = 1000, noise: float = 0.1):
    rng, y, noise = _start(seed, samples, noise)
    upper = _unit(rng.uniform(0, np.pi, len(y)))
    lower = np.array([1.0, 0.5]) - upper  # the same half circle flipped and slid into the first one's gap
    points = np.where(y[:, None] == 0, upper, lower) - np.array([0.5, 0.25])
    return _finish(rng, points, y, noise, ["upper moon", "lower moon"])


def circles(seed: int, samples: int = 1000, noise: float = 0.05):
    rng, y, noise = _start(seed, samples, noise)
    radius = np.where(y == 0, 1.0, 0.5)
    points = radius[:, None] * _unit(rng.uniform(0, 2 * np.pi, len(y)))
    return _finish(rng, points, y, noise, ["outer circle", "inner circle"])


def xor(seed: int, samples: int = 1000, noise: float = 0.05):
    rng, y, noise = _start(seed, samples, noise)
    # Kept off the axes, as in the Playground, so that the noise-free classes do not touch.
    magnitude = rng.uniform(0.05, 1.0, (len(y), 2))
    first = rng.choice([-1.0, 1.0], len(y))
    signs = np.stack([first, np.where(y == 0, first, -first)], axis=1)
    return _finish(rng, magnitude * signs, y, noise, ["same signs", "opposite signs"])


def _start(seed: int, samples, noise) -> tuple[np.random.Generator, np.ndarray, float]:
    samples = whole("samples", samples, 10, MAX_SAMPLES)
    noise = number("noise", noise, 0.0, 10.0)
    rng = np.random.default_rng(seed)
    return rng, rng.permutation(np.arange(samples) % 2).astype(np.int64), noise


def _unit(angle: np.ndarray) -> np.ndarray:
    return np.stack([np.cos(angle), np.sin(angle)], axis=1)


def _finish(rng: np.random.Generator, points: np.ndarray, y: np.ndarray, noise: float, classes: list[str]):
    return (points + rng.normal(0.0, noise, points.shape)).astype(np.float32), y, classes
