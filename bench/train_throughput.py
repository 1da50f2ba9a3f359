"""Training throughput of the app's engine against hand-written PyTorch, measured in the same run.

For each workload, three loops train the same model on the same in-memory data, interleaved round by round so
that noise from the shared machine hits all of them alike:
  engine     the graph compiled from JSON, trained by training.engine.Trainer with live metrics on
             (every event JSON-encoded and queued to a publishing thread, as the worker does)
  quiet      the same engine with metrics off (hooks that drop events): the cost of streaming
  hand       a hand-written nn.Sequential/nn.Module and a plain loop (randperm + indexing, loss.item())
  loader     the hand-written model fed by torch.utils.data.DataLoader (shuffle=True)
Reports median samples/s and the ratios engine/hand, engine/loader and quiet/engine; writes JSON. Each ratio is
given twice: by wall-clock time, and by the process's CPU time (every thread's, so the publishing thread counts),
which a shared machine disturbs less: a loop that is preempted accrues no CPU time. The spread of each ratio
over the rounds (each round's loops side by side) says whether a difference is larger than the noise.

    .venv/bin/python bench/train_throughput.py [--quick] [--only MobileNet] [--out bench/results/train.json]
"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder.graph import Limits, analyze
from builder.graph.examples import EXAMPLES
from training.config import check_config
from training.datasets.base import Dataset
from training.engine import Hooks, Trainer, build_model

from tests.reference_models import MobileNetSE, Residual, SeedLSTM, TextTransformer, UNetDigits, ViTTiny, seed_cnn


class Timer:
    """Wall-clock and process CPU time of a block (torch runs on --threads threads; all threads are counted)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    def rates(self, samples: int) -> tuple[float, float]:
        return samples / self.wall, samples / self.cpu


class Streaming(Hooks):
    """Live metrics as the worker pays for them: JSON-encode and hand to a publishing thread."""

    def __init__(self):
        self.queue: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self):
        while self.queue.get() is not None:
            pass

    def emit(self, kind, data):
        self.queue.put(json.dumps({"type": kind, **data}))

    def close(self):
        self.queue.put(None)
        self.thread.join()


WORKLOADS = {  # name: (example graph, hand-written model, sample shape, batch size)
    "seed CNN, batch 32": ("seed_cnn", seed_cnn, (1, 28, 28), 32),
    "seed CNN, batch 128": ("seed_cnn", seed_cnn, (1, 28, 28), 128),
    "seed LSTM, batch 64": ("lstm_classifier", SeedLSTM, (28, 100), 64),
    "residual CNN, batch 32": ("residual_cnn", Residual, (1, 28, 28), 32),
    "ViT-tiny, batch 64": ("vit_tiny", ViTTiny, (1, 8, 8), 64),
    "U-Net, batch 32": ("unet_digits", UNetDigits, (1, 8, 8), 32),
    "MobileNet SE, batch 32": ("mobilenet_se", MobileNetSE, (1, 8, 8), 32),
    "text transformer, batch 32": ("text_transformer", TextTransformer, (64,), 32),
}


def random_data(slug: str, shape: tuple, samples: int) -> Dataset:
    """Random samples of the example's input (token ids below its vocabulary size where it takes tokens) and
    random labels of its classes."""
    graph = EXAMPLES[slug]["graph"]
    analysis = analyze(graph, Limits())
    classes = analysis.shapes[analysis.output_node].shape[-1]
    rng = np.random.default_rng(0)
    if analysis.shapes[analysis.input_node].dtype == "int64":
        vocab = next(n["params"]["num_embeddings"] for n in graph["nodes"] if n["type"] == "Embedding")
        X, kind = rng.integers(0, vocab, (samples, *shape)), "tokens"
    else:
        X, kind = rng.random((samples, *shape), dtype=np.float32), "image" if len(shape) == 3 else "sequence"
    return Dataset(name=slug, title=slug, description="", X=X, y=rng.integers(0, classes, samples),
                   task="classification", classes=[str(i) for i in range(classes)], kind=kind)


