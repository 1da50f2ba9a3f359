"""Live metrics from the worker to the browser, through the real channel layer and a real Daphne server.

The benchmark process plays the worker: a training.events.Publisher thread (as in the Celery task: store each
event in the database, then group_send it to `run-<id>`) is fed with `put(kind, data)`, each payload carrying
the wall-clock time of the put. Websocket clients (asyncio, in child processes: the browsers, logged in with a
session cookie) record when each event arrives. An embedded Redis, a SQLite database file migrated with
`manage.py migrate` and Daphne are started for the run and stopped after it. Three cases:
  steady   one watcher, step events at the throttled rate (10 a second)
  burst    one watcher, a backlog of events put at once: latency as the publisher drains it, and its rate
  fan-out  many watchers of one run (200), epoch events at 10 a second: events missing per watcher (by seq),
           latency over every (watcher, event) pair and until the last watcher has each event, and the Daphne
           process's resident memory (VmRSS) before the watchers connect, with them connected and after
Latency is p50/p95/p99 in ms, split into put -> stored (the publisher's queue and database write) and stored ->
received (group_send, Redis, Daphne's consumers, the websocket); the CPU time each process spent is recorded too.
Writes JSON.

    .venv/bin/python bench/live_feed.py [--quick] [--watchers 200] [--out bench/results/live_feed.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.live_stack import live_stack

from tests.services import Server


def percentiles(samples: list[float]) -> dict:
    if len(samples) < 2:
        return {"p50": None, "p95": None, "p99": None, "max": None, "n": len(samples)}
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": round(cuts[49], 2), "p95": round(cuts[94], 2), "p99": round(cuts[98], 2),
            "max": round(max(samples), 2), "n": len(samples)}


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


# ---- the browsers: a child process holding `count` websockets ----------------------------------------------

def watchers_main(conn, url: str, headers: dict, count: int, final_seq: int) -> None:
    asyncio.run(_watchers(conn, url, headers, count, final_seq))


async def _watchers(conn, url, headers, count, final_seq):
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    limit = asyncio.Semaphore(20)  # a handshake storm of 200 at once only measures the accept queue

    async def open_one():
        async with limit:
            start = time.perf_counter()
            try:
                ws = await connect(url, additional_headers=headers, open_timeout=60, proxy=None,
                                   compression=None, max_queue=None)
            except Exception as exc:  # reported, not raised: a refused watcher is a result
                return None, repr(exc)
            return ws, (time.perf_counter() - start) * 1000

    opened = await asyncio.gather(*(open_one() for _ in range(count)))
    sockets = [ws for ws, _ in opened if ws is not None]
    conn.send({"connect_ms": [ms for ws, ms in opened if ws is not None],
               "failures": [error for ws, error in opened if ws is None]})
    records = [{"seqs": [], "latency_ms": [], "received_ns": [], "closed": None} for _ in sockets]

    async def watch(ws, record):
        try:
            while True:
                raw = await ws.recv()
                now = time.time_ns()
                event = json.loads(raw)
                record["seqs"].append(event["seq"])
                record["received_ns"].append(now)
                if "t_ns" in event:
                    record["latency_ms"].append((now - event["t_ns"]) / 1e6)
                if event["seq"] >= final_seq:
                    return
        except ConnectionClosed as exc:
            record["closed"] = repr(exc)

    loop = asyncio.get_running_loop()
    stop = loop.run_in_executor(None, conn.recv)  # the parent says "stop" once it has stopped waiting
    everyone = asyncio.gather(*(watch(ws, r) for ws, r in zip(sockets, records)))
    await asyncio.wait([everyone, stop], return_when=asyncio.FIRST_COMPLETED)
    everyone.cancel()
    conn.send({"records": records, "cpu_s": time.process_time()})
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    await stop


class Watchers:
    """`count` websocket clients of one run, spread over `procs` child processes."""

    def __init__(self, server: Server, session: str, run_id: int, after: int, final_seq: int, count: int,
                 procs: int):
        url = f"ws://127.0.0.1:{server.port}/ws/runs/{run_id}/?after={after}"
        headers = {"Cookie": f"sessionid={session}", "Origin": server.url}
        context = multiprocessing.get_context("spawn")  # the children import no Django and no torch
        self.children = []
        for share in [count // procs + (i < count % procs) for i in range(min(procs, count))]:
            parent, child = context.Pipe()
            process = context.Process(target=watchers_main, args=(child, url, headers, share, final_seq),
                                      daemon=True)
            process.start()
            self.children.append((process, parent))

    def wait_connected(self, timeout: float = 180) -> dict:
        connect_ms, failures = [], []
        deadline = time.monotonic() + timeout
        for _process, conn in self.children:
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                raise RuntimeError("the watchers did not connect in time")
            ready = conn.recv()
            connect_ms += ready["connect_ms"]
            failures += ready["failures"]
        return {"connected": len(connect_ms), "connect_ms": percentiles(connect_ms), "failures": failures[:5],
                "failed": len(failures)}

    def results(self, grace: float) -> list[dict]:
        """Every watcher's record, once each has the last event or `grace` seconds have passed."""
        records, self.cpu_s = [], 0.0
        deadline = time.monotonic() + grace
        for _process, conn in self.children:
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                conn.send("stop")
                report = conn.recv()
            else:
                report = conn.recv()
                conn.send("stop")
            records += report["records"]
            self.cpu_s += report["cpu_s"]
        for process, _conn in self.children:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        return records


