"""Command line: python -m builder.graph validate|summary|export FILE.json

An invalid graph exits with status 1 and prints each error on its own line, naming the node; warnings (a
graph that runs, but likely not as meant) are printed the same way and leave the status 0. The limits come
from GRAPH_MAX_NODES, GRAPH_MAX_EDGES, GRAPH_MAX_PARAMS and GRAPH_MAX_BYTES, as for the server.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import Limits, analyze, generate_source, parse_json
from .layers import show_layout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m builder.graph", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["validate", "summary", "export"])
    parser.add_argument("file", type=Path, help="a netgraph JSON file ('-' reads standard input)")
    parser.add_argument("--json", action="store_true", help="summary: print JSON")
    parser.add_argument("--batch-size", type=int, default=32, help="summary: batch size of the memory estimate")
    args = parser.parse_args(argv)

    try:
        text = sys.stdin.read() if str(args.file) == "-" else args.file.read_text()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        limits = Limits.from_env()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    doc, errors = parse_json(text)
    analysis = analyze(doc, limits) if not errors else None
    errors = errors or analysis.errors
    for warning in analysis.warnings if analysis else ():
        print(f"warning: {warning.message}", file=sys.stderr)
    if errors:
        for error in errors:
            print(f"error: {error.message}", file=sys.stderr)
        return 1

    if args.command == "validate":
        print(f"ok: {len(analysis.graph.nodes)} nodes, {analysis.total_params:,} parameters")
    elif args.command == "export":
        sys.stdout.write(generate_source(analysis))
    elif args.json:
        summary = analysis.summary(args.batch_size)
        print(json.dumps({"nodes": summary["nodes"], "total_params": summary["total_params"],
                          "output_shape": summary["output_shape"], "input_shape": summary["input_shape"],
                          "memory": summary["memory"]}, indent=2))
    else:
        _print_table(analysis)
    return 0


def _print_table(analysis) -> None:
    rows = [(node_id, analysis.graph.nodes[node_id].type, str(list(s.shape)), show_layout(s.layout), f"{s.params:,}")
            for node_id, s in ((n, analysis.shapes[n]) for n in analysis.order)]
    rows.insert(0, ("node", "type", "output shape", "layout", "params"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(w) if i < 4 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
    print(f"total parameters: {analysis.total_params:,}")


if __name__ == "__main__":
    sys.exit(main())
