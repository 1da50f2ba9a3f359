"""Every benchmark in one command and one table: `make bench` (full) or `make bench-quick` (under 2 minutes).

Runs each piece as its own process, so each keeps working standalone and none inherits another's torch threads,
Django settings or environment; each writes its JSON to bench/results/<piece>.json. Then gathers them into
bench/results/summary.json and prints one table. Every figure is a ratio against a reference measured in the
same run, or a latency distribution (plus the server memory and loss counts the live-feed targets ask for).
  validate   bench/validate_latency.py  POST /api/graphs/validate at 10, 100, 450 and 500 nodes
  train      bench/train_throughput.py  the engine against a hand-written loop and a DataLoader; streaming cost
  accuracy   bench/example_accuracy.py  validation accuracy of the examples, trained with their recommended settings
  live_feed  bench/live_feed.py         worker -> Redis -> Daphne -> websocket latency, 200 watchers of one run
  gpu        bench/gpu_throughput.py    bf16 + channels_last on CUDA; "no GPU: skipped" without one
  uploads    bench/upload_memory.py     Daphne's peak memory and the time of 200 MB bodies, upload bombs and three
                                        concurrent maximum-size uploads, and of GETs of what was uploaded
  insight    bench/insight_cost.py      the sample inspector's latency on the seed CNN; its training time with
                                        layer statistics on / off, interleaved
  editor     bench/editor_render.py     opening the editor to the first complete render of 450-node imported graphs,
                                        in Chromium

    .venv/bin/python bench/run.py [--quick] [--only validate,train,live_feed,gpu,uploads,insight,editor]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

PIECES = {  # name: (script, arguments for the full run, arguments for --quick)
    "validate": ("validate_latency.py", [], ["--repeats", "10"]),
    "train": ("train_throughput.py", [], ["--quick"]),
    "accuracy": ("example_accuracy.py", [], ["--quick"]),
    "live_feed": ("live_feed.py", [], ["--quick"]),
    "gpu": ("gpu_throughput.py", [], ["--quick"]),
    "uploads": ("upload_memory.py", [], ["--quick"]),
    "insight": ("insight_cost.py", [], ["--quick"]),
    "editor": ("editor_render.py", [], ["--loads", "3"]),
}


def run_piece(name: str, quick: bool) -> dict:
    script, full, quick_args = PIECES[name]
    out = RESULTS / f"{name}.json"
    out.unlink(missing_ok=True)
    argv = [sys.executable, str(ROOT / "bench" / script), *(quick_args if quick else full), "--out", str(out)]
    print(f"== {name}: {' '.join(argv[1:])}", flush=True)
    start = time.monotonic()
    tail: list[str] = []
    with subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"}) as process:
        for line in process.stdout:
            print(f"   {line}", end="", flush=True)
            tail = (tail + [line])[-20:]
    seconds = round(time.monotonic() - start, 1)
    piece = {"script": f"bench/{script}", "seconds": seconds, "returncode": process.returncode}
    if process.returncode == 0 and out.exists():
        piece["results"] = json.loads(out.read_text())
    else:
        piece["error"] = "".join(tail)
    print(f"== {name}: {'ok' if process.returncode == 0 else 'FAILED'} in {seconds} s", flush=True)
    return piece


def dist(d: dict | None) -> str:
    if not d or d.get("p50") is None:
        return "n/a"
    return f"{d['p50']} / {d['p95']} / {d['p99']}"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def noise(workload: dict, key: str, percent: bool = False) -> str:
    """How much a train ratio moved: its range over the rounds, and the same ratio by CPU time."""
    lo_hi, cpu = workload.get("round_range", {}), workload.get("cpu_time", {})
    parts = []
    if key in lo_hi:
        lo, hi = lo_hi[key]
        parts.append(f"rounds {100 * lo:+.0f}..{100 * hi:+.0f}%" if percent else f"rounds {lo:.2f}-{hi:.2f}")
    if key in cpu:
        parts.append(f"CPU time {100 * cpu[key]:+.1f}%" if percent else f"CPU time {cpu[key]:.3f}")
    return f" ({'; '.join(parts)})" if parts else ""


def rows_for(pieces: dict) -> list[tuple[str, str, str, str]]:
    """(section, measure, value, target) rows of the combined table."""
    rows = []
    for name, piece in pieces.items():
        if "results" not in piece:
            rows.append((name, "failed", f"exit {piece['returncode']}", "see output above"))
            continue
        r = piece["results"]
        if name == "validate":
            for size, cases in r.items():
                for case in ("cold", "repeat", "edit"):
                    c = cases[case]
                    goal = {100: 50, 450: 100}.get(int(size))
                    target = f"p95 < {goal} ms: {verdict(c['p95'] < goal)}" if goal else ""
                    rows.append(("validate", f"{cases['nodes']} nodes, {case}: p50 / p95 / p99 ms", dist(c), target))
        elif name == "train":
            for workload, w in r.items():
                rows.append(("train", f"{workload}: engine / hand-written", f"{w['engine_vs_hand']:.3f}",
                             f">= 0.95: {verdict(w['engine_vs_hand'] >= 0.95)}{noise(w, 'engine_vs_hand')}"))
                rows.append(("train", f"{workload}: engine / DataLoader", f"{w['engine_vs_loader']:.3f}",
                             f"> 1: {verdict(w['engine_vs_loader'] > 1)}{noise(w, 'engine_vs_loader')}"))
                rows.append(("train", f"{workload}: streaming cost (1 - on/off)",
                             f"{100 * w['streaming_cost']:+.1f}%",
                             f"< 2%: {verdict(w['streaming_cost'] < 0.02)}{noise(w, 'streaming_cost', True)}"))
        elif name == "accuracy":
            for slug, e in r.items():
                s = e["settings"]
                seeds = f"{e['seeds']} seeds: lowest / median / highest" if e["seeds"] > 1 else "1 seed"
                shown = e["val_accuracy"] if e["seeds"] > 1 else e["val_accuracy"][:1]  # one seed: one value
                target = "" if e["target"] is None else f">= {e['target']:.2f}: {verdict(e['met'])}"
                rows.append(("accuracy", f"{slug} on {e['dataset']} ({s['epochs']} epochs, batch {s['batch_size']}, "
                             f"lr {s['lr']:g}): val accuracy, {seeds}",
                             " / ".join(f"{v:.3f}" for v in shown),
                             f"{target}{'; ' if target else ''}{e['seconds']:.1f} s a run"))
        elif name == "live_feed":
            for case, label in (("steady", "1 watcher, 10 step events/s"), ("burst", "1 watcher, a burst")):
                if case in r:
                    c = r[case]
                    rows.append(("live feed", f"{label} ({c['events']}): p50 / p95 / p99 ms",
                                 dist(c["latency_ms"]), ""))
                    rows.append(("live feed", "  of which put -> stored in the DB (publisher queue + write)",
                                 dist(c["put_to_stored_ms"]), ""))
            if "fanout" in r:
                c = r["fanout"]
                n = c["watchers"]
                rows.append(("live feed", f"{n} watchers x {c['events']} events at {c['rate_per_s']:g}/s: "
                             "p50 / p95 / p99 ms", dist(c["latency_ms"]), ""))
                rows.append(("live feed", "  until the last watcher has it: p50 / p95 / p99 ms",
                             dist(c["last_watcher_latency_ms"]), ""))
                lost = c["missing_total"]
                rows.append(("live feed", f"  missing events (sum over {c['connected']} watchers; {c['failed']} "
                             "refused)", str(lost), f"0 at 200 watchers: "
                             f"{verdict(lost == 0 and c['failed'] == 0) if n >= 200 else 'n/a (quick: fewer)'}"))
                rss = c["server_rss_mib"]
                rows.append(("live feed", "  Daphne RSS MiB: before / connected / after events / disconnected",
                             f"{rss['before']} / {rss['connected']} / {rss['after_events']} / "
                             f"{rss.get('after_disconnect', 'n/a')}",
                             f"{c['server_rss_per_watcher_kib']} KiB a watcher"))
                rows.append(("live feed", "  messages the channel layer dropped (over capacity)",
                             str(c["channel_layer_drops"]), "the consumer refills gaps from the DB"))
                rows.append(("live feed", "  Daphne CPU per message delivered",
                             f"{c['daphne_cpu_us_per_message']} µs", ""))
        elif name == "uploads":
            rows += upload_rows(r)
        elif name == "insight":
            lat, cost = r["inspector"]["latency_ms"], r["layer_stats"]
            rows.append(("insight", f"sample inspector, seed CNN ({r['inspector']['answer_kib']} KiB): "
                         "p50 / p95 / p99 ms", dist(lat), f"p95 < 300 ms: {verdict(lat['p95'] < 300)}"))
            rows.append(("insight", f"seed CNN training, layer_stats on / off ({cost['records_per_run']} records in "
                         f"{cost['steps_per_run']} steps)", f"{cost['on_vs_off']:.3f}",
                         f">= 0.97: {verdict(cost['on_vs_off'] >= 0.97)} (rounds {cost['round_range'][0]:.2f}-"
                         f"{cost['round_range'][1]:.2f}; CPU time {cost['on_vs_off_cpu']:.3f})"))
        elif name == "editor":
            for case, label in (("residual", "residual CNN"), ("grouped", "residual CNN in groups")):
                c, goal = r[case]["first_render_ms"], r["goal_ms"]
                rows.append(("editor", f"open to first render, {r[case]['nodes']} nodes, {label}: p50 / p95 ms",
                             f"{c['p50']} / {c['p95']}", f"p95 < {goal} ms: {verdict(c['p95'] < goal)}"))
        elif name == "gpu":
            if "skipped" in r:
                rows.append(("gpu", "bf16 autocast + channels_last on CUDA", f"{r['skipped']}: skipped", ""))
                continue
            for workload, w in r["workloads"].items():
                frac = w["fraction_of_peak"]
                rows.append(("gpu", f"{workload}: engine / hand-written (bf16)", f"{w['engine_vs_hand']:.3f}",
                             f">= 0.95: {verdict(w['engine_vs_hand'] >= 0.95)}"))
                rows.append(("gpu", f"{workload}: engine samples/s, fraction of peak",
                             f"{w['samples_per_s']['engine']:.0f}/s, "
                             + (f"{100 * frac:.2f}% of {r['peak_bf16_tflops']:g} TFLOP/s" if frac is not None
                                else "fraction of peak unknown"),
                             f"streaming cost {100 * w['streaming_cost']:+.1f}%"))
    return rows


def upload_rows(r: dict) -> list[tuple[str, str, str, str]]:
    """Daphne's peak memory (VmHWM over the case) and the time of each upload case."""
    def memory(m: dict) -> str:
        return f"peak {m['rss_peak_mib']:.0f} MiB (+{m['rss_growth_mib']:.0f}), after {m['rss_after_mib']:.0f}"

    rows = []
    for case, label in (("body_login", "POST /accounts/login/, Content-Length"),
                        ("body_datasets", "POST /api/datasets, Content-Length"),
                        ("body_chunked", "POST /api/datasets, chunked")):
        if case in r:
            c = r[case]
            rows.append(("uploads", f"anonymous {c['body_bytes'] / 1e6:.0f} MB {label}",
                         f"{c['status']} in {c['seconds']} s", memory(c)))
    for case, label in (("idx_bomb", "IDX bomb (127,000×28×28 declared)"),
                        ("png_bomb", "PNG bomb (1×1, then 300 of 4096×4096)"),
                        ("max_uploads", "3 concurrent maximum-size uploads")):
        if case not in r:
            continue
        c = r[case]
        statuses = "/".join(str(u["status"]) for u in c["uploads"])
        seconds = " / ".join(f"{u['seconds']}" for u in c["uploads"])
        rows.append(("uploads", f"{label}, {c['upload_bytes'] / 1e6:.1f} MB", f"{statuses} in {seconds} s",
                     memory(c["upload"])))
        if "gets" in c:
            rows.append(("uploads", "  then 3 concurrent GETs of it",
                         f"{' / '.join(str(g['seconds']) for g in c['gets'])} s", memory(c["get"])))
    return rows


