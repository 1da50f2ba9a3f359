"""What each layer of a training network does: its outputs' statistics, its gradients and updates, dead ReLUs,
and the first node whose output stops being finite.

Every node's output is read with the compiled probe (the model's own forward, with a tap per node), in eval mode
and without gradients, so recording draws no random numbers and moves no BatchNorm statistics: a run trains the
same with statistics on or off. Gradient norms are read after the backward pass, update ratios across the
optimizer's step. Plain PyTorch, no Django.
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

from builder.graph import Analysis
from builder.graph.codegen import compile_probe, python_names

BINS = 16  # histogram bins of each node's output
HISTOGRAM_SAMPLE = 2048
DEAD_TYPES = ("ReLU", "ReLU6")  # outputs exactly zero where a unit is off
# The share of training time statistics may take: 2%, to stay under the goal of 3% with the cost of a record
# (measured) varying from one to the next.
BUDGET = 0.02
FIRST_EVERY = 20  # steps between the first records, before their cost is known
# Node warnings: a unit that is zero for every sample of a batch is dead; gradients this far from 1e-3..10
# (as a norm per parameter tensor) vanish or explode.
MOSTLY_DEAD = 0.5
VANISHING = 1e-7
EXPLODING = 1e3


class LayerStats:
    """Records per-node statistics of one compiled model, every `every` steps (re-chosen to fit the budget)."""

    def __init__(self, model: nn.Module, analysis: Analysis):
        self.model = model
        self.probe = compile_probe(analysis)
        self.types = {node_id: node.type for node_id, node in analysis.graph.nodes.items()}
        names = python_names(list(analysis.graph.nodes))
        self.parameters = {node_id: [p for p in getattr(model, names[node_id]).parameters() if p.requires_grad]
                           for node_id in analysis.order if hasattr(model, names[node_id])}
        self.parameters = {k: v for k, v in self.parameters.items() if v}
        self.every = FIRST_EVERY
        self.cost: float | None = None  # seconds a record takes, averaged
        self.records = 0
        self.before: dict[str, list[torch.Tensor]] | None = None
        self.copying = 0.0  # seconds the last keep_weights took

    def due(self, step: int) -> bool:
        return step % self.every == 0 if self.records > 1 else step in (0, FIRST_EVERY)

    def keep_weights(self) -> None:
        """Copy the weights before the optimizer's step, for the update ratio."""
        started = time.perf_counter()
        self.before = {n: [p.detach().clone() for p in ps] for n, ps in self.parameters.items()}
        self.copying = time.perf_counter() - started  # part of the record's cost

    def record(self, x: torch.Tensor, step_time: float) -> dict:
        """Statistics of every node for the batch `x`, after a step: call keep_weights() before that step.

        `step_time` (seconds per training step) sets how often the next record comes, so that recording
        costs at most BUDGET of the time.
        """
        started = time.perf_counter()
        nodes: dict[str, dict] = {}
        pending: dict[str, dict[str, torch.Tensor]] = {}

        def tap(node_id: str, value: torch.Tensor) -> None:
            pending[node_id] = self._output_stats(node_id, value)

        training = self.model.training
        self.model.eval()
        with torch.no_grad():
            self.probe(self.model, x, tap)
            for node_id, params in self.parameters.items():
                grads = [p.grad for p in params if p.grad is not None]
                if grads:
                    pending[node_id]["grad_norm"] = torch.linalg.vector_norm(
                        torch.stack([torch.linalg.vector_norm(g.float()) for g in grads]))
                if self.before is not None:
                    delta = torch.stack([torch.linalg.vector_norm((p - b).float())
                                         for p, b in zip(params, self.before[node_id])])
                    weight = torch.stack([torch.linalg.vector_norm(p.float()) for p in params])
                    pending[node_id]["update_ratio"] = (torch.linalg.vector_norm(delta)
                                                        / torch.linalg.vector_norm(weight).clamp_min(1e-12))
        self.model.train(training)
        self.before = None
        for node_id, values in pending.items():  # one device-to-host copy per value, after all the work
            nodes[node_id] = {k: (v.tolist() if v.dim() else _finite(v.item())) for k, v in values.items()}
        elapsed = time.perf_counter() - started + self.copying
        # The first record pays one-time costs (first calls of each kernel): it says little of the next ones.
        self.cost = elapsed if self.cost is None else 0.7 * self.cost + 0.3 * elapsed
        self.records += 1
        if self.records > 1:
            self.every = max(1, math.ceil(self.cost / (BUDGET * max(step_time, 1e-6))))
        return nodes

    def _output_stats(self, node_id: str, value: torch.Tensor) -> dict[str, torch.Tensor]:
        out = value.detach().float()
        low, high = out.aminmax()
        stats = {"mean": out.mean(), "std": out.std() if out.numel() > 1 else out.new_zeros(()),
                 "min": low, "max": high}
        # The histogram of an even sample of at most HISTOGRAM_SAMPLE values: as telling, and histc is slow.
        sample = out.flatten()[::max(1, out.numel() // HISTOGRAM_SAMPLE)]
        sample = sample[torch.isfinite(sample)]
        stats["histogram"] = torch.histc(sample, BINS, 0, 0) if sample.numel() else out.new_zeros(BINS)
        if self.types[node_id] in DEAD_TYPES and out.dim() > 1:
            stats["dead"] = (out.flatten(1) == 0).all(dim=0).float().mean()
        return stats

    def first_non_finite(self, x: torch.Tensor) -> str | None:
        """The first node, in the order the model computes them, whose output for `x` is not all finite."""
        found: list[str] = []

        def tap(node_id: str, value: torch.Tensor) -> None:
            if not found and value.is_floating_point() and not torch.isfinite(value).all():
                found.append(node_id)

        training = self.model.training
        self.model.eval()
        with torch.no_grad():
            self.probe(self.model, x, tap)
        self.model.train(training)
        return found[0] if found else None


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None  # JSON has no inf or NaN


def warnings(nodes: dict[str, dict]) -> dict[str, str]:
    """Per-node warnings from one record: mostly dead ReLUs, vanishing or exploding gradients."""
    found = {}
    for node_id, stats in nodes.items():
        if stats.get("dead", 0) >= MOSTLY_DEAD:
            found[node_id] = f"{stats['dead']:.0%} of its units were zero for the whole batch (dead ReLUs)"
        grad = stats.get("grad_norm")
        if grad is not None and grad < VANISHING:
            found[node_id] = f"its gradient norm is {grad:.1e}: the gradient vanishes before it reaches this layer"
        elif grad is not None and grad > EXPLODING:
            found[node_id] = f"its gradient norm is {grad:.1e}: the gradient explodes"
    return found
