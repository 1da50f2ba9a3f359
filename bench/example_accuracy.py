"""The validation accuracy each example graph reaches, trained by the app's engine with the settings its
description recommends (builder.graph.examples.RECOMMENDED; the rest are the defaults: Adam, no schedule).

  digits_cnn, vit_tiny, unet_digits, mobilenet_se   the built-in digits (8×8 images, 10 classes)
  text_transformer                                  synthetic keyword texts (below): no built-in dataset holds
                                                    token ids
Each example is trained once per seed (the seed picks the initial weights, the validation split and the
shuffling) on 1 torch thread, on the CPU. Prints one table: the final epoch's validation accuracy (lowest /
median / highest over the seeds), the best epoch's, and the seconds a training took; writes JSON.

    .venv/bin/python bench/example_accuracy.py [--quick] [--seeds N] [--out bench/results/accuracy.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder.graph import Limits, analyze
from builder.graph.examples import EXAMPLES, RECOMMENDED
from training.config import check_config
from training.datasets.base import Dataset
from training.datasets.builtin import load_builtin
from training.engine import Trainer, build_model

TARGETS = {"vit_tiny": 0.90}  # the lowest final validation accuracy over the seeds must reach it


def keyword_texts(seed: int = 0, samples: int = 4000, length: int = 64, vocab: int = 10_000) -> Dataset:
    """Two classes of texts of random token ids (100 to vocab - 1), each with 4 sentiment words put in at random
    places: ids 0-49 are positive, 50-99 negative, and each word is of its text's class with probability 0.9.
    A model must learn which 100 of the 10,000 ids matter; the best possible accuracy is about 97%."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(samples) % 2)
    X = rng.integers(100, vocab, (samples, length))
    cues = 4
    for i in range(samples):
        at = rng.choice(length, cues, replace=False)
        positive = (rng.random(cues) < 0.9) == bool(y[i])
        X[i, at] = rng.integers(0, 50, cues) + np.where(positive, 0, 50)
    return Dataset(name="keyword_texts", title="Keyword texts", description=keyword_texts.__doc__, X=X,
                   y=y.astype(np.int64), task="classification", classes=["negative", "positive"], kind="tokens")


DATASETS = {"digits_cnn": "digits", "vit_tiny": "digits", "unet_digits": "digits", "mobilenet_se": "digits",
            "text_transformer": "keyword_texts"}


def load(name: str) -> Dataset:
    return keyword_texts() if name == "keyword_texts" else load_builtin(name)


def train(slug: str, data: Dataset, seed: int) -> dict:
    config = check_config({**RECOMMENDED[slug], "seed": seed, "device": "cpu"})
    model = build_model(analyze(EXAMPLES[slug]["graph"], Limits()), seed)
    start = time.perf_counter()
    result = Trainer(model, data, config).run()
    return {"seed": seed, "val_accuracy": result.final["val_accuracy"], "best_val_accuracy":
            result.best["val_accuracy"], "seconds": round(time.perf_counter() - start, 2)}


def spread(values: list[float]) -> list[float]:
    return [min(values), statistics.median(values), max(values)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="one seed per example (about 40 s)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per example in a full run (3: about 2 minutes)")
    parser.add_argument("--only", default=",".join(DATASETS), help="comma-separated example slugs")
    parser.add_argument("--out", default="bench/results/accuracy.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = range(1 if args.quick else args.seeds)
    results, datasets = {}, {}
    print(f"{'example':<18} {'dataset':<14} {'settings':<34} {'params':>8}  {'final val acc min/med/max':<26} "
          f"{'at lowest val loss':<20} {'s / run':>7}  target", flush=True)
    for slug in args.only.split(","):
        name = DATASETS[slug]
        if name not in datasets:
            datasets[name] = load(name)
        runs = [train(slug, datasets[name], seed) for seed in seeds]
        final, best = spread([r["val_accuracy"] for r in runs]), spread([r["best_val_accuracy"] for r in runs])
        settings = RECOMMENDED[slug]
        target = TARGETS.get(slug)
        results[slug] = {"dataset": name, "settings": settings, "seeds": len(runs),
                         "params": analyze(EXAMPLES[slug]["graph"], Limits()).total_params,
                         "val_accuracy": final, "best_val_accuracy": best,
                         "seconds": statistics.median(r["seconds"] for r in runs), "target": target,
                         "met": None if target is None else final[0] >= target, "runs": runs}
        r = results[slug]
        described = f"{settings['epochs']} ep, batch {settings['batch_size']}, lr {settings['lr']:g}"
        verdict = "" if target is None else f">= {target:.2f}: {'met' if r['met'] else 'NOT met'}"
        print(f"{slug:<18} {name:<14} {described:<34} {r['params']:>8,}  "
              f"{' / '.join(f'{v:.3f}' for v in final):<26} {' / '.join(f'{v:.3f}' for v in best):<20} "
              f"{r['seconds']:>7.1f}  {verdict}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