def engine_loop(slug, data, batch, streaming):
    config = check_config({"epochs": 1, "batch_size": batch, "val_split": 0.0, "device": "cpu"})
    model = build_model(analyze(EXAMPLES[slug]["graph"], Limits()), 0)
    hooks = Streaming() if streaming else Hooks()
    with Timer() as timer:
        Trainer(model, data, config, hooks).run()
        if streaming:
            hooks.close()
    return timer.rates(len(data.X))


def hand_loop(make, data, batch):
    torch.manual_seed(0)
    model = make()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x, y = torch.from_numpy(data.X), torch.from_numpy(data.y)
    with Timer() as timer:
        model.train()
        order = torch.randperm(len(x))
        total = 0.0
        for i in range(0, len(x), batch):
            index = order[i:i + batch]
            loss = loss_fn(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
    return timer.rates(len(x))


def loader_loop(make, data, batch):
    torch.manual_seed(0)
    model = make()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(data.X),
                                                                        torch.from_numpy(data.y)),
                                         batch_size=batch, shuffle=True)
    with Timer() as timer:
        model.train()
        total = 0.0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
    return timer.rates(len(data.X))


def ratios(rate: dict) -> dict:
    return {"engine_vs_hand": round(rate["engine"] / rate["hand"], 3),
            "engine_vs_loader": round(rate["engine"] / rate["loader"], 3),
            "streaming_cost": round(1 - rate["engine"] / rate["quiet"], 4)}


def spread(runs: dict) -> dict:
    """The lowest and highest of each ratio taken round by round (wall-clock)."""
    per_round = [ratios({k: v[i][0] for k, v in runs.items()}) for i in range(len(runs["engine"]))]
    return {key: [min(r[key] for r in per_round), max(r[key] for r in per_round)] for key in per_round[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer samples and rounds (under a minute)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: steady on a shared machine)")
    parser.add_argument("--out", default="bench/results/train.json")
    parser.add_argument("--only", default="", help="only the workloads whose name contains this text")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rounds = 3 if args.quick else 5
    results = {}
    for name, (slug, make, shape, batch) in WORKLOADS.items():
        if args.only.lower() not in name.lower():
            continue
        samples = (batch * (12 if args.quick else 60))
        data = random_data(slug, shape, samples)
        engine_loop(slug, data, batch, True)  # warm-up: first calls of each kernel
        hand_loop(make, data, batch)
        runs = {"engine": [], "quiet": [], "hand": [], "loader": []}
        for _ in range(rounds):
            runs["engine"].append(engine_loop(slug, data, batch, True))
            runs["hand"].append(hand_loop(make, data, batch))
            runs["quiet"].append(engine_loop(slug, data, batch, False))
            runs["loader"].append(loader_loop(make, data, batch))
        median = {k: statistics.median(wall for wall, _ in v) for k, v in runs.items()}
        cpu = {k: statistics.median(cpu for _, cpu in v) for k, v in runs.items()}
        results[name] = {"samples_per_s": {k: round(v, 1) for k, v in median.items()}, **ratios(median),
                         "round_range": spread(runs),
                         "cpu_time": {"samples_per_cpu_s": {k: round(v, 1) for k, v in cpu.items()}, **ratios(cpu)},
                         "rounds": rounds, "samples": samples, "threads": args.threads}
        r, c, lo_hi = results[name], results[name]["cpu_time"], results[name]["round_range"]
        print(f"{name:<26} engine {median['engine']:6.0f}/s  hand {median['hand']:6.0f}/s  "
              f"loader {median['loader']:6.0f}/s  engine/hand {r['engine_vs_hand']:.3f} "
              f"({lo_hi['engine_vs_hand'][0]:.2f}-{lo_hi['engine_vs_hand'][1]:.2f})  "
              f"engine/loader {r['engine_vs_loader']:.3f} "
              f"({lo_hi['engine_vs_loader'][0]:.2f}-{lo_hi['engine_vs_loader'][1]:.2f})  "
              f"streaming cost {100 * r['streaming_cost']:+.1f}% "
              f"({100 * lo_hi['streaming_cost'][0]:+.0f}..{100 * lo_hi['streaming_cost'][1]:+.0f}%)  "
              f"| CPU time: {c['engine_vs_hand']:.3f}  {c['engine_vs_loader']:.3f}  "
              f"{100 * c['streaming_cost']:+.1f}%", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
