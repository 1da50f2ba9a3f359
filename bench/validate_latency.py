"""Server time of POST /api/graphs/validate for residual CNN graphs of 10, 100, 450 and 500 nodes.

Three cases per size: cold (a fresh process cache: every node inferred), repeat (the same graph again) and
edit (one node's parameter changed, as in the editor). Prints p50/p95/p99 in milliseconds and writes JSON.

    .venv/bin/python bench/validate_latency.py [--repeats N] [--out bench/results/validate.json]
"""

import argparse
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402 (needs django.setup() first)
from django.core.management import call_command  # noqa: E402 (needs django.setup() first)
from django.test import Client  # noqa: E402 (needs django.setup() first)

from builder.graph.infer import infer_node, warm_up  # noqa: E402 (needs django.setup() first)

from tests.graphs import residual_graph  # noqa: E402 (after django.setup(), as the imports above)


def timed(client: Client, doc: dict) -> float:
    body = json.dumps(doc)
    start = time.perf_counter()
    response = client.post("/api/graphs/validate", body, content_type="application/json")
    elapsed = time.perf_counter() - start
    assert response.status_code == 200 and response.json()["valid"], response.content[:300]
    return elapsed * 1000


def percentiles(samples: list[float]) -> dict:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": round(cuts[49], 2), "p95": round(cuts[94], 2), "p99": round(cuts[98], 2), "n": len(samples)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--out", default="bench/results/validate.json")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    client = Client()
    client.force_login(User.objects.create_user("bench"))
    warm_up()
    gc.freeze()  # as the server does after its warm-up (config/asgi.py): torch's objects stay out of the collector
    timed(client, residual_graph(10))  # the first request pays Django's one-time set-up (about 0.9 s): not a case
    results = {}
    for size in (10, 100, 450, 500):  # 450: about the largest imported classifier
        doc = residual_graph(size)
        cold, repeat, edit = [], [], []
        for i in range(args.repeats):
            infer_node.cache_clear()
            cold.append(timed(client, doc))
            repeat.append(timed(client, doc))
            doc["nodes"][1 + 4 * (i % ((size - 3) // 4)) + 1]["params"]["eps"] = 1e-5 * (2 + i)
            edit.append(timed(client, doc))
        results[size] = {"nodes": len(doc["nodes"]), "cold": percentiles(cold), "repeat": percentiles(repeat),
                         "edit": percentiles(edit)}
    print(f"{'nodes':>5}  {'case':<6}  {'p50 ms':>7}  {'p95 ms':>7}  {'p99 ms':>7}")
    for cases in results.values():
        for case in ("cold", "repeat", "edit"):
            c = cases[case]
            print(f"{cases['nodes']:>5}  {case:<6}  {c['p50']:>7}  {c['p95']:>7}  {c['p99']:>7}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
