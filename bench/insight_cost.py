"""What seeing inside the network costs, on the seed CNN (MNIST-shaped input, 1×28×28), on the CPU:

  inspector   one answer of the sample inspector (POST /api/runs/{id}/inspect) as its core computes it: every
              node's output for one input through the compiled probe, the predicted probabilities and the first
              convolution's filters, drawn small and JSON-encoded. Goal: p95 < 300 ms. The endpoint keeps the
              compiled model cached between answers; its first answer for a run also analyses the graph, builds
              the model, reads its saved weights, compiles the probe and loads the dataset: timed too, as
              "first answer", in this process after another graph was analysed (as a running server has).
  layer_stats the training time with layer statistics on against off: the same model, data and settings, the two
              interleaved round by round so noise from the shared machine hits both alike. Reported as the
              ratio of samples per second, on / off (goal >= 0.97), by wall clock and by CPU time.

    .venv/bin/python bench/insight_cost.py [--quick] [--out bench/results/insight.json]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder.graph import Limits, analyze, infer
from builder.graph.examples import EXAMPLES
from training.config import check_config
from training.datasets import load_dataset
from training.datasets.base import Dataset
from training.engine import Hooks, Trainer, build_model
from training.insight import LayerStats
from training.probing import Inspector

SLUG = "seed_cnn"
SHAPE = (1, 28, 28)


def percentiles(values: list[float]) -> dict:
    values = sorted(values)
    at = lambda q: round(values[min(len(values) - 1, int(q * len(values)))], 2)  # noqa: E731 (a one-line helper)
    return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "n": len(values)}


def first_answer_ms() -> float:
    """A run's first answer as training.inference gives it: graph analysed, model built, its saved state_dict
    read, probe compiled, the validation data loaded, one sample answered."""
    analyze(EXAMPLES["residual_cnn"]["graph"], Limits())  # a server has analysed graphs before: warm imports
    with tempfile.TemporaryDirectory() as folder:
        saved = Path(folder) / "state_dict.pt"
        torch.save(build_model(analyze(EXAMPLES[SLUG]["graph"], Limits()), 1).state_dict(), saved)
        infer.infer_node.cache_clear()  # its layers' shapes are new to this server
        started = time.perf_counter()
        analysis = analyze(EXAMPLES[SLUG]["graph"], Limits())
        model = build_model(analysis, 0)
        model.load_state_dict(torch.load(io.BytesIO(saved.read_bytes()), map_location="cpu", weights_only=True))
        inspector = Inspector(model.eval(), analysis)
        data = load_dataset("digits")  # stands in for the run's dataset (MNIST cannot be downloaded here)
        x = torch.nn.functional.interpolate(torch.from_numpy(data.X[:1]), size=SHAPE[1:])[0]
        json.dumps(inspector.outputs(x, True))
        return round((time.perf_counter() - started) * 1000, 1)


def inspector_latency(repeats: int) -> dict:
    analysis = analyze(EXAMPLES[SLUG]["graph"], Limits())
    started = time.perf_counter()
    inspector = Inspector(build_model(analysis, 0).eval(), analysis)
    compile_ms = (time.perf_counter() - started) * 1000
    rng = np.random.default_rng(0)
    inputs = [torch.from_numpy(rng.random(SHAPE, dtype=np.float32)) for _ in range(repeats)]
    json.dumps(inspector.outputs(inputs[0], True))  # warm-up: first calls of each kernel
    times, sizes = [], []
    for x in inputs:
        start = time.perf_counter()
        body = json.dumps(inspector.outputs(x, True))
        times.append((time.perf_counter() - start) * 1000)
        sizes.append(len(body))
    return {"latency_ms": percentiles(times), "compile_ms": round(compile_ms, 1),
            "answer_kib": round(statistics.median(sizes) / 1024, 1)}


class Quiet(Hooks):
    def __init__(self):
        self.records = 0

    def emit(self, kind, data):
        if kind == "layer_stats":
            self.records += 1
        json.dumps(data)  # paid as the worker pays it


def train_once(data: Dataset, batch: int, stats: bool) -> tuple[float, float, int]:
    analysis = analyze(EXAMPLES[SLUG]["graph"], Limits())
    model = build_model(analysis, 0)
    config = check_config({"epochs": 1, "batch_size": batch, "val_split": 0.0, "device": "cpu", "layer_stats": stats})
    hooks = Quiet()
    wall, cpu = time.perf_counter(), time.process_time()
    Trainer(model, data, config, hooks, LayerStats(model, analysis)).run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return len(data.X) / wall, len(data.X) / cpu, hooks.records


def layer_stats_cost(rounds: int, samples: int, batch: int) -> dict:
    rng = np.random.default_rng(0)
    data = Dataset(name=SLUG, title=SLUG, description="", X=rng.random((samples, *SHAPE), dtype=np.float32),
                   y=rng.integers(0, 10, samples), task="classification", classes=[str(i) for i in range(10)],
                   kind="image")
    train_once(data, batch, True)  # warm-up
    on, off, records = [], [], []
    for i in range(rounds):  # alternate which goes first, so neither always follows the other
        for stats in ((True, False) if i % 2 == 0 else (False, True)):
            wall, cpu, n = train_once(data, batch, stats)
            (on if stats else off).append((wall, cpu))
            if stats:
                records.append(n)
    ratio = lambda k: round(statistics.median(r[k] for r in on) / statistics.median(r[k] for r in off), 3)  # noqa: E731 (a one-line helper)
    per_round = [a[0] / b[0] for a, b in zip(on, off)]
    return {"on_vs_off": ratio(0), "on_vs_off_cpu": ratio(1), "round_range": [round(min(per_round), 3),
                                                                             round(max(per_round), 3)],
            "samples_per_s": {"on": round(statistics.median(r[0] for r in on), 1),
                              "off": round(statistics.median(r[0] for r in off), 1)},
            "records_per_run": statistics.median(records), "steps_per_run": -(-samples // batch),
            "rounds": rounds, "samples": samples, "batch": batch}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats and rounds (under a minute)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: steady on a shared machine)")
    parser.add_argument("--out", default="bench/results/insight.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    first_ms = first_answer_ms()
    inspector = inspector_latency(20 if args.quick else 100)
    inspector["first_answer_ms"] = first_ms
    lat = inspector["latency_ms"]
    print(f"inspector, seed CNN: p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms "
          f"({inspector['answer_kib']} KiB an answer; compiling the model and its probe {inspector['compile_ms']} ms); "
          f"a run's first answer, loading everything: {first_ms} ms",
          flush=True)
    # Short runs overstate the cost: each run's first records pay one-time costs (first calls of each kernel).
    cost = layer_stats_cost(3 if args.quick else 7, 32 * (150 if args.quick else 200), 32)
    print(f"training, seed CNN batch 32: layer_stats on / off {cost['on_vs_off']:.3f} "
          f"(rounds {cost['round_range'][0]:.2f}-{cost['round_range'][1]:.2f}; CPU time {cost['on_vs_off_cpu']:.3f}); "
          f"{cost['samples_per_s']['on']:.0f} vs {cost['samples_per_s']['off']:.0f} samples/s, "
          f"{cost['records_per_run']} records in {cost['steps_per_run']} steps", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"inspector": inspector, "layer_stats": cost, "threads": args.threads},
                                         indent=2))


if __name__ == "__main__":
    main()
