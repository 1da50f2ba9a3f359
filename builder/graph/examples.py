"""Example graphs that ship with the app: a user can start from any of them."""

from __future__ import annotations

import json
from pathlib import Path

FOLDER = Path(__file__).with_name("examples")
ORDER = ("seed_cnn", "lstm_classifier", "residual_cnn", "text_classifier", "digits_cnn", "vit_tiny", "unet_digits",
         "mobilenet_se", "text_transformer")

# The training settings an example's description recommends (the rest are the defaults: Adam, no schedule).
# bench/example_accuracy.py trains each example with them, and the tests check that the descriptions say so.
RECOMMENDED: dict[str, dict] = {
    "digits_cnn": {"epochs": 10, "batch_size": 32, "lr": 0.001},
    "vit_tiny": {"epochs": 30, "batch_size": 64, "lr": 0.002},
    "unet_digits": {"epochs": 20, "batch_size": 32, "lr": 0.002},
    "mobilenet_se": {"epochs": 15, "batch_size": 32, "lr": 0.002},
    "text_transformer": {"epochs": 6, "batch_size": 32, "lr": 0.003},
}


def _load(slug: str) -> dict:
    graph = json.loads((FOLDER / f"{slug}.json").read_text())
    return {"slug": slug, "name": graph["name"], "description": graph.get("description", ""), "graph": graph}


EXAMPLES: dict[str, dict] = {slug: _load(slug) for slug in ORDER}
