"""Validation and analysis of a whole graph, finding every problem in one pass and naming its node.

Order of checks: the document's size, its structure, the node and edge counts, layer types and parameters,
edges, inputs of each node, cycles, the single Input and single output, shapes in topological order, and
the parameter count. A node whose own checks fail is reported once and skipped downstream, so one mistake
does not bury the graph in follow-on errors.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from graphlib import CycleError, TopologicalSorter
from typing import Any

from .errors import ErrorCode, GraphError
from .infer import InferenceError, NodeShape, infer_layout, infer_node, layout_problem, shape_key
from .layers import INPUT_LAYOUT, LAYERS, LayerSpec, format_shape, show_layout
from .limits import LIMIT_CODES, Limits, check_size, over_limit
from .params import ParamError
from .schema import MESSAGE_MAX_LENGTH, Graph, check_structure, clip, field_id, quote, upgrade

# Sizes PyTorch asks for that the graph infers from the layer's input; naming them is a mistake.
INFERRED = ("in_channels", "in_features", "input_size", "num_features", "num_channels", "normalized_shape",
            "d_model", "embed_dim", "kdim", "vdim")

BYTES_PER_VALUE = 4  # float32
LISTED_IDS = 10  # a message that lists nodes names this many and counts the rest


@dataclass
class Analysis:
    doc: Any  # the document, upgraded to the current format, so a caller can change it and analyse it again
    limits: Limits
    graph: Graph | None = None
    errors: list[GraphError] = field(default_factory=list)
    warnings: list[GraphError] = field(default_factory=list)  # the graph runs, but likely not as meant
    fixes: list[dict] = field(default_factory=list)  # one-click fixes: {"code", "node", "kind", "type", ...}
    order: list[str] = field(default_factory=list)  # topological order of the nodes that have shapes
    inputs: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # node -> (source, its output), by port
    params: dict[str, dict] = field(default_factory=dict)  # checked parameters, defaults filled in
    shapes: dict[str, NodeShape] = field(default_factory=dict)
    input_node: str | None = None
    output_node: str | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def limit_errors(self) -> list[GraphError]:
        """The errors that say the graph is over a limit (a server refuses the request with these)."""
        return [e for e in self.errors if e.code in LIMIT_CODES]

    @property
    def total_params(self) -> int:
        return sum(s.params for s in self.shapes.values())

    @property
    def frozen(self) -> list[str]:
        """The nodes whose weights do not train (`"trainable": false`), in computing order."""
        return [n for n in self.order if not self.graph.nodes[n].trainable and self.shapes[n].params]

    @property
    def frozen_params(self) -> int:
        return sum(self.shapes[n].params for n in self.frozen)

    def memory(self, batch_size: int) -> dict:
        """A rough training-memory estimate: weights, gradients, Adam's two moments, and activations."""
        weights = self.total_params * BYTES_PER_VALUE
        values = sum(_numel(s.shape) for s in self.shapes.values())
        activations = 2 * batch_size * values * BYTES_PER_VALUE  # outputs kept for backward, and their grads
        return {"batch_size": batch_size, "parameters": weights, "gradients": weights,
                "optimizer": 2 * weights, "activations": activations,
                "total": 4 * weights + activations}

    def summary(self, batch_size: int = 32) -> dict:
        nodes = {}
        for node_id, node in (self.graph.nodes.items() if self.graph else ()):
            shape = self.shapes.get(node_id)
            nodes[node_id] = {"type": node.type,
                              "output_shape": list(shape.shape) if shape else None,
                              "dtype": shape.dtype if shape else None,
                              "params": shape.params if shape else None,
                              "layout": shape.layout if shape else None}
            if shape and shape.more:  # a multi-output node: each output's name, shape and layout
                names = LAYERS[node.type].output_names(self.params[node_id])
                nodes[node_id]["outputs"] = [{"name": name, "shape": list(out.shape), "dtype": out.dtype,
                                              "layout": out.layout} for name, out in zip(names, shape.outputs)]
        output = self.shapes.get(self.output_node) if self.output_node else None
        source = self.shapes.get(self.input_node) if self.input_node else None
        return {"valid": self.valid,
                "errors": [e.as_dict() for e in self.errors],
                "warnings": [e.as_dict() for e in self.warnings],
                "fixes": list(self.fixes),
                "nodes": nodes,
                "total_params": self.total_params,
                "trainable_params": self.total_params - self.frozen_params,
                "frozen_params": self.frozen_params,
                "input_shape": list(source.shape) if source else None,
                "output_shape": list(output.shape) if output else None,
                "memory": self.memory(batch_size)}


