"""Shape inference: each node's output shape and parameter count, from PyTorch itself on the meta device.

A node is built and called exactly as the compiled model builds and calls it (the registry's constructor
call and forward expression), on `meta` tensors, which carry shapes but no data. Results are cached by
(type, parameters, input shapes), so an edit re-infers only the nodes whose inputs changed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from functools import lru_cache

import torch

from .layers import BY_RANK, LAYERS, Shape, format_shape, show_layout

PROBE_BATCH = 2  # BatchNorm refuses a batch of one while training


class InferenceError(ValueError):
    """PyTorch (or a layer's own check) refused these inputs; the message says why."""


@dataclass(frozen=True)
class NodeShape:
    shape: Shape
    dtype: str  # "float32" or "int64"
    params: int
    layout: str | None = None  # the names of the axes, one letter each: "CHW", "CL", "TF", "F", "T", "C"
    more: tuple[NodeShape, ...] = ()  # a multi-output node's outputs after its first (an LSTM's state)

    def output(self, index: int) -> NodeShape:
        """Output `index` of the node (0 is this one)."""
        return self if index == 0 else self.more[index - 1]

    @property
    def outputs(self) -> tuple[NodeShape, ...]:
        return (self, *self.more)


def freeze(params: dict) -> tuple:
    return tuple(sorted(params.items()))


def shape_key(layer_type: str, params: dict) -> tuple:
    """The parameters as the inference cache keys them: those that cannot change a shape or a parameter
    count (eps, dropout rates) at their defaults, so that editing one reuses the inferred result."""
    spec = LAYERS[layer_type]
    return freeze({k: v if (param := spec.param(k)) is None or param.shaping else param.default
                   for k, v in params.items()})


@lru_cache(maxsize=4096)
def _forward_function(expression: str, arity: int):
    args = ", ".join(f"x{i}" for i in range(arity))
    return eval(f"lambda m, {args}: {expression}", {"torch": torch})


@lru_cache(maxsize=1024)
def _statements_function(statements: tuple[str, ...], arity: int, outputs: int):
    """A multi-output node's forward statements as a function returning every output."""
    args = ", ".join(f"x{i}" for i in range(arity))
    body = "".join(f"    {line}\n" for line in statements)
    source = f"def f(m, {args}):\n{body}    return ({', '.join(f'o{i}' for i in range(outputs))},)\n"
    namespace = {"torch": torch}
    exec(source, namespace)
    return namespace["f"]


@lru_cache(maxsize=16384)
def infer_node(layer_type: str, frozen_params: tuple, shapes: tuple[Shape, ...],
               dtypes: tuple[str, ...]) -> NodeShape:
    spec = LAYERS[layer_type]
    params = dict(frozen_params)
    if layer_type == "Input":
        return NodeShape(tuple(params["shape"]), params["dtype"], 0)
    if spec.ranks is not None:
        for shape in shapes:
            if len(shape) not in spec.ranks:
                raise InferenceError(f"expects {spec.rank_hint} input ({'/'.join(map(str, spec.ranks))}-D), "
                                     f"got {format_shape(shape)}")
    tokens = any(d == "int64" for d in dtypes)
    if spec.takes_tokens and not all(d == "int64" for d in dtypes):
        raise InferenceError("expects token ids: set the Input's dtype to int64")
    if tokens and not (spec.takes_tokens or spec.passes_tokens):
        raise InferenceError("gets token ids (int64): pass them through an Embedding first")
    if spec.check is not None and (problem := spec.check(params, list(shapes))):
        raise InferenceError(problem)
    inputs = [torch.empty((PROBE_BATCH, *s), device="meta", dtype=getattr(torch, d))
              for s, d in zip(shapes, dtypes)]
    names = [f"x{i}" for i in range(len(shapes))]
    if spec.forward_many is not None:
        count = len(spec.output_names(params))
        statements = spec.forward_many("m", names, params, list(shapes), [f"o{i}" for i in range(count)])
        function = _statements_function(tuple(statements), len(shapes), count)
    else:
        function = _forward_function(spec.forward("m", names, params, list(shapes)), len(shapes))
    try:
        with warnings.catch_warnings(), torch.device("meta"):
            warnings.simplefilter("ignore")
            module = None
            if spec.build is not None:
                call = spec.build(params, list(shapes))
                module = call.cls(*call.args, **call.kwargs)
            out = function(module, *inputs)
    except Exception as exc:  # PyTorch's own refusal (kernel larger than input, ...) is the message
        raise InferenceError(f"PyTorch refuses input {' and '.join(format_shape(s) for s in shapes)}: {exc}") from None
    outs = out if spec.forward_many is not None else (out,)
    if any(o.shape[0] != PROBE_BATCH for o in outs):
        raise InferenceError("changes the batch size")
    count = sum(p.numel() for p in module.parameters()) if module is not None else 0
    first, *rest = (NodeShape(tuple(o.shape[1:]), str(o.dtype).removeprefix("torch."), 0) for o in outs)
    return replace(first, params=count, more=tuple(rest))


def input_layout(params: dict) -> str | None:
    """The Input's layout: the one it names, or by its rank and dtype (token ids are T)."""
    if params.get("layout", "auto") != "auto":
        return params["layout"]
    if params["dtype"] == "int64" and len(params["shape"]) == 1:
        return "T"
    return BY_RANK.get(len(params["shape"]))


def layout_problem(layer_type: str, layout: str | None) -> str | None:
    """Why a layer refuses its first input's layout (a C×L layer given T×F, ...), or None."""
    needs = [n for n in LAYERS[layer_type].needs if layout and len(n) == len(layout)]
    if not needs or layout in needs:
        return None
    return f"expects {' or '.join(map(show_layout, needs))}, got {show_layout(layout)}"


def infer_layout(layer_type: str, params: dict, layouts: list[str | None], shapes: list[Shape],
                 out: Shape, index: int = 0) -> str | None:
    """The layout of output `index`, as the registry declares it for this layer."""
    spec = LAYERS[layer_type]
    if layer_type == "Input":
        return input_layout(params)
    if spec.layouts:
        return spec.layouts[index]
    if isinstance(spec.layout, str):
        return spec.layout
    if spec.layout is not None:
        return spec.layout(params, layouts, shapes, out)
    first = layouts[0] if layouts else None
    if first and len(first) == len(out):
        return first
    return BY_RANK.get(len(out))


def warm_up() -> None:
    """Pay each layer type's one-time first-call cost (30-900 ms) at start-up, not on a user's edit."""
    for spec in LAYERS.values():
        if spec.type == "Input":
            continue
        arity = max(spec.min_inputs, 1)
        shape = (8,) * (spec.ranks[0] if spec.ranks else 1)
        dtype = "int64" if spec.takes_tokens else "float32"
        params = {p.name: p.check(p.default) for p in spec.params}
        try:
            infer_node(spec.type, freeze(params), (shape,) * arity, (dtype,) * arity)
        except InferenceError:  # its defaults do not fit this probe (Split's sizes): it is cheap anyway
            continue
