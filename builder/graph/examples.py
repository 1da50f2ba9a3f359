"""Example graphs that ship with the app: a user can start from any of them."""

from __future__ import annotations

import json
from pathlib import Path

FOLDER = Path(__file__).with_name("examples")
ORDER = ("seed_cnn", "lstm_classifier", "residual_cnn", "text_classifier", "digits_cnn")


def _load(slug: str) -> dict:
    graph = json.loads((FOLDER / f"{slug}.json").read_text())
    return {"slug": slug, "name": graph["name"], "description": graph.get("description", ""), "graph": graph}


EXAMPLES: dict[str, dict] = {slug: _load(slug) for slug in ORDER}
