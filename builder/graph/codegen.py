"""Graph to PyTorch: readable standalone source, and the module compiled from that very source.

Like torch.fx's GraphModule, the compiled model is the exported code executed, so the two cannot differ:
the same layer names (from the node ids), the same state_dict keys, the same forward. A layer torch.nn lacks
(positional embedding, class token) is a small class in layers.py whose source the file copies, once, when a
node uses it, so the file still needs only torch.
"""

from __future__ import annotations

import inspect
import keyword
import linecache
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count

import torch
from torch import nn

from .layers import HELPER_CLASSES, LAYERS, format_shape
from .validate import Analysis

# Names the generated class cannot give a layer or a variable without breaking itself.
RESERVED = {"self", "torch", "nn", *dir(nn.Module)}


class GraphInvalid(ValueError):
    """Code was asked for a graph that has errors."""

    def __init__(self, analysis: Analysis):
        super().__init__("; ".join(e.message for e in analysis.errors))
        self.errors = analysis.errors


def python_names(ids: list[str], taken: set[str] | None = None) -> dict[str, str]:
    """A distinct, valid Python identifier for each id, as close to the id as possible (and not in `taken`)."""
    names: dict[str, str] = {}
    taken = set() if taken is None else taken
    for node_id in ids:
        base = re.sub(r"[^0-9A-Za-z_]", "_", node_id)
        if not base or base[0].isdigit():
            base = f"n_{base}"
        if keyword.iskeyword(base) or base in RESERVED:
            base += "_"
        name = base
        for n in count(2):
            if name not in taken:
                break
            name = f"{base}_{n}"
        names[node_id] = name
        taken.add(name)
    return names


def class_name(graph_name: str) -> str:
    words = re.findall(r"[0-9A-Za-z]+", graph_name)
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Model"
    if name in {helper.__name__ for helper in HELPER_CLASSES}:  # the file may define a class of that name
        name += "Model"
    return f"Net{name}" if name[0].isdigit() else name


@dataclass
class _Body:
    """The parts of the generated class: constructor lines, forward lines per node, helper classes, names."""

    names: dict[str, str]
    variables: dict[tuple[str, int], str]
    init: list[str] = field(default_factory=list)
    forward: list[tuple[str, list[str]]] = field(default_factory=list)  # (node id, its lines)
    helpers: dict[type, None] = field(default_factory=dict)


def _body(analysis: Analysis) -> _Body:
    if not analysis.valid:
        raise GraphInvalid(analysis)
    graph = analysis.graph
    names = python_names(list(graph.nodes))
    body = _Body(names, _variables(analysis, names))
    variables = body.variables
    for node_id in analysis.order:
        node = graph.nodes[node_id]
        spec = LAYERS[node.type]
        if node.type == "Input":
            continue
        params = analysis.params[node_id]
        shapes = [analysis.shapes[s].output(k).shape for s, k in analysis.inputs[node_id]]
        inputs = [variables[source] for source in analysis.inputs[node_id]]
        attribute = f"self.{names[node_id]}"
        if spec.build is not None:
            call = spec.build(params, shapes)
            body.init.append(f"        {attribute} = {call.source()}")
            if call.helper:
                body.helpers[call.cls] = None  # a class torch.nn lacks: its definition goes into the file, once
        if spec.forward_many is not None:
            outs = [variables.get((node_id, k)) for k in range(len(analysis.shapes[node_id].outputs))]
            *lines, last = spec.forward_many(attribute, inputs, params, shapes, outs)
            shown = ", ".join(format_shape(analysis.shapes[node_id].output(k).shape)
                              for k, name in enumerate(outs) if name)
            body.forward.append((node_id, [*(f"        {line}" for line in lines), f"        {last}  # {shown}"]))
        else:
            expression = spec.forward(attribute, inputs, params, shapes)
            shown = format_shape(analysis.shapes[node_id].shape)
            body.forward.append((node_id, [f"        {names[node_id]} = {expression}  # {shown}"]))
    return body