def print_table(rows, header: str) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    print(f"\n{header}")
    line = "  ".join("-" * w for w in widths)
    print(line)
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    print(line)


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
        return head + ("+uncommitted changes" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller runs of every piece: under 2 minutes")
    parser.add_argument("--only", default=",".join(PIECES), help=f"comma-separated, of {', '.join(PIECES)}")
    args = parser.parse_args()
    chosen = [name for name in args.only.split(",") if name]
    unknown = set(chosen) - set(PIECES)
    if unknown:
        parser.error(f"unknown pieces: {', '.join(sorted(unknown))}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    started, start = datetime.now(UTC), time.monotonic()
    load_before = os.getloadavg()
    pieces = {name: run_piece(name, args.quick) for name in chosen}
    load_after = os.getloadavg()
    seconds = round(time.monotonic() - start, 1)
    gpu = pieces.get("gpu", {}).get("results", {})
    machine = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
               "load_average_before": [round(x, 2) for x in load_before],
               "load_average_after": [round(x, 2) for x in load_after],
               "gpu": gpu.get("device") or ("none" if "skipped" in gpu else "not measured"),
               "torch": gpu.get("torch")}
    rows = rows_for(pieces)
    summary = {"command": " ".join(["bench/run.py", *sys.argv[1:]]), "quick": args.quick,
               "started": started.isoformat(timespec="seconds"), "seconds": seconds, "commit": git_commit(),
               "machine": machine, "pieces": pieces,
               "table": [dict(zip(("section", "measure", "value", "target"), row)) for row in rows]}
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2))
    header = (f"Netbuilder benchmarks{' (quick)' if args.quick else ''}: {machine['cpus']} CPUs, load "
              f"{load_before[0]:.1f} -> {load_after[0]:.1f}, GPU {machine['gpu']}, {seconds} s; "
              f"p50 / p95 / p99 in ms")
    print_table(rows, header)
    print(f"JSON: {RESULTS.relative_to(ROOT)}/summary.json (and one file per piece)")
    if any(piece["returncode"] for piece in pieces.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