def _numel(shape: tuple[int, ...]) -> int:
    count = 1
    for d in shape:
        count *= d
    return count


def _name(graph: Graph, node_id: str) -> str:
    node = graph.nodes[node_id]
    spec = LAYERS.get(node.type)
    return f"node {quote(node_id)} ({spec.display_name if spec else clip(node.type)})"


def _names(ids: list[str], sep: str = ", ", quoted: bool = False) -> str:
    """Some ids for a message, each shortened: the first LISTED_IDS and how many more."""
    shown = sep.join(quote(i) if quoted else clip(i) for i in ids[:LISTED_IDS])
    return shown if len(ids) <= LISTED_IDS else f"{shown} and {len(ids) - LISTED_IDS:,} more"


def check_params(spec: LayerSpec, node_id: str, raw: dict, label: str) -> tuple[dict, list[GraphError]]:
    """Fill in defaults and check every parameter value against the registry."""
    errors = []
    known = ", ".join(p.name for p in spec.params) or "no parameters"
    unknown = [key for key in raw if spec.param(key) is None]
    for key in unknown[:LISTED_IDS]:
        why = "is inferred from the graph; remove it" if key in INFERRED else \
            f"is not a parameter of {spec.type} (it takes {known})"
        errors.append(GraphError(f"{label}: {quote(key)} {why}", node=node_id, param=field_id(key),
                                 code=ErrorCode.UNKNOWN_PARAM))
    if len(unknown) > LISTED_IDS:  # one error for the rest, not one each
        errors.append(GraphError(f"{label}: {len(unknown) - LISTED_IDS:,} more keys are not parameters of "
                                 f"{spec.type} (it takes {known})", node=node_id, code=ErrorCode.UNKNOWN_PARAM))
    values = {}
    for param in spec.params:
        if param.required and param.name not in raw:
            errors.append(GraphError(f"{label}: {param.name} is required", node=node_id, param=param.name,
                                     code=ErrorCode.MISSING_PARAM))
            continue
        try:
            values[param.name] = param.check(raw.get(param.name, param.default))
        except ParamError as exc:
            errors.append(GraphError(clip(f"{label}: {param.name} {exc}", MESSAGE_MAX_LENGTH), node=node_id,
                                     param=param.name,
                                     code=ErrorCode.BAD_PARAM))
    return values, errors


def _sort(nodes: list[str], succ: dict[str, list[str]]) -> tuple[list[str], list[list[str]]]:
    """The nodes that no cycle holds back, in topological order, and each group of nodes on cycles together.

    graphlib names one cycle at a time, so each cycle it finds is merged into one node and what is left is
    sorted again; the groups at the end are the strongly connected components, so no node on a cycle is
    missed (removing a found cycle's nodes instead would free the other cycles through them). The nodes
    graphlib can still hand out past a cycle are on none, so each pass drops them, to keep the next one small.
    """
    position = {n: i for i, n in enumerate(nodes)}
    group = {n: n for n in nodes}  # node -> the node that names its merged group
    members = {n: [n] for n in nodes}
    pending, order = nodes, None
    while True:
        sorter = TopologicalSorter()
        for node_id in pending:  # every node first, so nodes without inputs come out in document order
            sorter.add(group[node_id])
        for source in pending:
            for target in succ[source]:
                if group[source] != group[target]:
                    sorter.add(group[target], group[source])
        try:
            sorter.prepare()
            cycle = None
        except CycleError as exc:
            cycle = exc.args[1][:-1]  # the cycle, its first node repeated at the end
        passed = []
        while ready := sorter.get_ready():
            passed.extend(ready)
            sorter.done(*ready)
        if order is None:  # the first pass, before any merge: these are single nodes
            order = passed
        if cycle is None:
            break
        head, *rest = cycle
        for other in rest:
            for member in members.pop(other):
                group[member] = head
                members[head].append(member)
        passed_set = set(passed)
        pending = [n for n in pending if group[n] not in passed_set]
    cycles = [sorted(m, key=position.__getitem__) for m in members.values() if len(m) > 1]
    return order, sorted(cycles, key=lambda c: position[c[0]])


