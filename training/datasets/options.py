"""Checks on the options a user passes to a loader (from the API, the CLI or a form), naming the option."""

from __future__ import annotations

import math
from collections.abc import Iterable

from .base import DatasetError


def check_keys(options: dict, allowed: Iterable[str], what: str) -> None:
    allowed = sorted(allowed)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        takes = ", ".join(allowed) if allowed else "no options"
        raise DatasetError(f"unknown option {', '.join(map(repr, unknown))} for {what} (it takes {takes})")


def whole(name: str, value, low: int, high: int) -> int:
    """An integer option in [low, high]; 500.0 counts, since JSON numbers often arrive as floats."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise DatasetError(f"option '{name}' must be a whole number from {low:,} to {high:,}, got {value!r}")
    return value


def number(name: str, value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        raise DatasetError(f"option '{name}' must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)
