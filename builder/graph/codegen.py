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


def python_names(ids: list[str]) -> dict[str, str]:
    """A distinct, valid Python identifier for each node id, as close to the id as possible."""
    names: dict[str, str] = {}
    taken: set[str] = set()
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


def generate_source(analysis: Analysis, header: bool = True) -> str:
    """The model as a standalone PyTorch module: one class, one attribute per layer, one line per node."""
    if not analysis.valid:
        raise GraphInvalid(analysis)
    graph = analysis.graph
    names = python_names(list(graph.nodes))
    cls = class_name(graph.name)
    source_node = analysis.shapes[analysis.input_node]
    output = analysis.shapes[analysis.output_node]

    init, forward, helpers = [], [], {}
    for node_id in analysis.order:
        node = graph.nodes[node_id]
        spec = LAYERS[node.type]
        if node.type == "Input":
            continue
        params = analysis.params[node_id]
        shapes = [analysis.shapes[s].shape for s in analysis.inputs[node_id]]
        attribute = f"self.{names[node_id]}"
        if spec.build is not None:
            call = spec.build(params, shapes)
            init.append(f"        {attribute} = {call.source()}")
            if call.helper:
                helpers[call.cls] = None  # a class torch.nn lacks: its definition goes into the file, once
        expression = spec.forward(attribute, [names[s] for s in analysis.inputs[node_id]], params, shapes)
        forward.append(f"        {names[node_id]} = {expression}  # {format_shape(analysis.shapes[node_id].shape)}")

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
        f"        return {names[analysis.output_node]}",
        "",
    ]
    return "\n".join(lines)


_compiled = count()


def compile_graph(analysis: Analysis) -> nn.Module:
    """Build the graph's model by running its exported source; parameters get PyTorch's default init."""
    source = generate_source(analysis, header=False)
    filename = f"<netgraph-{next(_compiled)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # readable tracebacks
    namespace = {"torch": torch, "nn": nn}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[class_name(analysis.graph.name)]()
