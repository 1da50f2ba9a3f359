"""Trying a run's model: its validation samples, its prediction for one input, what each node outputs for it
(the sample inspector), the validation samples it gets wrong and a regressor's predictions against the truth.

A finished run's model is its trained weights; a running (or stopped) run's is its latest epoch checkpoint.
"""

from __future__ import annotations

from functools import lru_cache

import torch
from django.conf import settings

from builder.graph import analyze

from . import probing, storage
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


class NoModel(LookupError):
    """The run has neither trained weights nor a checkpoint yet."""


def model_source(run: Run) -> str:
    """Which weights answer for this run: "final", or "epoch-<n>" (its latest checkpoint). NoModel if none."""
    if "state_dict.pt" in run.artifacts.get("files", {}):
        return "final"
    epochs = storage.checkpoint_epochs(run)
    if not epochs:
        raise NoModel(f"run {run.pk} has no trained model or checkpoint yet (it is {run.status})")
    return f"epoch-{epochs[-1]}"


@lru_cache(maxsize=8)
def _inspector(run_id: int, created: str, source: str) -> probing.Inspector:
    """A run's model at `source` (model_source), compiled with its probe; kept for a few runs (by id and creation
    time, as a test database gives the ids again)."""
    run = Run.objects.select_related("version").get(pk=run_id)
    analysis = analyze(run.graph, settings.GRAPH_LIMITS)
    model = build_model(analysis, 0)
    if source == "final":
        model.load_state_dict(storage.read_weights(run))
    else:
        model.load_state_dict(storage.read_checkpoint(run.checkpoint_path(int(source[6:])))["model"])
    return probing.Inspector(model.eval(), analysis)


def inspector(run: Run) -> tuple[probing.Inspector, str]:
    source = model_source(run)
    return _inspector(run.pk, str(run.created), source), source


def _validation(run: Run):
    """The run's dataset and its validation rows (all rows when it has no validation split)."""
    data = load_run_dataset(run.dataset, run.owner_id, run.config["seed"])
    _, val = split_indices(len(data.X), run.config)
    return data, (val if len(val) else torch.arange(len(data.X)))


def _class_name(data, label: int) -> str:
    return data.classes[label] if data.classes else str(label)


def misclassified(run: Run, limit: int) -> dict:
    """The validation samples the model gets wrong, the most confident mistakes first."""
    if run.dataset_info.get("task") != "classification":
        raise ValueError(f"run {run.pk} is a {run.dataset_info.get('task', 'regression')} run; only a "
                         "classifier misclassifies")
    found, source = inspector(run)
    data, val = _validation(run)
    x, y = torch.from_numpy(data.X[val.numpy()]), torch.from_numpy(data.y[val.numpy()])
    wrong, count = probing.misclassified(found.model, x, y, limit)
    return {"model": source, "validation": len(val), "wrong": count, "samples": [
        {"sample": w["index"], "x": probing.rounded(data.X[int(val[w["index"]])]),
         "true": _class_name(data, w["true"]), "predicted": _class_name(data, w["predicted"]),
         "confidence": w["confidence"]} for w in wrong]}


def regression_pairs(run: Run, limit: int) -> dict:
    """A regressor's first output against the truth over (up to `limit` of) the validation set."""
    if run.dataset_info.get("task") == "classification":
        raise ValueError(f"run {run.pk} is a classification run; its predictions are in the confusion matrix")
    found, source = inspector(run)
    data, val = _validation(run)
    rows = val[:limit].numpy()
    pairs = probing.regression_pairs(found.model, torch.from_numpy(data.X[rows]), torch.from_numpy(data.y[rows]),
                                     limit)
    return {"model": source, "validation": len(val), **pairs}


def inspect(run: Run, x=None, sample: int | None = None) -> dict:
    """What every node outputs for one input: `x` itself, or validation sample number `sample`."""
    found, source = inspector(run)
    label = None
    if sample is not None:
        data, val = _validation(run)
        if not 0 <= sample < len(val):
            raise ValueError(f"sample {sample} does not exist: the validation set has {len(val)} samples "
                             f"(0 to {len(val) - 1})")
        x = data.X[int(val[sample])]
        label = data.y[int(val[sample])]
        label = _class_name(data, int(label)) if data.classes else probing.rounded(label)
    tensor = _input_tensor(found.analysis, x)
    classification = run.dataset_info.get("task") == "classification"
    try:
        answer = {"model": source, **found.outputs(tensor, classification)}
    except (IndexError, RuntimeError) as exc:  # a token id past an Embedding's vocabulary, say
        raise ValueError(f"the model cannot compute this input: {exc}") from None
    if classification:
        answer["classes"] = run.dataset_info.get("classes") or [str(i) for i in range(len(answer["output"]))]
    if label is not None:
        answer["label"] = label
    return answer


def units(run: Run) -> dict:
    """Each unit's output over the input plane, for a network of two inputs whose layers have few units."""
    found, source = inspector(run)
    if not probing.two_feature_input(found.analysis):
        raise ValueError(f"run {run.pk}'s network does not take two numbers (a point in the plane): its units "
                         "cannot be drawn over the plane")
    data, _ = _validation(run)
    xs, ys = probing.plane(torch.from_numpy(data.X), probing.UNIT_GRID)
    return {"model": source, "x": xs, "y": ys, "nodes": probing.unit_maps(found, xs, ys)}


def _input_tensor(analysis, x) -> torch.Tensor:
    source = analysis.shapes[analysis.input_node]
    try:
        tensor = torch.as_tensor(x, dtype=getattr(torch, source.dtype))
    except (TypeError, ValueError, RuntimeError, OverflowError) as exc:
        raise ValueError(f"the input must be a nested list of numbers: {exc}") from None
    if tuple(tensor.shape) != source.shape:
        raise ValueError(f"the input has shape {list(tensor.shape)}; this model takes {list(source.shape)}")
    if not torch.isfinite(tensor.float()).all():
        raise ValueError("the input must not contain NaN or infinite values")
    return tensor


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
    tensor = _input_tensor(analysis, x)
    with torch.no_grad():
        output = model(tensor.unsqueeze(0))[0].float()
    if run.dataset_info.get("task") == "classification":
        probabilities = torch.softmax(output, 0)
        names = run.dataset_info.get("classes") or [str(i) for i in range(len(output))]
        return {"output": output.tolist(), "probabilities": probabilities.tolist(), "classes": names,
                "predicted": names[int(probabilities.argmax())]}
    return {"output": output.tolist()}
