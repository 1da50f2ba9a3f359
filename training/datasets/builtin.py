"""The datasets that are always available: made on the spot or shipped with scikit-learn, never downloaded."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from . import classic, points, waves
from .base import Dataset, DatasetError
from .options import check_keys, whole


@dataclass(frozen=True)
class Builtin:
    title: str
    description: str
    kind: str
    task: str
    make: Callable  # (seed?, **options) -> (X, y, classes); takes `seed` only if its data is random
    scaling: str = "none: the values as generated"


STANDARDISED = "each feature standardised over the whole dataset: (value - mean) / standard deviation"

BUILTINS: dict[str, Builtin] = {
    "digits": Builtin("Digits (8×8)", "1,797 handwritten digits as 8×8 grayscale images, ten classes.",
                      "image", "classification", classic.digits,
                      "grayscale pixel values 0..16 divided by 16, to [0, 1]; white digits on black"),
    "iris": Builtin("Iris", "150 iris flowers, four measurements each, three species.",
                    "tabular", "classification", classic.iris, STANDARDISED),
    "wine": Builtin("Wine", "178 wines, thirteen chemical measurements each, three cultivars.",
                    "tabular", "classification", classic.wine, STANDARDISED),
    "breast_cancer": Builtin("Breast cancer", "569 tumour biopsies, thirty measurements each, malignant or "
                             "benign.", "tabular", "classification", classic.breast_cancer, STANDARDISED),
    "spirals": Builtin("Spirals", "Two interleaved spirals in the plane.", "points", "classification",
                       points.spirals),
    "moons": Builtin("Moons", "Two interlocking half circles in the plane.", "points", "classification",
                     points.moons),
    "circles": Builtin("Circles", "A circle inside a ring in the plane.", "points", "classification",
                       points.circles),
    "xor": Builtin("XOR", "Points in the four quadrants, labelled by whether their coordinates share a sign.",
                   "points", "classification", points.xor),
    "sine": Builtin("Sine forecasting", "Predict the next value of a sine wave from a noisy window of it.",
                    "sequence", "regression", waves.sine),
    "sequences": Builtin("Wave shapes", "Tell noisy sine, square and sawtooth waves apart.",
                         "sequence", "classification", waves.sequences),
}


def load_builtin(name: str, seed: int = 0, **options) -> Dataset:
    spec = BUILTINS.get(name)
    if spec is None:
        raise DatasetError(f"unknown dataset '{name}'; the built-in ones are {', '.join(BUILTINS)}")
    accepted = inspect.signature(spec.make).parameters
    check_keys(options, [option for option in accepted if option != "seed"], f"dataset '{name}'")
    if "seed" in accepted:
        options["seed"] = whole("seed", seed, 0, 2**32 - 1)
    X, y, classes = spec.make(**options)
    return Dataset(name=name, title=spec.title, description=spec.description, X=X, y=y, task=spec.task,
                   classes=classes, kind=spec.kind, scaling=spec.scaling)
