"""Validation and analysis of a whole graph, finding every problem in one pass and naming its node.

Order of checks: document structure, limits, layer types and parameters, edges, inputs of each node,
cycles, the single Input and single output, then shapes in topological order. A node whose own checks fail
is reported once and skipped downstream, so one mistake does not bury the graph in follow-on errors.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from .errors import GraphError
from .infer import InferenceError, NodeShape, freeze, infer_node
from .layers import LAYERS, LayerSpec, format_shape
from .params import ParamError
from .schema import Graph, check_structure

# Sizes PyTorch asks for that the graph infers from the layer's input; naming them is a mistake.
INFERRED = ("in_channels", "in_features", "input_size", "num_features", "normalized_shape", "d_model")

BYTES_PER_VALUE = 4  # float32


@dataclass(frozen=True)
class Limits:
    """Configurable bounds that keep one graph from taking the server down."""

    max_nodes: int = 500
    max_edges: int = 2000
    max_params: int = 200_000_000


@dataclass
class Analysis:
    graph: Graph | None
    errors: list[GraphError] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # topological order of the nodes that have shapes
    inputs: dict[str, list[str]] = field(default_factory=dict)  # node -> source nodes, in port order
    params: dict[str, dict] = field(default_factory=dict)  # checked parameters, defaults filled in
    shapes: dict[str, NodeShape] = field(default_factory=dict)
    input_node: str | None = None
    output_node: str | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def total_params(self) -> int:
        return sum(s.params for s in self.shapes.values())

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
                              "params": shape.params if shape else None}
        output = self.shapes.get(self.output_node) if self.output_node else None
        source = self.shapes.get(self.input_node) if self.input_node else None
        return {"valid": self.valid,
                "errors": [e.as_dict() for e in self.errors],
                "nodes": nodes,
                "total_params": self.total_params,
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
    return f"node '{node_id}' ({spec.display_name if spec else node.type})"


def check_params(spec: LayerSpec, node_id: str, raw: dict, label: str) -> tuple[dict, list[GraphError]]:
    """Fill in defaults and check every parameter value against the registry."""
    errors = []
    for key in raw:
        if spec.param(key) is not None:
            continue
        if key in INFERRED:
            why = "is inferred from the graph; remove it"
        else:
            known = ", ".join(p.name for p in spec.params) or "no parameters"
            why = f"is not a parameter of {spec.type} (it takes {known})"
        errors.append(GraphError(f"{label}: '{key}' {why}", node=node_id, param=key, code="unknown_param"))
    values = {}
    for param in spec.params:
        if param.required and param.name not in raw:
            errors.append(GraphError(f"{label}: {param.name} is required", node=node_id, param=param.name,
                                     code="missing_param"))
            continue
        try:
            values[param.name] = param.check(raw.get(param.name, param.default))
        except ParamError as exc:
            errors.append(GraphError(f"{label}: {param.name} {exc}", node=node_id, param=param.name,
                                     code="bad_param"))
    return values, errors


def _cycles(nodes: list[str], succ: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(succ[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component, key=nodes.index))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(succ[child])))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def analyze(doc: Any, limits: Limits = Limits()) -> Analysis:
    """Check a parsed graph document and infer every shape it can."""
    graph, errors = check_structure(doc)
    result = Analysis(graph, errors)
    if graph is None:
        return result
    if len(graph.nodes) > limits.max_nodes or len(graph.edges) > limits.max_edges:
        errors.append(GraphError(f"the graph has {len(graph.nodes)} nodes and {len(graph.edges)} edges; "
                                 f"the limit is {limits.max_nodes} nodes and {limits.max_edges} edges",
                                 code="too_large"))
        return result

    broken: set[str] = set()  # nodes whose own checks failed: no shape is inferred for them or below them
    for node_id, node in graph.nodes.items():
        spec = LAYERS.get(node.type)
        if spec is None:
            close = difflib.get_close_matches(node.type, list(LAYERS), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            errors.append(GraphError(f"node '{node_id}': unknown layer type '{node.type}'{hint}",
                                     node=node_id, code="unknown_type"))
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
            errors.append(GraphError(f"edge {edge.index} ({edge.source} → {edge.target}) points to no node "
                                     f"'{missing[0]}'", node=known, edge=edge.index, code="dangling_edge"))
        elif edge.source == edge.target:
            errors.append(GraphError(f"{_name(graph, edge.source)} feeds its own input", node=edge.source,
                                     edge=edge.index, code="cycle"))
            broken.add(edge.source)
        else:
            incoming[edge.target].append(edge)
            succ[edge.source].append(edge.target)

    for node_id, edges in incoming.items():
        edges.sort(key=lambda e: (e.port is None, e.port or 0, e.index))
        ports = [e.port for e in edges if e.port is not None]
        if len(ports) != len(set(ports)):
            errors.append(GraphError(f"{_name(graph, node_id)}: two edges feed the same port",
                                     node=node_id, code="duplicate_port"))
            broken.add(node_id)
        result.inputs[node_id] = [e.source for e in edges]
        spec = LAYERS.get(graph.nodes[node_id].type)
        if spec is None:
            continue
        count = len(edges)
        sources = ", ".join(f"'{e.source}'" for e in edges)
        if count < spec.min_inputs:
            need = "an input: connect a layer to it" if spec.min_inputs == 1 else \
                f"at least {spec.min_inputs} inputs, has {count}"
            errors.append(GraphError(f"{_name(graph, node_id)} needs {need}", node=node_id,
                                     code="missing_input"))
            broken.add(node_id)
        elif spec.max_inputs is not None and count > spec.max_inputs:
            takes = "no inputs" if spec.max_inputs == 0 else f"{spec.max_inputs} input"
            errors.append(GraphError(f"{_name(graph, node_id)} takes {takes}, but has {count} (from {sources})",
                                     node=node_id, code="surplus_input"))
            broken.add(node_id)

    for component in _cycles(list(graph.nodes), succ):
        members = " → ".join(component)
        for node_id in component:
            errors.append(GraphError(f"{_name(graph, node_id)} is part of a cycle ({members})",
                                     node=node_id, code="cycle"))
        broken.update(component)

    sources = [n for n, node in graph.nodes.items() if node.type == "Input"]
    sinks = [n for n, node in graph.nodes.items() if not succ[n] and node.type != "Input"]
    if not sources:
        errors.append(GraphError("the graph has no Input node", code="no_input"))
    for extra in sources[1:]:
        errors.append(GraphError(f"{_name(graph, extra)}: a graph takes one Input, this one has "
                                 f"{len(sources)} ({', '.join(sources)})", node=extra, code="multiple_inputs"))
    if not sinks and not any(e.code == "cycle" for e in errors):
        errors.append(GraphError("the graph has no layers after its Input", code="no_output"))
    if len(sinks) > 1:
        for sink in sinks:
            errors.append(GraphError(f"{_name(graph, sink)} leads nowhere: a graph ends in one output layer, "
                                     f"this one ends in {len(sinks)} ({', '.join(sinks)})",
                                     node=sink, code="multiple_outputs"))
    result.input_node = sources[0] if sources else None
    result.output_node = sinks[0] if len(sinks) == 1 else None

    _infer_shapes(graph, result, broken, succ)
    if result.total_params > limits.max_params:
        errors.append(GraphError(f"the model has {result.total_params:,} parameters; the limit is "
                                 f"{limits.max_params:,}", code="too_many_params"))
    return result


def _infer_shapes(graph: Graph, result: Analysis, broken: set[str], succ: dict[str, list[str]]) -> None:
    """Infer shapes in topological order (Kahn), skipping nodes that are broken or fed by one."""
    pending = {n: len(result.inputs[n]) for n in graph.nodes}
    ready = [n for n in graph.nodes if pending[n] == 0]
    while ready:
        node_id = ready.pop(0)
        for child in succ[node_id]:
            pending[child] -= 1
            if pending[child] == 0:
                ready.append(child)
        sources = result.inputs[node_id]
        if node_id in broken or any(s not in result.shapes for s in sources):
            continue
        node = graph.nodes[node_id]
        shapes = tuple(result.shapes[s].shape for s in sources)
        dtypes = tuple(result.shapes[s].dtype for s in sources)
        try:
            result.shapes[node_id] = infer_node(node.type, freeze(result.params[node_id]), shapes, dtypes)
            result.order.append(node_id)
        except InferenceError as exc:
            got = " and ".join(f"{format_shape(s)} from '{src}'" for s, src in zip(shapes, sources))
            result.errors.append(GraphError(f"{_name(graph, node_id)} with input {got}: {exc}",
                                            node=node_id, code="shape"))
