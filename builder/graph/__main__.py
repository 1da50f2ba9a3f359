"""Command line: python -m builder.graph validate|summary|export FILE.json

    python -m builder.graph import-torch MODULE:CALLABLE --input-shape 3,224,224 -o graph.json [--weights w.safetensors]
    python -m builder.graph import-onnx model.onnx -o graph.json [--weights w.safetensors]
import a PyTorch module (the callable, called with no arguments, returns it) through torch.fx, or an ONNX file.

An invalid graph exits with status 1 and prints each error on its own line, naming the node; warnings (a
graph that runs, but likely not as meant) are printed the same way and leave the status 0. The limits come
from GRAPH_MAX_NODES, GRAPH_MAX_EDGES, GRAPH_MAX_PARAMS and GRAPH_MAX_BYTES, as for the server.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from . import Limits, analyze, generate_source, parse_json
from .import_onnx import import_onnx, verify_onnx
from .import_torch import ImportRefused, import_module, verify
from .layers import LAYERS, show_layout


def import_torch(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m builder.graph import-torch",
                                     description="Import a PyTorch module, traced with torch.fx, as a graph.")
    parser.add_argument("target", help="MODULE:CALLABLE, e.g. mymodels:resnet18 (called with no arguments)")
    parser.add_argument("--input-shape", required=True, help="one sample's shape, without the batch: 3,224,224")
    parser.add_argument("--dtype", choices=["float32", "int64"], default="float32", help="int64 for token ids")
    parser.add_argument("-o", "--out", type=Path, required=True, help="the graph JSON to write")
    parser.add_argument("--weights", type=Path,
                        help="also write the weights (safetensors), named as model.py names them")
    args = parser.parse_args(argv)
    try:
        shape = [int(d) for d in args.input_shape.split(",")]
        module_name, _, attribute = args.target.partition(":")
        if not attribute:
            raise ValueError(f"the target must be MODULE:CALLABLE, got {args.target!r}")
        model = getattr(importlib.import_module(module_name), attribute)()
        imported = import_module(model, shape, args.dtype, name=attribute)
        count, error = verify(model, imported, Limits.from_env())
    except (ImportRefused, ValueError, ImportError, AttributeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return _write(args, imported, count, error, "the module's")


def import_onnx_file(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m builder.graph import-onnx",
                                     description="Import an ONNX file (parsed, never run) as a graph.")
    parser.add_argument("file", type=Path, help="the .onnx file")
    parser.add_argument("-o", "--out", type=Path, required=True, help="the graph JSON to write")
    parser.add_argument("--weights", type=Path,
                        help="also write the weights (safetensors), named as model.py names them")
    args = parser.parse_args(argv)
    try:
        data = args.file.read_bytes()
        imported = import_onnx(data, name=args.file.stem)
        count, error = verify_onnx(data, imported, Limits.from_env())
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except (ImportRefused, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return _write(args, imported, count, error, "the ONNX file's")


def _write(args: argparse.Namespace, imported, count: int, error: float, whose: str) -> int:
    args.out.write_text(json.dumps(imported.doc, indent=1) + "\n")
    if args.weights:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in imported.weights.items()}, str(args.weights))
    same = "the same as" if count == imported.module_params else f"{imported.module_params:,} in"
    print(f"ok: {len(imported.doc['nodes'])} nodes, {count:,} parameters ({same} {whose}), "
          f"largest relative difference of the outputs {error:.1e}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["import-torch"]:
        return import_torch(argv[1:])
    if argv[:1] == ["import-onnx"]:
        return import_onnx_file(argv[1:])
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
    rows = []
    for node_id in analysis.order:
        s, node_type = analysis.shapes[node_id], analysis.graph.nodes[node_id].type
        names = LAYERS[node_type].output_names(analysis.params[node_id]) if s.more else ("",)
        # A multi-output node lists each output by number and name: "0 sequence [28, 256] | 1 state [256]".
        shapes = " | ".join(f"{f'{i} {name} ' if name else ''}{list(out.shape)}"
                            for i, (name, out) in enumerate(zip(names, s.outputs)))
        rows.append((node_id, node_type, shapes, " | ".join(show_layout(out.layout) for out in s.outputs),
                     f"{s.params:,}"))
    rows.insert(0, ("node", "type", "output shape", "layout", "params"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(w) if i < 4 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
    print(f"total parameters: {analysis.total_params:,}")


if __name__ == "__main__":
    sys.exit(main())
