"""Whether a network fits a dataset, and the parameter changes that would make it fit.

The Input must match the samples' shape and dtype, and the output the targets' shape: one score per class
for classification, the target's shape for regression.
"""

from __future__ import annotations

import copy

from builder.graph import Analysis, analyze
from builder.graph.layers import format_shape

SHOWN_ERRORS = 3


def check_fit(analysis: Analysis, info: dict) -> dict:
    """{"fits", "problems", "fixes"} for an analysed graph and a dataset's `Dataset.info()`."""
    title = info["title"]
    if not analysis.valid:
        return _result([f"the network has errors, so its fit to {title} can't be checked: {_errors(analysis)}"], [])
    problems, fixes = _input_fixes(analysis, info)
    if fixes:
        # The output depends on the Input, so it is judged as it will be once the Input is fixed.
        analysis = analyze(apply_fixes(analysis.doc, fixes), analysis.limits)
        if not analysis.valid:
            return _result([*problems, f"with the Input changed to fit {title}, the network has errors: "
                                       f"{_errors(analysis)}"], fixes)
    node = analysis.output_node
    layer = analysis.graph.nodes[node].type
    have, want = analysis.shapes[node].shape, tuple(info["output_shape"])
    if have != want:
        needs = f"one score for each of its {want[0]} classes" if info["task"] == "classification" else \
            "the shape of its targets"
        changed = "with the Input changed, " if fixes else ""
        problems.append(f"{changed}the output node '{node}' ({layer}) gives shape {format_shape(have)}, but "
                        f"{title} needs {format_shape(want)}: {needs}")
        if layer == "Linear" and len(have) == len(want) and have[:-1] == want[:-1]:
            fixes.append({"node": node, "param": "out_features", "value": want[-1],
                          "description": f"set out_features of '{node}' to {want[-1]}"})
    return _result(problems, fixes)


def apply_fixes(doc: dict, fixes: list[dict]) -> dict:
    """A copy of the graph document with every fix applied."""
    fixed = copy.deepcopy(doc)
    nodes = {node["id"]: node for node in fixed["nodes"]}
    for fix in fixes:
        nodes[fix["node"]].setdefault("params", {})[fix["param"]] = fix["value"]
    return fixed


def _input_fixes(analysis: Analysis, info: dict) -> tuple[list[str], list[dict]]:
    node = analysis.input_node
    have = analysis.shapes[node]
    shape, dtype = tuple(info["input_shape"]), info["input_dtype"]
    problems, fixes = [], []
    if have.shape != shape:
        problems.append(f"the Input '{node}' has shape {format_shape(have.shape)}, but the samples of "
                        f"{info['title']} have shape {format_shape(shape)}")
        fixes.append({"node": node, "param": "shape", "value": list(shape),
                      "description": f"set the Input's shape to {format_shape(shape)}"})
    if have.dtype != dtype:
        problems.append(f"the Input '{node}' takes {have.dtype}, but {info['title']} holds {dtype} "
                        f"{'token ids' if dtype == 'int64' else 'values'}")
        fixes.append({"node": node, "param": "dtype", "value": dtype,
                      "description": f"set the Input's dtype to {dtype}"})
    return problems, fixes


def _errors(analysis: Analysis) -> str:
    messages = [error.message for error in analysis.errors]
    more = len(messages) - SHOWN_ERRORS
    return "; ".join(messages[:SHOWN_ERRORS]) + (f"; and {more} more" if more > 0 else "")


def _result(problems: list[str], fixes: list[dict]) -> dict:
    return {"fits": not problems, "problems": problems, "fixes": fixes}