def analyze(doc: Any, limits: Limits) -> Analysis:
    """Check a parsed graph document against the limits and infer every shape it can."""
    result = Analysis(doc, limits)
    if too_big := check_size(doc, limits):
        result.errors.append(too_big)
        return result
    result.doc = upgrade(doc)
    graph, errors = check_structure(result.doc)
    result.graph, result.errors = graph, errors
    if graph is None:
        return result
    counts = [over_limit(limits, "max_nodes", len(graph.nodes), "the graph has", "nodes"),
              over_limit(limits, "max_edges", len(graph.edges), "the graph has", "edges")]
    if any(counts):
        errors.extend(e for e in counts if e)
        return result

    broken: set[str] = set()  # nodes whose own checks failed: no shape is inferred for them or below them
    for node_id, node in graph.nodes.items():
        spec = LAYERS.get(node.type)
        if spec is None:
            close = difflib.get_close_matches(node.type, list(LAYERS), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            errors.append(GraphError(f"node {quote(node_id)}: unknown layer type {quote(node.type)}{hint}",
                                     node=node_id, code=ErrorCode.UNKNOWN_TYPE))
            broken.add(node_id)
            continue
        result.params[node_id], problems = check_params(spec, node_id, node.params, _name(graph, node_id))
        if problems:
            errors.extend(problems)
            broken.add(node_id)

    incoming: dict[str, list] = {n: [] for n in graph.nodes}
    succ: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for edge in graph.edges:
        missing = [end for end in (edge.source, edge.target) if end not in graph.nodes]
        if missing:
            known = next((end for end in (edge.source, edge.target) if end in graph.nodes), None)
            errors.append(GraphError(f"edge {edge.index} ({clip(edge.source)} → {clip(edge.target)}) points to no "
                                     f"node {quote(missing[0])}", node=known, edge=edge.index,
                                     code=ErrorCode.DANGLING_EDGE))
        elif edge.source == edge.target:
            errors.append(GraphError(f"{_name(graph, edge.source)} feeds its own input", node=edge.source,
                                     edge=edge.index, code=ErrorCode.CYCLE))
            broken.add(edge.source)
        else:
            incoming[edge.target].append(edge)
            succ[edge.source].append(edge.target)
            if edge.output and edge.source not in broken:
                names = LAYERS[graph.nodes[edge.source].type].output_names(result.params[edge.source])
                if edge.output >= len(names):
                    has = ("one output" if len(names) == 1 else
                           f"{len(names)} outputs ({', '.join(f'{i} {n}' for i, n in enumerate(names))})")
                    errors.append(GraphError(f"edge {edge.index} ({clip(edge.source)} → {clip(edge.target)}) leaves "
                                             f"output {edge.output} of {_name(graph, edge.source)}, which has {has}",
                                             node=edge.source, edge=edge.index, code=ErrorCode.NO_SUCH_OUTPUT))
                    broken.add(edge.target)

    for node_id, edges in incoming.items():
        edges.sort(key=lambda e: (e.port is None, e.port or 0, e.index))
        ports = [e.port for e in edges if e.port is not None]
        if len(ports) != len(set(ports)):
            errors.append(GraphError(f"{_name(graph, node_id)}: two edges feed the same port",
                                     node=node_id, code=ErrorCode.DUPLICATE_PORT))
            broken.add(node_id)
        result.inputs[node_id] = [(e.source, e.output) for e in edges]
        spec = LAYERS.get(graph.nodes[node_id].type)
        if spec is None:
            continue
        count = len(edges)
        sources = _names([e.source for e in edges], quoted=True)
        if count < spec.min_inputs:
            need = "an input: connect a layer to it" if spec.min_inputs == 1 else \
                f"at least {spec.min_inputs} inputs, has {count}"
            errors.append(GraphError(f"{_name(graph, node_id)} needs {need}", node=node_id,
                                     code=ErrorCode.MISSING_INPUT))
            broken.add(node_id)
        elif spec.max_inputs is not None and count > spec.max_inputs:
            takes = "no inputs" if spec.max_inputs == 0 else f"{spec.max_inputs} input"
            errors.append(GraphError(f"{_name(graph, node_id)} takes {takes}, but has {count} (from {sources})",
                                     node=node_id, code=ErrorCode.SURPLUS_INPUT))
            broken.add(node_id)

    order, cycles = _sort(list(graph.nodes), succ)
    for component in cycles:
        members = _names(component, " → ")
        for node_id in component:
            errors.append(GraphError(f"{_name(graph, node_id)} is part of a cycle ({members})",
                                     node=node_id, code=ErrorCode.CYCLE))
        broken.update(component)

    sources = [n for n, node in graph.nodes.items() if node.type == "Input"]
    sinks = [n for n, node in graph.nodes.items() if not succ[n] and node.type != "Input"]
    if not sources:
        errors.append(GraphError("the graph has no Input node", code=ErrorCode.NO_INPUT))
    for extra in sources[1:]:
        errors.append(GraphError(f"{_name(graph, extra)}: a graph takes one Input, this one has "
                                 f"{len(sources)} ({_names(sources)})", node=extra, code=ErrorCode.MULTIPLE_INPUTS))
    if not sinks and not any(e.code == ErrorCode.CYCLE for e in errors):
        errors.append(GraphError("the graph has no layers after its Input", code=ErrorCode.NO_OUTPUT))
    if len(sinks) > 1:
        for sink in sinks:
            errors.append(GraphError(f"{_name(graph, sink)} leads nowhere: a graph ends in one output layer, "
                                     f"this one ends in {len(sinks)} ({_names(sinks)})",
                                     node=sink, code=ErrorCode.MULTIPLE_OUTPUTS))
    result.input_node = sources[0] if sources else None
    result.output_node = sinks[0] if len(sinks) == 1 else None

    _infer_shapes(graph, result, broken, order, _auto_layout(graph, result, succ))
    if result.shapes:
        largest = max(result.shapes, key=lambda n: result.shapes[n].params)  # the first, on a tie
        detail = f". The largest layer is {_name(graph, largest)} with {result.shapes[largest].params:,}"
        if error := over_limit(limits, "max_params", result.total_params, "the model has", "parameters",
                               ErrorCode.TOO_MANY_PARAMS, node=largest, detail=detail):
            errors.append(error)
    return result


def _auto_layout(graph: Graph, result: Analysis, succ: dict[str, list[str]]) -> str | None:
    """What an Input of layout "auto" with two axes is: C×L or T×F, as the first layer that cares reads it
    (through layers that keep the layout: activations, dropout, ...); T×F, a sequence, when none does."""
    node_id = result.input_node
    params = result.params.get(node_id) if node_id else None
    if not params or params.get("layout", "auto") != "auto" or len(params.get("shape", ())) != 2:
        return None
    seen, queue = {node_id}, list(succ.get(node_id, ()))
    while queue:
        current = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        spec = LAYERS.get(graph.nodes[current].type)
        if spec is None:
            continue
        wants = [layout for layout in (*spec.needs, spec.prefers) if len(layout) == 2]
        if wants:
            return wants[0]
        if spec.layout is None:
            queue.extend(succ[current])
    return "TF"


def _infer_shapes(graph: Graph, result: Analysis, broken: set[str], order: list[str],
                  auto_layout: str | None = None) -> None:
    """Infer shapes and layouts in topological order, skipping nodes that are broken or fed by one."""
    warned: set[str] = set()  # nodes below a Dense warning: one forgotten Flatten is one warning, not one a Dense
    for node_id in order:
        if node_id in broken or any(s not in result.shapes for s, _ in result.inputs[node_id]):
            continue
        given = [result.shapes[s].output(k) for s, k in result.inputs[node_id]]
        sources = [s for s, _ in result.inputs[node_id]]
        node = graph.nodes[node_id]
        shapes = tuple(g.shape for g in given)
        dtypes = tuple(g.dtype for g in given)
        layouts = [g.layout for g in given]
        spec = LAYERS[node.type]
        if node.type == "Input" and (problem := _input_layout_problem(result.params[node_id])):
            result.errors.append(GraphError(f"{_name(graph, node_id)}: {problem}", node=node_id, param="layout",
                                            code=ErrorCode.LAYOUT))
            continue
        if layouts and (problem := layout_problem(node.type, layouts[0])):
            _layout_error(graph, result, node_id, sources[0], layouts[0], problem)
            layouts[0] = next(n for n in spec.needs if len(n) == len(layouts[0]))  # as if fixed: no cascade
        if spec.layout_param:
            result.params[node_id] = {**result.params[node_id], INPUT_LAYOUT: layouts[0]}
        try:
            shape = infer_node(node.type, shape_key(node.type, result.params[node_id]), shapes, dtypes)
            layout = infer_layout(node.type, result.params[node_id], layouts, list(shapes), shape.shape)
            if node.type == "Input" and auto_layout:
                layout = auto_layout
            more = tuple(replace(out, layout=infer_layout(node.type, result.params[node_id], layouts, list(shapes),
                                                          out.shape, index))
                         for index, out in enumerate(shape.more, start=1))
            result.shapes[node_id] = replace(shape, layout=layout, more=more)
            result.order.append(node_id)
            if any(s in warned for s in sources):
                warned.add(node_id)
            elif node.type == "Linear" and len(shapes[0]) > 1 and layouts[0] != "TF":
                _dense_warning(graph, result, node_id, shapes[0], layouts[0], shape.shape)
                warned.add(node_id)
        except InferenceError as exc:
            got = " and ".join(f"{format_shape(s)} from {quote(src)}"
                               for s, src in zip(shapes[:LISTED_IDS], sources[:LISTED_IDS]))
            if len(sources) > LISTED_IDS:
                got += f" and {len(sources) - LISTED_IDS:,} more"
            result.errors.append(GraphError(f"{_name(graph, node_id)} with input {got}: {exc}",
                                            node=node_id, code=ErrorCode.SHAPE))


def _input_layout_problem(params: dict) -> str | None:
    layout, shape = params.get("layout", "auto"), params["shape"]
    if layout == "auto" or len(layout) == len(shape):
        return None
    return (f"layout {show_layout(layout)} names {len(layout)} axes, but the shape {format_shape(shape)} "
            f"has {len(shape)}")


def _layout_error(graph: Graph, result: Analysis, node_id: str, source: str, layout: str, problem: str) -> None:
    """A layer given the wrong axes (a C×L layer fed T×F): an error, fixed by swapping the two axes."""
    swappable = {layout, *LAYERS[graph.nodes[node_id].type].needs} >= {"CL", "TF"} and len(layout) == 2
    hint = "; insert a Permute (dims [1, 0]) before it to swap the axes" if swappable else ""
    result.errors.append(GraphError(f"{_name(graph, node_id)} with input {show_layout(layout)} from {quote(source)}: "
                                    f"{problem}{hint}", node=node_id, code=ErrorCode.LAYOUT))
    if swappable:
        result.fixes.append({"code": str(ErrorCode.LAYOUT), "node": node_id, "kind": "insert", "type": "Permute",
                             "params": {"dims": [1, 0]}, "before": node_id})


def _dense_warning(graph: Graph, result: Analysis, node_id: str, shape: tuple, layout: str | None,
                   out: tuple) -> None:
    """A Dense on several axes works on the last one alone: usually a forgotten Flatten (a T×F sequence is
    meant to be read step by step, so it is no warning)."""
    result.warnings.append(GraphError(
        f"{_name(graph, node_id)} gets {format_shape(shape)} ({show_layout(layout)}) and acts on its last axis "
        f"only, giving {format_shape(out)}; insert a Flatten before it to use every value",
        node=node_id, code=ErrorCode.DENSE_MULTI_AXIS))
    result.fixes.append({"code": str(ErrorCode.DENSE_MULTI_AXIS), "node": node_id, "kind": "insert",
                         "type": "Flatten", "params": {}, "before": node_id})