# ---- the worker side: events through the real Publisher ---------------------------------------------------

class DropCounter(logging.Handler):
    """channels-redis drops a group message silently above capacity, logging only "N of M channels over
    capacity" at INFO in the sending process (this one): sum the N. (Channels of one Daphne process share one
    Redis key, so N counts processes that missed the message, each with all its watchers.)"""

    def __init__(self):
        super().__init__(logging.INFO)
        self.dropped = 0

    def emit(self, record):
        if "over capacity" in str(record.msg):
            self.dropped += int(record.args[0]) if record.args else 1


DROPS = DropCounter()


def step_data(i: int) -> dict:
    return {"epoch": 1, "step": 10 * (i + 1), "steps_per_epoch": 1875,
            "losses": [[10 * i + j, round(2.3 - 0.001 * (10 * i + j), 4)] for j in range(10)],
            "samples_per_s": 3512.4}


def epoch_data(i: int) -> dict:
    return {"epoch": i + 1, "train_loss": 0.31, "train_accuracy": 0.91, "val_loss": 0.35, "val_accuracy": 0.9,
            "samples_per_s": 3512.4, "epoch_time_s": 17.1, "lr": 0.001, "eta_s": 171.0}


def emit(run, kind: str, make, count: int, rate: float | None) -> tuple[int, dict[int, int]]:
    """Put `count` events through a Publisher (paced at `rate` a second, or all at once). Returns the wall-clock
    time (ns) of the first put, and when each event's group_send started (after the DB write), by seq."""
    from training import events

    sent: dict[int, int] = {}
    original = events._send

    async def timed_send(run_id, message):  # the Publisher's own send, timed as it starts (the event is stored)
        sent[message["seq"]] = time.time_ns()
        await original(run_id, message)

    events._send = timed_send
    try:
        publisher = events.Publisher(run, beat=lambda: False).start()  # never asked to stop
        first, first_ns = time.perf_counter(), time.time_ns()
        for i in range(count):
            if rate:
                delay = first + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            publisher.put(kind, {**make(i), "t_ns": time.time_ns()})
        publisher.close()  # returns once every event is stored and sent
    finally:
        events._send = original
    return first_ns, sent


