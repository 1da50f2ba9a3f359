"""Looking inside a trained model: what every node outputs for one input, the first convolution's filters, the
validation samples it gets wrong, its predictions against the truth, and a classifier's decision over the input
plane of a two-feature dataset.

Everything is kept small enough to send as JSON: feature maps are capped in channels and downsampled, sequences
and vectors capped in length, values rounded. Plain PyTorch, no Django.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from builder.graph import Analysis
from builder.graph.codegen import compile_probe, python_names

MAX_CHANNELS = 8  # feature maps shown per node
MAX_SIDE = 28  # a feature map is pooled down to at most this many pixels a side
MAX_SEQUENCE = 64  # time steps and features of a sequence heat map
MAX_VECTOR = 256  # values of a vector's bars
MAX_FILTERS = 16  # of the first Conv2d
GRID = 40  # cells a side of a decision-boundary map
DIGITS = 4  # significant digits sent


def rounded(array: np.ndarray) -> list:
    """Rounded to DIGITS significant digits, as nested lists; NaN and infinities become None (JSON has none)."""
    array = np.asarray(array, dtype=np.float64)
    finite = np.isfinite(array)
    scale = np.where(finite & (array != 0), 10.0 ** (DIGITS - 1 - np.floor(np.log10(np.abs(np.where(
        finite & (array != 0), array, 1.0))))), 1.0)
    values = np.where(finite, np.round(array * scale) / scale, np.nan)
    return np.where(finite, values, None).tolist()


def describe_output(value: torch.Tensor) -> dict:
    """One node's output for one sample (without the batch dimension), as something to draw."""
    out = value.detach().float()
    shape = list(out.shape)
    if out.dim() == 3:  # C×H×W: a grid of feature maps
        maps = out[:MAX_CHANNELS]
        height, width = maps.shape[1:]
        if max(height, width) > MAX_SIDE:
            maps = F.adaptive_avg_pool2d(maps.unsqueeze(0), (min(height, MAX_SIDE), min(width, MAX_SIDE)))[0]
        return {"kind": "maps", "shape": shape, "channels": len(out), "values": rounded(maps.numpy())}
    if out.dim() == 2:  # T×F: a heat map
        return {"kind": "sequence", "shape": shape, "values": rounded(out[:MAX_SEQUENCE, :MAX_SEQUENCE].numpy())}
    if out.dim() == 1:
        return {"kind": "vector", "shape": shape, "values": rounded(out[:MAX_VECTOR].numpy())}
    if out.dim() == 0:
        return {"kind": "vector", "shape": shape, "values": rounded(out.reshape(1).numpy())}
    return {"kind": "vector", "shape": shape, "values": rounded(out.flatten()[:MAX_VECTOR].numpy())}


class Inspector:
    """Per-node outputs of one compiled model for single inputs: compiled once, asked many times."""

    def __init__(self, model: nn.Module, analysis: Analysis):
        self.model, self.analysis = model.eval(), analysis
        self.probe = compile_probe(analysis)
        self.types = {node_id: node.type for node_id, node in analysis.graph.nodes.items()}
        self._filters = first_conv_filters(model, analysis)

    def outputs(self, x: torch.Tensor, classification: bool) -> dict:
        """{"nodes": {node_id: drawing}, "output": [...], "probabilities": [...] (a classifier's)} for one input."""
        nodes: dict[str, dict] = {}
        final: list[torch.Tensor] = []

        def tap(node_id: str, value: torch.Tensor) -> None:
            if value.is_floating_point() or node_id == self.analysis.input_node:
                nodes[node_id] = {"type": self.types[node_id], **describe_output(value[0])}

        with torch.no_grad():
            self.probe(self.model, x.unsqueeze(0), tap)
            final.append(self.model(x.unsqueeze(0))[0].float())
        output = final[0]
        answer = {"nodes": nodes, "output": rounded(output.flatten()[:MAX_VECTOR].numpy())}
        if classification and output.dim() == 1:
            answer["probabilities"] = rounded(torch.softmax(output, 0).numpy())
        if self._filters is not None:
            answer["filters"] = self._filters
        return answer


def first_conv_filters(model: nn.Module, analysis: Analysis) -> dict | None:
    """The learned filters of the first Conv2d the model computes: up to MAX_FILTERS kernels, each averaged over
    its input channels when it has several."""
    names = python_names(list(analysis.graph.nodes))
    for node_id in analysis.order:
        if analysis.graph.nodes[node_id].type != "Conv2d":
            continue
        layer = getattr(model, names[node_id], None)
        weight = getattr(layer, "weight", None)
        if weight is None or weight.dim() != 4:
            return None
        kernels = weight.detach().float()[:MAX_FILTERS].mean(dim=1)
        return {"node": node_id, "count": int(weight.shape[0]), "in_channels": int(weight.shape[1]),
                "values": rounded(kernels.cpu().numpy())}
    return None


