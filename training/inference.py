"""Trying a finished run's model: its validation samples, and its prediction for one input."""

from __future__ import annotations

from functools import lru_cache

import torch
from django.conf import settings

from builder.graph import analyze

from . import storage
from .data import load_run_dataset, split_indices
from .engine import build_model
from .models import Run


@lru_cache(maxsize=8)
def _trained_model(run_id: int, finished: str):
    """A finished run's model, kept for a few runs so trying inputs one after another stays quick."""
    run = Run.objects.select_related("version").get(pk=run_id)
    analysis = analyze(run.graph, settings.GRAPH_LIMITS)
    model = build_model(analysis, 0)
    model.load_state_dict(storage.read_weights(run))
    return analysis, model.eval()


def samples(run: Run, n: int) -> list[dict]:
    """Up to n samples of the run's validation split, with their labels."""
    data = load_run_dataset(run.dataset, run.owner_id, run.config["seed"])
    _, val = split_indices(len(data.X), run.config)
    chosen = (val if len(val) else range(len(data.X)))[: max(1, min(n, 100))]
    return [{"x": data.X[i].tolist(), "label": data.classes[data.y[i]] if data.classes else data.y[i].tolist()}
            for i in map(int, chosen)]


def predict(run: Run, x) -> dict:
    """The model's output for one input; for a classifier also the class probabilities. ValueError names
    what is wrong with the input."""
    analysis, model = _trained_model(run.pk, str(run.finished))
    source = analysis.shapes[analysis.input_node]
    try:
        tensor = torch.tensor(x, dtype=getattr(torch, source.dtype))
    except (TypeError, ValueError, RuntimeError, OverflowError) as exc:
        raise ValueError(f"the input must be a nested list of numbers: {exc}") from None
    if tuple(tensor.shape) != source.shape:
        raise ValueError(f"the input has shape {list(tensor.shape)}; this model takes {list(source.shape)}")
    if not torch.isfinite(tensor.float()).all():
        raise ValueError("the input must not contain NaN or infinite values")
    with torch.no_grad():
        output = model(tensor.unsqueeze(0))[0].float()
    if run.dataset_info.get("task") == "classification":
        probabilities = torch.softmax(output, 0)
        names = run.dataset_info.get("classes") or [str(i) for i in range(len(output))]
        return {"output": output.tolist(), "probabilities": probabilities.tolist(), "classes": names,
                "predicted": names[int(probabilities.argmax())]}
    return {"output": output.tolist()}