def generate_source(analysis: Analysis, header: bool = True) -> str:
    """The model as a standalone PyTorch module: one class, one attribute per layer, one line per node."""
    body = _body(analysis)
    graph, names = analysis.graph, body.names
    cls = class_name(graph.name)
    source_node = analysis.shapes[analysis.input_node]
    output = analysis.shapes[analysis.output_node]
    init, helpers = body.init, body.helpers
    forward = [line for _, lines in body.forward for line in lines]

    lines = []
    if header:
        title = re.sub(r"[\x00-\x1f\x7f]", " ", graph.name or cls)  # a comment must stay one line
        lines += [
            f"# {title}: a PyTorch model exported by Netbuilder.",
            "# It needs only PyTorch. Load trained weights with:",
            f"#     model = {cls}()",
            '#     model.load_state_dict(torch.load("state_dict.pt", weights_only=True))',
        ]
    lines += ["import torch", "from torch import nn", "", ""]
    for helper in helpers:
        lines += [*inspect.getsource(helper).splitlines(), "", ""]
    lines += [
        f"class {cls}(nn.Module):",
        f'    """Input: {source_node.dtype} [batch, {", ".join(map(str, source_node.shape))}]. '
        f'Output: [batch, {", ".join(map(str, output.shape))}]. {analysis.total_params:,} parameters."""',
        "",
        "    def __init__(self):",
        "        super().__init__()",
        *init,
        "",
        f"    def forward(self, {names[analysis.input_node]}):",
        *forward,
        f"        return {body.variables[(analysis.output_node, 0)]}",
        "",
    ]
    return "\n".join(lines)


def _variables(analysis: Analysis, names: dict[str, str]) -> dict[tuple[str, int], str]:
    """The variable holding each output that is used: an edge leaves it, or it is the model's result.

    A node's first output is named after the node (`lstm`); its others after the node and the output's name
    (`lstm_state`, `split_1`), kept clear of every other name in the file. A multi-output node's unused
    outputs get no variable, so its code does not compute them.
    """
    used = {source for sources in analysis.inputs.values() for source in sources}
    used.add((analysis.output_node, 0))
    variables = {(node_id, 0): names[node_id] for node_id in analysis.order
                 if (node_id, 0) in used or not analysis.shapes[node_id].more}
    extra = {}
    for node_id, index in sorted(u for u in used if u[1]):
        output_name = LAYERS[analysis.graph.nodes[node_id].type].output_names(analysis.params[node_id])[index]
        extra[f"{names[node_id]}_{output_name}"] = (node_id, index)
    for wanted, name in python_names(list(extra), set(names.values())).items():
        variables[extra[wanted]] = name
    return variables


_compiled = count()


def compile_probe(analysis: Analysis) -> Callable[[nn.Module, torch.Tensor, Callable], None]:
    """The compiled model's forward as a function `probe(model, x, tap)` that hands each node's output to
    `tap(node_id, tensor)` as it is computed (a multi-output node's first used output), for layer statistics
    and for finding the first node whose output is not finite. The exported model.py has no taps."""
    body = _body(analysis)
    source_var = body.names[analysis.input_node]
    lines = [f"def probe(self, {source_var}, tap):", f"    tap({analysis.input_node!r}, {source_var})"]
    for node_id, node_lines in body.forward:
        tapped = body.variables.get((node_id, 0)) or next(
            v for (n, _), v in sorted(body.variables.items()) if n == node_id)
        lines += [line[4:] for line in node_lines] + [f"    tap({node_id!r}, {tapped})"]
    source = "\n".join(lines) + "\n"
    filename = f"<netgraph-probe-{next(_compiled)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"torch": torch, "nn": nn}
    exec(compile(source, filename, "exec"), namespace)
    return namespace["probe"]


def compile_graph(analysis: Analysis) -> nn.Module:
    """Build the graph's model by running its exported source; parameters get PyTorch's default init."""
    source = generate_source(analysis, header=False)
    filename = f"<netgraph-{next(_compiled)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # readable tracebacks
    namespace = {"torch": torch, "nn": nn}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[class_name(analysis.graph.name)]()