@torch.no_grad()
def predict_all(model: nn.Module, x: torch.Tensor, batch: int = 1024) -> torch.Tensor:
    """The model's outputs for every row of x, in eval mode, batched."""
    model.eval()
    return torch.cat([model(x[i:i + batch]).float() for i in range(0, len(x), batch)]) if len(x) else torch.empty(0)


def misclassified(model: nn.Module, x: torch.Tensor, y: torch.Tensor, limit: int) -> tuple[list[dict], int]:
    """The samples a classifier gets wrong, the most confident mistakes first: ([{index, true, predicted,
    confidence}], how many it gets wrong); `index` is the row of x."""
    probabilities = torch.softmax(predict_all(model, x), 1)
    confidence, predicted = probabilities.max(1)
    wrong = (predicted != y).nonzero().flatten()
    order = wrong[confidence[wrong].argsort(descending=True)][:limit]
    return [{"index": int(i), "true": int(y[i]), "predicted": int(predicted[i]),
             "confidence": round(float(confidence[i]), 4)} for i in order], len(wrong)


def regression_pairs(model: nn.Module, x: torch.Tensor, y: torch.Tensor, limit: int) -> dict:
    """A regressor's first output against the truth, for up to `limit` samples."""
    x, y = x[:limit], y[:limit]
    predicted = predict_all(model, x).reshape(len(x), -1)[:, 0] if len(x) else torch.empty(0)
    true = y.float().reshape(len(y), -1)[:, 0] if len(y) else torch.empty(0)
    return {"true": rounded(true.numpy()), "predicted": rounded(predicted.numpy())}


def plane(x: torch.Tensor, cells: int = GRID) -> tuple[list[float], list[float]]:
    """The cell centres, per axis, of a grid over two-feature inputs' range, with a margin of a tenth."""
    low, high = x.min(0).values.float(), x.max(0).values.float()
    margin = (high - low).clamp_min(1e-3) * 0.1
    low, high = low - margin, high + margin
    axes = [torch.linspace(float(low[i]), float(high[i]), cells) for i in range(2)]
    return [round(v, 4) for v in axes[0].tolist()], [round(v, 4) for v in axes[1].tolist()]


@torch.no_grad()
def decision_boundary(model: nn.Module, xs: list[float], ys: list[float], device: torch.device) -> dict:
    """A classifier's predicted class and its probability at every cell of the grid (rows: ys, columns: xs)."""
    gx, gy = torch.meshgrid(torch.tensor(ys), torch.tensor(xs), indexing="ij")
    points = torch.stack([gy.flatten(), gx.flatten()], 1).to(device)
    training = model.training
    model.eval()
    probabilities = torch.softmax(model(points).float(), 1)
    model.train(training)
    confidence, predicted = probabilities.max(1)
    shape = (len(ys), len(xs))
    return {"x": xs, "y": ys, "predicted": predicted.view(shape).tolist(),
            "confidence": [[round(v, 2) for v in row] for row in confidence.view(shape).tolist()]}


UNIT_GRID = 20  # cells a side of a unit's map
MAX_UNITS = 8  # a layer with more units than this gets no unit maps


@torch.no_grad()
def unit_maps(inspector: Inspector, xs: list[float], ys: list[float]) -> dict:
    """Each unit's output over a grid of the input plane, for every node whose output is a vector of at most
    MAX_UNITS units (the small dense networks of the point datasets): {node_id: [grid per unit]}, rows: ys."""
    gx, gy = torch.meshgrid(torch.tensor(ys), torch.tensor(xs), indexing="ij")
    points = torch.stack([gy.flatten(), gx.flatten()], 1)
    found: dict[str, list] = {}

    def tap(node_id: str, value: torch.Tensor) -> None:
        if node_id != inspector.analysis.input_node and value.dim() == 2 and value.shape[1] <= MAX_UNITS \
                and value.is_floating_point():
            grids = value.float().T.reshape(value.shape[1], len(ys), len(xs))
            found[node_id] = [rounded(grid.numpy()) for grid in grids]

    inspector.probe(inspector.model, points, tap)
    return found


def two_feature_input(analysis: Analysis) -> bool:
    """Does the model take two numbers per sample (a point in the plane)?"""
    source = analysis.shapes.get(analysis.input_node)
    return source is not None and tuple(source.shape) == (2,) and "float" in str(source.dtype)


__all__ = ["GRID", "Inspector", "decision_boundary", "describe_output", "first_conv_filters", "misclassified",
           "plane", "predict_all", "regression_pairs", "rounded", "two_feature_input",
           "unit_maps"]
