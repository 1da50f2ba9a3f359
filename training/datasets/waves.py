"""Sequence tasks on periodic waves, each sample with its own random frequency and phase.

Sequences are (T, 1): T time steps of one feature, the layout recurrent layers read.
"""

from __future__ import annotations

import numpy as np

from .options import number, whole

MAX_SAMPLES = 100_000
MAX_STEPS = 1_000
WAVES = ["sine", "square", "sawtooth"]


def sine(seed: int, samples: int = 1000, steps: int = 32, noise: float = 0.05):
    """Forecasting: a noisy window of a sine wave; the target is the wave's next value."""
    rng, samples, steps, noise = _start(seed, samples, steps, noise)
    wave = np.sin(_angle(rng, samples, steps + 1))
    window = wave[:, :steps] + rng.normal(0.0, noise, (samples, steps))
    # The target is the clean value: noise can't be forecast, so a perfect model can reach zero loss.
    return window[:, :, None].astype(np.float32), wave[:, steps:].astype(np.float32), []


def sequences(seed: int, samples: int = 1000, steps: int = 32, noise: float = 0.1):
    """Classification: which wave shape a noisy sequence is (balanced classes, noise level random per sample)."""
    rng, samples, steps, noise = _start(seed, samples, steps, noise)
    y = rng.permutation(np.arange(samples) % len(WAVES)).astype(np.int64)
    angle = _angle(rng, samples, steps)
    shapes = np.stack([np.sin(angle), np.sign(np.sin(angle)), 2 * ((angle / (2 * np.pi)) % 1.0) - 1])
    wave = np.take_along_axis(shapes, y[None, :, None], axis=0)[0]
    level = rng.uniform(0.0, noise, (samples, 1))
    X = wave + level * rng.standard_normal((samples, steps))
    return X[:, :, None].astype(np.float32), y, list(WAVES)


def _start(seed: int, samples, steps, noise) -> tuple[np.random.Generator, int, int, float]:
    return (np.random.default_rng(seed), whole("samples", samples, 10, MAX_SAMPLES),
            whole("steps", steps, 2, MAX_STEPS), number("noise", noise, 0.0, 10.0))


def _angle(rng: np.random.Generator, samples: int, steps: int) -> np.ndarray:
    """Phase angles (samples, steps): a period of 10 to 50 steps and a random phase per sample."""
    frequency = rng.uniform(1 / 50, 1 / 10, (samples, 1))
    phase = rng.uniform(0.0, 2 * np.pi, (samples, 1))
    return 2 * np.pi * frequency * np.arange(steps) + phase