def case(server, redis, session, new_run, *, watchers: int, procs: int, kind: str, make, events: int,
         rate: float | None, grace: float) -> dict:
    run = new_run()
    after, final = run.event_seq, run.event_seq + events
    pid = server.proc.pid
    rss_before = rss_mib(pid)
    group = Watchers(server, session, run.pk, after, final, watchers, procs)
    connected = group.wait_connected()
    rss_connected = rss_mib(pid)
    dropped_before = DROPS.dropped
    cpu_before = {"daphne": cpu_s(pid), "redis": cpu_s(redis.process.pid),
                  "worker (this process)": time.process_time()}
    first_put_ns, sent = emit(run, kind, make, events, rate)
    records = group.results(grace)
    cpu = {"daphne": cpu_s(pid), "redis": cpu_s(redis.process.pid), "worker (this process)": time.process_time()}
    cpu = {k: round(v - cpu_before[k], 2) for k, v in cpu.items()}
    cpu["clients (whole life)"] = round(group.cpu_s, 2)
    rss_after = rss_mib(pid)
    latencies = [ms for r in records for ms in r["latency_ms"]]
    expected = set(range(after + 1, final + 1))
    missing = [len(expected - set(r["seqs"])) for r in records]
    duplicates = sum(len(r["seqs"]) - len(set(r["seqs"])) for r in records)
    disorder = sum(any(b <= a for a, b in zip(r["seqs"], r["seqs"][1:])) for r in records)
    # Where the time goes: put -> stored, group_send starts (the publisher's queue and DB write), then -> received
    # (group_send to Redis, Daphne's consumers, the websocket, the client).
    delivery = [(received - sent[seq]) / 1e6 for r in records for seq, received in zip(r["seqs"], r["received_ns"])
                if seq in sent]
    put_ns = {seq: received - ms * 1e6 for r in records for seq, received, ms in
              zip(r["seqs"], r["received_ns"], r["latency_ms"])}
    publish = [(sent[seq] - put_ns[seq]) / 1e6 for seq in sent if seq in put_ns]
    # Time until the last watcher has each event: the slowest of the fan-out.
    by_seq: dict[int, float] = {}
    for r in records:
        for seq, ms in zip(r["seqs"], r["latency_ms"]):
            by_seq[seq] = max(by_seq.get(seq, 0.0), ms)
    result = {
        "watchers": watchers, "client_processes": len(group.children), "kind": kind, "events": events,
        "rate_per_s": rate, "latency_ms": percentiles(latencies),
        "put_to_stored_ms": percentiles(publish), "stored_to_received_ms": percentiles(delivery),
        "last_watcher_latency_ms": percentiles(list(by_seq.values())),
        "missing_total": sum(missing), "channel_layer_drops": DROPS.dropped - dropped_before,
        "watchers_with_loss": sum(m > 0 for m in missing),
        "max_missing_per_watcher": max(missing, default=events), "duplicates": duplicates,
        "watchers_out_of_order": disorder, "closed_early": sum(r["closed"] is not None for r in records),
        **connected, "cpu_s": cpu, "latency_by_event_ms": [round(by_seq[s], 1) for s in sorted(by_seq)],
        "server_rss_mib": {"before": rss_before, "connected": rss_connected, "after_events": rss_after},
    }
    received = sum(len(r["seqs"]) for r in records)
    result["daphne_cpu_us_per_message"] = round(cpu["daphne"] * 1e6 / received, 1) if received else None
    if watchers > 1:
        result["server_rss_per_watcher_kib"] = round((rss_connected - rss_before) * 1024 / watchers, 1)
    if rate is None and latencies:  # a backlog: how fast the publisher drains it end to end
        span_s = (max(ns for r in records for ns in r["received_ns"]) - first_put_ns) / 1e9
        result["drain_events_per_s"] = round(events / span_s, 1) if span_s > 0 else None
    return result


