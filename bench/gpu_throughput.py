"""Training throughput on a GPU: the app's engine against a hand-written loop, both with bf16 autocast and
channels_last (for image models), torch.compile as an option; samples/s, ratios and the fraction of the device's
peak bf16 tensor throughput.

The workloads are train_throughput.py's, plus the seed CNN at batch 512 (a GPU needs bigger batches), with data
already on the device and timed after a warm-up run, interleaved round by round:
  engine     training.engine.Trainer with mixed_precision on and live metrics on (as the worker runs it)
  quiet      the same engine with metrics off: the cost of streaming
  hand       a hand-written model and loop under torch.autocast(bfloat16), loss.item() every step
The fraction of peak counts the model's FLOPs per sample with torch.utils.flop_counter (forward and backward),
times samples/s, over the device's dense bf16 peak (a small table of data-centre GPUs, or --peak-tflops); the
counter has no formula for fused recurrent layers, so the LSTM gets no fraction rather than a wrong one.
Without CUDA it prints "no GPU: skipped" and writes {"skipped": ...}: no numbers are made up.

    .venv/bin/python bench/gpu_throughput.py [--quick] [--compile] [--peak-tflops N] [--out bench/results/gpu.json]
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
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_throughput import WORKLOADS, Streaming, seed_cnn

from builder.graph import Limits, analyze
from builder.graph.examples import EXAMPLES
from training.config import check_config
from training.datasets.base import Dataset
from training.engine import Hooks, Trainer, build_model

GPU_WORKLOADS = {**WORKLOADS, "seed CNN, batch 512": ("seed_cnn", seed_cnn, (1, 28, 28), 512)}

# Dense bf16 tensor-core peak, TFLOP/s (vendor data sheets, without sparsity). Matched in order on the name.
PEAK_BF16_TFLOPS = [("H200", 989.0), ("H100 PCIe", 756.0), ("H100", 989.0), ("GH200", 989.0), ("A100", 312.0),
                    ("L40S", 362.0), ("L4", 121.0), ("A10", 125.0)]


def peak_tflops(name: str, given: float | None) -> float | None:
    if given:
        return given
    return next((peak for key, peak in PEAK_BF16_TFLOPS if key in name), None)


def prepare(model: nn.Module, shape: tuple, device: torch.device, use_compile: bool) -> nn.Module:
    model = model.to(device)
    if len(shape) == 3:
        model = model.to(memory_format=torch.channels_last)
    return torch.compile(model) if use_compile else model


def flops_per_sample(make, shape, batch, device) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    model = make().to(device)
    if any(isinstance(m, nn.RNNBase) for m in model.modules()):
        return 0.0  # torch's counter has no formula for the fused recurrent kernels: it would undercount
    x = torch.zeros((batch, *shape), device=device)
    with FlopCounterMode(display=False) as counter:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            out = model(x)
        out.float().sum().backward()
    return counter.get_total_flops() / batch


def engine_loop(slug, shape, data, batch, device, streaming, use_compile):
    config = check_config({"epochs": 1, "batch_size": batch, "val_split": 0.0, "device": device.type,
                           "mixed_precision": True})
    model = build_model(analyze(EXAMPLES[slug]["graph"], Limits()), 0)
    hooks = Streaming() if streaming else Hooks()
    trainer = Trainer(prepare(model, shape, device, use_compile), data, config, hooks)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    trainer.run()  # ends with .item() reads: the device has finished
    elapsed = time.perf_counter() - start
    if streaming:
        hooks.close()
    return len(data.X) / elapsed


def hand_loop(make, shape, x, y, batch, device, use_compile):
    torch.manual_seed(0)
    model = prepare(make(), shape, device, use_compile)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    model.train()
    order = torch.randperm(len(x), device=device)
    total = 0.0
    for i in range(0, len(x), batch):
        index = order[i:i + batch]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            loss = loss_fn(model(x[index]).float(), y[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return len(x) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer steps and rounds")
    parser.add_argument("--compile", action="store_true", help="torch.compile both models (slow first step)")
    parser.add_argument("--device", default="cuda", help="cuda (default), or cpu to try this script's code path")
    parser.add_argument("--peak-tflops", type=float, help="the device's dense bf16 peak, if not in the table")
    parser.add_argument("--out", default="bench/results/gpu.json")
    args = parser.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no GPU: skipped (torch.cuda.is_available() is false)", flush=True)
        out.write_text(json.dumps({"skipped": "no GPU", "torch": torch.__version__}, indent=2))
        return
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu (code path only)"
    peak = peak_tflops(name, args.peak_tflops)
    torch.backends.cudnn.benchmark = True
    rounds, steps = (2, 30) if args.quick else (5, 200)
    results = {"device": name, "torch": torch.__version__, "peak_bf16_tflops": peak, "compile": args.compile,
               "channels_last": True, "autocast": "bfloat16", "workloads": {}}
    print(f"device: {name}; peak bf16 {peak or 'unknown (pass --peak-tflops)'} TFLOP/s", flush=True)
    for label, (slug, make, shape, batch) in GPU_WORKLOADS.items():
        samples = batch * steps
        rng = np.random.default_rng(0)
        data = Dataset(name=slug, title=slug, description="", X=rng.random((samples, *shape), dtype=np.float32),
                       y=rng.integers(0, 10, samples), task="classification", classes=[str(i) for i in range(10)],
                       kind="image" if len(shape) == 3 else "sequence")
        x, y = torch.from_numpy(data.X).to(device), torch.from_numpy(data.y).to(device)
        if len(shape) == 3:
            x = x.contiguous(memory_format=torch.channels_last)
        engine_loop(slug, shape, data, batch, device, True, args.compile)  # warm-up: kernels, autotuning
        hand_loop(make, shape, x, y, batch, device, args.compile)
        runs = {"engine": [], "quiet": [], "hand": []}
        for _ in range(rounds):
            runs["engine"].append(engine_loop(slug, shape, data, batch, device, True, args.compile))
            runs["hand"].append(hand_loop(make, shape, x, y, batch, device, args.compile))
            runs["quiet"].append(engine_loop(slug, shape, data, batch, device, False, args.compile))
        median = {k: statistics.median(v) for k, v in runs.items()}
        flops = flops_per_sample(make, shape, batch, device)
        achieved = flops * median["engine"] / 1e12 if flops else None
        results["workloads"][label] = {
            "samples_per_s": {k: round(v, 1) for k, v in median.items()},
            "engine_vs_hand": round(median["engine"] / median["hand"], 3),
            "streaming_cost": round(1 - median["engine"] / median["quiet"], 4),
            "gflop_per_sample": round(flops / 1e9, 4) if flops else None,
            "achieved_tflops": round(achieved, 3) if achieved else None,
            "fraction_of_peak": round(achieved / peak, 4) if peak and achieved else None,
            "rounds": rounds, "samples": samples}
        r = results["workloads"][label]
        print(f"{label:<24} engine {median['engine']:9.0f}/s  hand {median['hand']:9.0f}/s  "
              f"engine/hand {r['engine_vs_hand']:.3f}  streaming cost {100 * r['streaming_cost']:+.1f}%  "
              + (f"{achieved:.3g} TFLOP/s" if achieved else "FLOPs not counted")
              + (f" = {100 * r['fraction_of_peak']:.2f}% of peak" if r["fraction_of_peak"] is not None else ""),
              flush=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
