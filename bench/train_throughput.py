"""Training throughput of the app's engine against hand-written PyTorch, measured in the same run.

For each workload, three loops train the same model on the same in-memory data, interleaved round by round so
that noise from the shared machine hits all of them alike:
  engine     the graph compiled from JSON, trained by training.engine.Trainer with live metrics on
             (every event JSON-encoded and queued to a publishing thread, as the worker does)
  quiet      the same engine with metrics off (hooks that drop events): the cost of streaming
  hand       a hand-written nn.Sequential/nn.Module and a plain loop (randperm + indexing, loss.item())
  loader     the hand-written model fed by torch.utils.data.DataLoader (shuffle=True)
Reports median samples/s and the ratios engine/hand, engine/loader and quiet/engine; writes JSON.

    .venv/bin/python bench/train_throughput.py [--quick] [--out bench/results/train.json]
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

from builder.graph.examples import EXAMPLES  # noqa: E402
from training.config import check_config  # noqa: E402
from training.datasets.base import Dataset  # noqa: E402
from training.engine import Hooks, Trainer, build_model  # noqa: E402


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


def seed_cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(5408, 128),
                         nn.ReLU(), nn.Linear(128, 10))


class SeedLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(100, 256, num_layers=2, batch_first=True)
        self.fc = nn.Linear(256, 10)

    def forward(self, x):
        return self.fc(self.lstm(x)[1][0][-1])


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.block = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                                   nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16))
        self.head = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU())
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.stem(x)
        return self.fc(self.head(self.block(x) + x).mean(dim=(2, 3)))


WORKLOADS = {  # name: (example graph, hand-written model, sample shape, batch size)
    "seed CNN, batch 32": ("seed_cnn", seed_cnn, (1, 28, 28), 32),
    "seed CNN, batch 128": ("seed_cnn", seed_cnn, (1, 28, 28), 128),
    "seed LSTM, batch 64": ("lstm_classifier", SeedLSTM, (28, 100), 64),
    "residual CNN, batch 32": ("residual_cnn", Residual, (1, 28, 28), 32),
}


def engine_loop(slug, data, batch, streaming):
    config = check_config({"epochs": 1, "batch_size": batch, "val_split": 0.0, "device": "cpu"})
    _, model = build_model(EXAMPLES[slug]["graph"], 0)
    hooks = Streaming() if streaming else Hooks()
    start = time.perf_counter()
    Trainer(model, data, config, hooks).run()
    elapsed = time.perf_counter() - start
    if streaming:
        hooks.close()
    return len(data.X) / elapsed


def hand_loop(make, data, batch):
    torch.manual_seed(0)
    model = make()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x, y = torch.from_numpy(data.X), torch.from_numpy(data.y)
    start = time.perf_counter()
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
    return len(x) / (time.perf_counter() - start)


def loader_loop(make, data, batch):
    torch.manual_seed(0)
    model = make()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(data.X),
                                                                        torch.from_numpy(data.y)),
                                         batch_size=batch, shuffle=True)
    start = time.perf_counter()
    model.train()
    total = 0.0
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    return len(data.X) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer samples and rounds (under 2 minutes)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: steady on a shared machine)")
    parser.add_argument("--out", default="bench/results/train.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rounds = 3 if args.quick else 5
    results = {}
    for name, (slug, make, shape, batch) in WORKLOADS.items():
        samples = (batch * (24 if args.quick else 60))
        rng = np.random.default_rng(0)
        data = Dataset(name=slug, title=slug, description="", X=rng.random((samples, *shape), dtype=np.float32),
                       y=rng.integers(0, 10, samples), task="classification", classes=[str(i) for i in range(10)],
                       kind="image" if len(shape) == 3 else "sequence")
        engine_loop(slug, data, batch, True)  # warm-up: first calls of each kernel
        hand_loop(make, data, batch)
        runs = {"engine": [], "quiet": [], "hand": [], "loader": []}
        for _ in range(rounds):
            runs["engine"].append(engine_loop(slug, data, batch, True))
            runs["hand"].append(hand_loop(make, data, batch))
            runs["quiet"].append(engine_loop(slug, data, batch, False))
            runs["loader"].append(loader_loop(make, data, batch))
        median = {k: statistics.median(v) for k, v in runs.items()}
        results[name] = {"samples_per_s": {k: round(v, 1) for k, v in median.items()},
                         "engine_vs_hand": round(median["engine"] / median["hand"], 3),
                         "engine_vs_loader": round(median["engine"] / median["loader"], 3),
                         "streaming_cost": round(1 - median["engine"] / median["quiet"], 4),
                         "rounds": rounds, "samples": samples, "threads": args.threads}
        print(f"{name:<24} engine {median['engine']:8.0f}/s  hand {median['hand']:8.0f}/s  "
              f"loader {median['loader']:8.0f}/s  engine/hand {results[name]['engine_vs_hand']:.3f}  "
              f"engine/loader {results[name]['engine_vs_loader']:.3f}  "
              f"streaming cost {100 * results[name]['streaming_cost']:+.1f}%", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
