"""The download bundle of a trained model: its weights, its standalone source, the graph, the training
config and metrics, an ONNX file when one exports faithfully, a README, and all of it in one ZIP.

Plain Python with no Django import: the Celery task that finishes a run and the CLI both call write_bundle.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
import zipfile
from contextlib import contextmanager
from pathlib import Path

import onnxruntime
import torch
from safetensors.torch import save_file

from builder.graph import Analysis, compile_graph, generate_source
from builder.graph.codegen import class_name

ONNX_TOLERANCE = 1e-4  # largest difference from PyTorch, in eval mode, that still counts as the same model
CHECK_BATCHES = (1, 3)  # two batch sizes: an ONNX file whose batch got fixed at export fails one of them
EXPORT_BATCH = 2  # torch.export specialises a dimension of size 1, which would fix the batch at 1


def write_bundle(out_dir: Path, model: torch.nn.Module, analysis: Analysis, graph: dict,
                 config: dict, metrics: dict, sample_input: torch.Tensor, dataset: dict | None = None) -> dict:
    """Write the bundle of a trained model into out_dir and report what was written.

    sample_input is a batch of real inputs (one row will do); the ONNX file is checked against it. `dataset`:
    the training data's Dataset.info(), whose scaling and class names the README gives. Returns
    {"files": {name: size in bytes}, "onnx": {"ok", "max_abs_diff", "error"}}, ready to be stored as JSON.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # On the CPU, so the files load on a machine without the GPU the model was trained on.
    state = {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()}

    save_file(state, out_dir / "weights.safetensors")
    torch.save(state, out_dir / "state_dict.pt")
    (out_dir / "model.py").write_text(generate_source(analysis), encoding="utf-8")
    for name, document in (("graph.json", graph), ("config.json", config), ("metrics.json", metrics)):
        (out_dir / name).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    onnx = export_onnx(out_dir / "model.onnx", analysis, state, sample_input)
    (out_dir / "README.md").write_text(readme(analysis, onnx["ok"], dataset), encoding="utf-8")

    names = ["model.py", "weights.safetensors", "state_dict.pt", *(["model.onnx"] if onnx["ok"] else []),
             "graph.json", "config.json", "metrics.json", "README.md"]
    with zipfile.ZipFile(out_dir / "bundle.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        folder = folder_name(analysis)  # one top-level folder, so unzipping does not spill into the cwd
        for name in names:
            archive.write(out_dir / name, f"{folder}/{name}")
    return {"files": {name: (out_dir / name).stat().st_size for name in [*names, "bundle.zip"]}, "onnx": onnx}


def folder_name(analysis: Analysis) -> str:
    """The model's name as a folder name: "Seed CNN" becomes seed_cnn."""
    return re.sub(r"[^0-9a-z]+", "_", (analysis.graph.name or "").lower()).strip("_") or "model"


def export_onnx(path: Path, analysis: Analysis, state: dict, sample_input: torch.Tensor) -> dict:
    """Write model.onnx only if it exports with a free batch size and ONNX Runtime agrees with PyTorch.

    Some layers may not export, or not faithfully: then no file is written and the report says why.
    """
    # A fresh CPU copy in eval mode, so the trained model stays untouched (and possibly on its GPU); it is
    # float32 whatever the weights' dtype, as load_state_dict copies them into its float32 parameters. It is
    # exactly the model that the bundle's model.py and weights rebuild.
    model = compile_graph(analysis)
    model.load_state_dict(state)
    model.eval()
    source = analysis.shapes[analysis.input_node]
    inputs = sample_input.detach().cpu().to(getattr(torch, source.dtype))

    def rows(n: int) -> torch.Tensor:
        return inputs[torch.arange(n) % len(inputs)]  # n rows, repeating the sample if it is shorter

    try:
        with quiet_exporter():
            program = torch.onnx.export(model, (rows(EXPORT_BATCH),), dynamo=True, verbose=False,
                                        dynamic_shapes=({0: torch.export.Dim("batch")},))
        onnx_bytes = program.model_proto.SerializeToString()
        session = onnxruntime.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
        diff = 0.0
        with torch.no_grad():
            for n in CHECK_BATCHES:
                x = rows(n)
                got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
                diff = max(diff, (torch.from_numpy(got) - model(x)).abs().max().item())
    except Exception as exc:
        return {"ok": False, "max_abs_diff": None, "error": f"{type(exc).__name__}: {exc}"}
    if not diff <= ONNX_TOLERANCE:  # also catches NaN
        return {"ok": False, "max_abs_diff": diff,
                "error": f"ONNX Runtime differs from PyTorch by {diff:.3g} (more than {ONNX_TOLERANCE:g})"}
    path.write_bytes(onnx_bytes)
    return {"ok": True, "max_abs_diff": diff, "error": None}


@contextmanager
def quiet_exporter():
    """Keep the exporter's progress lines and internal deprecation warnings off the worker's console.

    Its errors are exceptions, which still propagate.
    """
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def readme(analysis: Analysis, with_onnx: bool, dataset: dict | None = None) -> str:
    cls = class_name(analysis.graph.name)
    title = " ".join((analysis.graph.name or cls).split())  # a heading must stay on one line
    source = analysis.shapes[analysis.input_node]
    shape = ", ".join(map(str, source.shape))
    dtype = "" if source.dtype == "float32" else f", dtype=torch.{source.dtype}"
    lines = [
        f"# {title}",
        "",
        "Trained with Netbuilder. In this folder, PyTorch alone runs it:",
        "",
        "```python",
        "import torch",
        f"from model import {cls}",
        "",
        f"model = {cls}()",
        'model.load_state_dict(torch.load("state_dict.pt", weights_only=True))',
        "model.eval()",
        f"x = torch.zeros(1, {shape}{dtype})  # a batch of {source.dtype} inputs: [batch, {shape}]",
        "print(model(x))",
        "```",
        "",
        "- `weights.safetensors` holds the same weights, for "
        '`model.load_state_dict(safetensors.torch.load_file("weights.safetensors"))`.',
    ]
    if with_onnx:
        lines.append("- `model.onnx` runs in ONNX Runtime at any batch size.")
    lines += ["- `graph.json` is the network as drawn, `config.json` its training settings and "
              "`metrics.json` its final metrics.", ""]
    if dataset:
        lines += data_section(dataset)
    return "\n".join(lines)


def data_section(dataset: dict) -> list[str]:
    """What an input must look like (its scaling, as in training) and what the outputs mean (the class names)."""
    lines = ["## Inputs and outputs", "",
             f"Trained on {dataset.get('title') or dataset.get('name', 'its dataset')}. Scale new inputs as the "
             f"training inputs were: {dataset.get('scaling') or 'not recorded for this dataset'}.", ""]
    classes = dataset.get("classes") or []
    if dataset.get("task") == "classification" and classes:
        lines += [f"The output is one score (a logit) per class; `output.softmax(-1)` gives probabilities and "
                  f"`output.argmax(-1)` the class index. The {len(classes)} classes, by index:", ""]
        lines += [f"- {i}: {name}" for i, name in enumerate(classes)]
    else:
        lines.append(f"The output is the predicted target, of shape {dataset.get('output_shape')} per sample.")
    return [*lines, ""]