def seed_database():
    """A user with a session, a network and a factory of running Runs, in the benchmark's database."""
    from django.contrib.auth.models import User
    from django.test import Client

    from builder.graph.examples import EXAMPLES
    from builder.models import Network
    from training.config import check_config
    from training.models import Run

    user = User.objects.create_user("bench")
    network = Network.create(user, "bench", EXAMPLES["seed_cnn"]["graph"])
    client = Client()
    client.force_login(user)

    def new_run() -> Run:
        return Run.objects.create(owner=user, network=network, version=network.current_version(),
                                  dataset="digits", dataset_info={}, config=check_config({"epochs": 1}),
                                  status=Run.Status.RUNNING)

    return client.cookies["sessionid"].value, new_run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer events and 50 watchers (about 30 s)")
    parser.add_argument("--watchers", type=int, help="watchers of one run in the fan-out case (200; quick 50)")
    parser.add_argument("--client-procs", type=int, default=2, help="processes holding the fan-out's websockets")
    parser.add_argument("--fanout-rate", type=float, default=10, help="events a second in the fan-out case")
    parser.add_argument("--cases", default="steady,burst,fanout", help="which cases, comma-separated")
    parser.add_argument("--out", default="bench/results/live_feed.json")
    args = parser.parse_args()
    steady_n, burst_n, fan_n = (60, 50, 20) if args.quick else (300, 200, 50)
    watchers = args.watchers or (50 if args.quick else 200)

    with live_stack() as (server, redis):  # this process plays the worker, on the same database and Redis
        from django.conf import settings

        channels_log = logging.getLogger("channels_redis.core")
        channels_log.setLevel(logging.INFO)
        channels_log.addHandler(DROPS)

        session, new_run = seed_database()
        cases = {
            "steady": dict(watchers=1, kind="step", make=step_data, events=steady_n, rate=10, grace=10),
            "burst": dict(watchers=1, kind="step", make=step_data, events=burst_n, rate=None, grace=30),
            "fanout": dict(watchers=watchers, kind="epoch", make=epoch_data, events=fan_n, rate=args.fanout_rate,
                           grace=30),
        }
        chosen = [name for name in args.cases.split(",") if name]
        # Warm-up, not reported: first connections, first queries, first group_send.
        case(server, redis, session, new_run, watchers=1, kind="step", make=step_data, events=10, rate=10,
             grace=10, procs=1)
        results = {}
        for name in chosen:
            results[name] = case(server, redis, session, new_run, procs=args.client_procs, **cases[name])
            time.sleep(1.0)
            results[name]["server_rss_mib"]["after_disconnect"] = rss_mib(server.proc.pid)
        results["settings"] = {"channel_layer_capacity": settings.CHANNEL_LAYERS["default"]["CONFIG"].get(
            "capacity", 100), "database": "sqlite (WAL)", "quick": args.quick, "cpus": os.cpu_count()}

    print(f"{'case':<8} {'watchers':>8} {'events':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} "
          f"{'missing':>7}  notes")
    for name in chosen:
        r = results[name]
        lat = r["latency_ms"]
        notes = f"{r['rate_per_s']}/s" if r["rate_per_s"] else f"drained at {r.get('drain_events_per_s')}/s"
        stored, received = r["put_to_stored_ms"], r["stored_to_received_ms"]
        notes += (f"; p50/p95 ms put->stored {stored['p50']}/{stored['p95']}, stored->received "
                  f"{received['p50']}/{received['p95']}")
        if r["watchers"] > 1:
            rss = r["server_rss_mib"]
            notes += (f"; Daphne {r['daphne_cpu_us_per_message']} µs CPU a message; last watcher p95 "
                      f"{r['last_watcher_latency_ms']['p95']} ms, {r['failed']} refused, "
                      f"Daphne RSS {rss['before']} -> {rss['connected']} MiB "
                      f"({r['server_rss_per_watcher_kib']} KiB/watcher) -> {rss['after_events']} -> "
                      f"{rss['after_disconnect']} MiB after disconnect")
        print(f"{name:<8} {r['connected']:>8} {r['events']:>6} {lat['p50']!s:>7} {lat['p95']!s:>7} "
              f"{lat['p99']!s:>7} {lat['max']!s:>7} {r['missing_total']:>7}  {notes}; "
              f"{r['channel_layer_drops']} dropped by the channel layer", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
