"""Time from opening the editor page to the first complete render of a 450-node graph, in Chromium.

A real Daphne server on a fresh SQLite database (migrated with `manage.py migrate`) and an embedded Redis; Debian's
Chromium (/usr/bin/chromium) driven by Playwright, logged in by a session cookie. Two imported-style graphs with no
positions, so the editor lays them out with dagre on open: (a) the residual CNN of bench/validate_latency.py, (b)
the same with every block in a group (`stage0.block3`), drawn as nested boxes. A load is timed from navigation
start to the editor's `data-first-render` mark on <body>: the first validation's shapes drawn on the laid-out,
fitted canvas. The first load of each graph is a warm-up (Chromium's caches, the server's shape cache) and is not
counted. Prints p50/p95 in ms against the goal (under 2 s) and writes JSON.

    .venv/bin/python bench/editor_render.py [--loads 7] [--out bench/results/editor_render.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.live_stack import live_stack

from tests.services import Server

GOAL_MS = 2000
SIZE = 450
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def percentiles(samples: list[float]) -> dict:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": round(cuts[49]), "p95": round(cuts[94]), "max": round(max(samples)), "n": len(samples)}


def seed_database() -> tuple[str, dict[str, int]]:
    """A user's session and one network per case, in the benchmark's database."""
    from django.contrib.auth.models import User
    from django.test import Client

    from builder.models import Network

    from tests.graphs import residual_graph

    user = User.objects.create_user("bench")
    networks = {"residual": Network.create(user, "residual 450", residual_graph(SIZE)).pk,
                "grouped": Network.create(user, "grouped 450", residual_graph(SIZE, grouped=True)).pk}
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value, networks


def time_loads(server: Server, session: str, network_id: int, loads: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_cookies([{"name": "sessionid", "value": session, "url": server.url}])
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        for _ in range(loads + 1):
            page.goto(f"{server.url}/networks/{network_id}/")
            page.wait_for_function("() => /^\\d+$/.test(document.body.dataset.firstRender ?? '')", timeout=60_000)
            times.append(float(page.evaluate("() => Number(document.body.dataset.firstRender)")))
            nodes = page.evaluate("() => window.netbuilder.canvas.nodes().length")
            assert nodes == SIZE, f"{nodes} nodes drawn, not {SIZE}"
        browser.close()
    assert not errors, errors
    return times[1:]  # the first load warms the caches up


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loads", type=int, default=7, help="timed loads of each graph (after one warm-up)")
    parser.add_argument("--out", default="bench/results/editor_render.json")
    args = parser.parse_args()

    with live_stack() as (server, _):
        session, networks = seed_database()
        results = {}
        for case, network_id in networks.items():
            samples = time_loads(server, session, network_id, args.loads)
            results[case] = {"nodes": SIZE, "first_render_ms": percentiles(samples), "samples_ms": samples}
        results["goal_ms"] = GOAL_MS
        results["cpus"] = os.cpu_count()

    print(f"{'graph':<9} {'nodes':>5} {'loads':>5} {'p50 ms':>7} {'p95 ms':>7}  goal")
    for case in networks:
        r = results[case]["first_render_ms"]
        verdict = "met" if r["p95"] < GOAL_MS else "NOT met"
        print(f"{case:<9} {SIZE:>5} {r['n']:>5} {r['p50']:>7} {r['p95']:>7}  p95 < {GOAL_MS} ms: {verdict}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
