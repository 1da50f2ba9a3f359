"""A PyTorch module as a netgraph document, with its weights: traced with torch.fx and mapped node by node.

Every module call becomes a registry node of the same torch.nn type, its parameters read from the module;
functions and methods (add, mul, cat, flatten, mean, permute, reshape, indexing, split, ...) become graph
operations; parameters read directly become a PositionalEmbedding (a tensor added to a sequence), a ClassToken
(a tensor expanded over the batch and put before a sequence) or a LayerScale (a tensor of one scale per channel or
feature, multiplied in); channel_shuffle's view, transpose and view back become one ChannelShuffle. Shape
assertions are dropped. Each node keeps the module path it came from as its label, and the path of the module
holding it as its group. The weights are returned under the names the exported model.py uses, so they load into
it and into the compiled model.

Anything that cannot be mapped raises ImportRefused naming the op and its module path. No Django here.
"""

from __future__ import annotations

import builtins
import operator
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp, TensorMetadata

from .codegen import python_names
from .layers import HELPER_CLASSES, LAYERS, format_shape, layer_scale_shape
from .params import ParamError
from .schema import CURRENT_VERSION, FORMAT

HELPER_NAMES = tuple(c.__name__ for c in HELPER_CLASSES)  # the exported model.py's own classes: leaves when traced


class ImportRefused(ValueError):
    """The module uses something the graph language cannot express; the message names it."""


@dataclass
class Imported:
    doc: dict
    weights: dict[str, torch.Tensor]  # keyed as the exported model.py's state_dict
    module_params: int  # the module's own parameter count, to compare with the graph's


# --- values flowing between fx nodes -------------------------------------------------------------------------

@dataclass(frozen=True)
class Tensor:
    node: str
    output: int = 0


@dataclass(frozen=True)
class Results:
    """What a multi-output module returns: a recurrent layer's (output, h_n), an attention's (output, weights)."""
    node: str
    kind: str  # "recurrent", "lstm", "attention", "parts"


@dataclass(frozen=True)
class Hidden:
    """A recurrent layer's h_n: every layer's final state; [-1] is the last layer's (the node's output 1)."""
    node: str
    bidirectional: bool


@dataclass(frozen=True)
class HiddenPair:
    node: str
    bidirectional: bool


@dataclass(frozen=True)
class Param:
    """A parameter read directly (get_attr), and what was done to it so far (expand over the batch)."""
    target: str
    expanded: bool = False


@dataclass(frozen=True)
class Grouped:
    """x.view(b, groups, c // groups, h, w) of an image x (`sizes`: c, h, w), as channel_shuffle begins; `shuffled`
    once transpose(1, 2) swapped the groups and the channels within them. Only viewing it back as c×h×w is a graph
    node (ChannelShuffle)."""
    tensor: Tensor
    groups: int
    sizes: tuple[int, ...]
    shuffled: bool = False


class Batch:
    """x.shape[0] or x.size(0): the batch size, as a reshape or expand names it."""


@dataclass(frozen=True)
class ShapeOf:
    """x.shape or x.size() of a tensor: the batch, then the sizes of one sample (known from the input's)."""
    sizes: tuple[int, ...]


BATCH = Batch()
SIZE_ARITHMETIC = (operator.floordiv, operator.mul, operator.add, operator.sub)  # c // groups, h * w


# --- functions and methods that are one registry node ------------------------------------------------------

UNARY = {
    F.relu: "ReLU", torch.relu: "ReLU", "relu": "ReLU", F.relu6: "ReLU6", F.gelu: "GELU", torch.sigmoid: "Sigmoid",
    F.sigmoid: "Sigmoid", "sigmoid": "Sigmoid", torch.tanh: "Tanh", F.tanh: "Tanh", "tanh": "Tanh", F.silu: "SiLU",
    F.hardswish: "Hardswish", F.hardsigmoid: "Hardsigmoid", F.mish: "Mish", F.elu: "ELU", F.selu: "SELU",
    torch.selu: "SELU", F.softplus: "Softplus",
}
BINARY = {operator.add: "Add", torch.add: "Add", "add": "Add", operator.mul: "Multiply", torch.mul: "Multiply",
          "mul": "Multiply", operator.sub: "Subtract", torch.sub: "Subtract", "sub": "Subtract"}
ALIASES = ("contiguous", "clone", "float")  # methods that change nothing the graph sees
ORDERED = ("Subtract", "Concat", "MultiheadAttention", "TransformerDecoderLayer")  # inputs numbered by port
DROPPED = (torch._assert, getattr(torch, "_assert_async", None))


class _Tracer(fx.Tracer):
    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return super().is_leaf_module(m, qualname) or type(m).__name__ in HELPER_NAMES


class _Importer:
    def __init__(self, module: nn.Module, input_shape: list[int], dtype: str, name: str):
        self.module, self.name = module, name
        self.nodes: list[dict] = []
        self.edges: list[dict] = []
        self.values: dict[str, Any] = {}
        self.sources: dict[str, tuple] = {}  # node id -> ("module", path) or ("param", target, kind)
        self.used_modules: dict[str, str] = {}  # module path -> the fx node that called it
        self.input_shape, self.dtype = input_shape, dtype
        self.traced: fx.GraphModule | None = None
        self.shapes: dict[str, tuple[int, ...]] | None = None  # fx node -> one sample's shape, when first asked

    # --- helpers ---

    def refuse(self, n: fx.Node, why: str) -> ImportRefused:
        where = n.meta.get("nn_module_stack")
        path = list(where.values())[-1][0] if where else (n.target if n.op == "call_module" else "")
        op = n.target if isinstance(n.target, str) else getattr(n.target, "__name__", str(n.target))
        return ImportRefused(f"cannot import {n.op} '{op}'{f' in {path}' if path else ''} (fx node '{n.name}'): {why}")

    def add(self, n: fx.Node, layer_type: str, params: dict, inputs: list, label: str | None = None) -> Tensor:
        node = {"id": n.name, "type": layer_type}
        if params:
            node["params"] = params
        path = label or self._path(n)
        if path:
            node["label"] = path
            if "." in path:
                node["group"] = path.rsplit(".", 1)[0]
        self.nodes.append(node)
        for port, value in enumerate(inputs):
            if not isinstance(value, Tensor):
                raise self.refuse(n, "one of its inputs is not a tensor the graph computes")
            edge = {"source": value.node, "target": n.name}
            if value.output:
                edge["output"] = value.output
            if len(inputs) > 1 and layer_type in ORDERED:
                edge["port"] = port
            self.edges.append(edge)
        return Tensor(n.name)

    def _path(self, n: fx.Node) -> str:
        if n.op == "call_module":
            return n.target
        stack = n.meta.get("nn_module_stack")
        return f"{list(stack.values())[-1][0]}.{n.name}" if stack else ""

    def shape_of(self, n: fx.Node, arg: Any) -> ShapeOf:
        """The sizes of a tensor the graph computes, without the batch: the module is run once, on a batch of
        two, the first time a size is asked for (channel_shuffle's x.size())."""
        self.tensor(n, arg)
        if self.shapes is None:
            example = torch.zeros(2, *self.input_shape, dtype=getattr(torch, self.dtype))
            try:
                ShapeProp(self.traced).propagate(example)
            except Exception as exc:  # the module's own error, on the input shape given
                raise self.refuse(n, f"the module fails on input shape {self.input_shape}: {exc}") from None
            self.shapes = {node.name: tuple(node.meta["tensor_meta"].shape[1:]) for node in self.traced.graph.nodes
                           if isinstance(node.meta.get("tensor_meta"), TensorMetadata)}
        if arg.name not in self.shapes:
            raise self.refuse(n, f"the sizes of {arg} are not known")
        return ShapeOf(self.shapes[arg.name])

    def tensor(self, n: fx.Node, arg: Any) -> Tensor:
        value = self.values.get(arg.name) if isinstance(arg, fx.Node) else None
        if not isinstance(value, Tensor):
            raise self.refuse(n, f"its input {arg} is not a tensor the graph computes")
        return value

    # --- the walk ---

    def run(self) -> Imported:
        tracer = _Tracer()
        self.traced = fx.GraphModule(self.module, tracer.trace(self.module))
        graph = self.traced.graph
        for n in [n for n in graph.nodes if n.target in DROPPED]:  # shape assertions: not part of the model
            graph.erase_node(n)
        graph.eliminate_dead_code()  # what only the assertions used, and unused results (an LSTM's c_n)
        for n in graph.nodes:
            if n.op == "placeholder":
                if self.nodes:
                    raise self.refuse(n, "a graph takes one input; this module's forward takes several")
                self.nodes.append({"id": n.name, "type": "Input",
                                   "params": {"shape": list(self.input_shape), "dtype": self.dtype}})
                self.values[n.name] = Tensor(n.name)
            elif n.op == "get_attr":
                self.values[n.name] = Param(n.target)
            elif n.op == "call_module":
                self.values[n.name] = self.call_module(n)
            elif n.op in ("call_function", "call_method"):
                self.values[n.name] = self.call(n)
            elif n.op == "output":
                result = self.values.get(n.args[0].name) if isinstance(n.args[0], fx.Node) else None
                if not isinstance(result, Tensor):
                    raise self.refuse(n, "the module must return one tensor")
                self._end_at(result)
        doc = {"format": FORMAT, "version": CURRENT_VERSION, "name": self.name, "nodes": self.nodes,
               "edges": self.edges}
        return Imported(doc, self.weights(), sum(p.numel() for p in self.module.parameters()))

    def _end_at(self, result: Tensor) -> None:
        """Keep only what the result depends on, ending in it (an unused branch would be a second output)."""
        self.nodes, self.edges = upstream_of(result.node, self.nodes, self.edges)
        if result.output:  # the graph's result is its last node's first output
            identity = {"id": f"{result.node}_out", "type": "Identity"}
            self.nodes.append(identity)
            self.edges.append({"source": result.node, "target": identity["id"], "output": result.output})

    # --- modules ---

    def call_module(self, n: fx.Node) -> Any:
        module = self.module.get_submodule(n.target)
        if n.target in self.used_modules:
            raise self.refuse(n, f"module '{n.target}' is called twice (also by '{self.used_modules[n.target]}'); "
                                 "a graph node owns its weights, so each module may be called once")
        self.used_modules[n.target] = n.name
        kind = type(module).__name__
        inputs = [self.tensor(n, a) for a in n.args]
        if kind in HELPER_NAMES:
            self.sources[n.name] = ("module", n.target)
            return self.add(n, kind, {}, inputs)
        spec = LAYERS.get(kind)
        if spec is None or kind == "Input":
            raise self.refuse(n, f"{kind} is not a layer type of the graph language")
        params = self.module_params(n, module, kind)
        self.sources[n.name] = ("module", n.target)
        if kind == "MultiheadAttention":
            if n.kwargs.get("need_weights", True) and n.kwargs.get("average_attn_weights", True) is False:
                raise self.refuse(n, "per-head attention weights are not supported (average_attn_weights=False)")
            extra = [self.tensor(n, n.kwargs[k]) for k in ("query", "key", "value") if k in n.kwargs]
            self.add(n, kind, params, dedupe_attention(inputs + extra))
            return Results(n.name, "attention")
        self.add(n, kind, params, inputs)
        if kind in ("LSTM", "GRU", "RNN"):
            return Results(n.name, "lstm" if kind == "LSTM" else "recurrent")
        return Tensor(n.name)

    def module_params(self, n: fx.Node, module: nn.Module, kind: str) -> dict:
        spec = LAYERS[kind]
        check = _MODULE_CHECKS.get(kind)
        if check and (problem := check(module)):
            raise self.refuse(n, problem)
        read = _MODULE_READERS.get(kind, {})
        params = {}
        for param in spec.params:
            if param.name in read:
                value = read[param.name](module)
            elif hasattr(module, param.name):
                value = getattr(module, param.name)
            else:
                continue
            if param.name == "bias" and not isinstance(value, bool):
                value = value is not None
            value = _json(value)
            if kind in ("Softmax", "LogSoftmax") and param.name == "dim":
                value = value - 1 if value > 0 else value
            try:
                param.check(value)
            except ParamError as exc:
                raise self.refuse(n, f"{param.name} {exc}") from None
            if value != param.default:
                params[param.name] = value
        return params

    # --- functions and methods ---

    def call(self, n: fx.Node) -> Any:
        target, args, kwargs = n.target, list(n.args), dict(n.kwargs)
        if target is operator.getitem:
            return self.getitem(n, args[0], args[1])
        if target is builtins.getattr and args[1] == "shape" or target == "size" and len(args) == 1:
            return self.shape_of(n, args[0])
        if target == "size" and len(args) == 2:
            return self.getitem(n, self.shape_of(n, args[0]), args[1])
        if target in SIZE_ARITHMETIC:
            operands = [self.values.get(a.name) if isinstance(a, fx.Node) else a for a in args]
            if all(isinstance(v, int) for v in operands):  # arithmetic on sizes, not on tensors
                return target(*operands)
        if target in ALIASES:
            value = self.values.get(args[0].name) if isinstance(args[0], fx.Node) else None
            return value if isinstance(value, Grouped) else self.tensor(n, args[0])
        if target in UNARY:
            return self.add(n, UNARY[target], {}, [self.tensor(n, args[0])])
        if target in BINARY:
            return self.binary(n, BINARY[target], args)
        if target in (torch.cat, torch.concat):
            return self.cat(n, args[0], kwargs.get("dim", args[1] if len(args) > 1 else 0))
        if target in (torch.flatten, "flatten"):
            start = kwargs.get("start_dim", args[1] if len(args) > 1 else 0)
            end = kwargs.get("end_dim", args[2] if len(args) > 2 else -1)
            if start != 1 or end != -1:
                raise self.refuse(n, "only flatten(x, 1) is supported: every axis but the batch")
            return self.add(n, "Flatten", {}, [self.tensor(n, args[0])])
        if target in ("view", "reshape", torch.reshape):
            return self.reshape(n, args[0], args[1] if len(args) == 2 and isinstance(args[1], (list, tuple))
                                else args[1:])
        if target in ("permute", torch.permute):
            dims = args[1] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:]
            if dims[0] != 0:
                raise self.refuse(n, "a permute must keep the batch axis first")
            return self.add(n, "Permute", {"dims": [d - 1 for d in dims[1:]]}, [self.tensor(n, args[0])])
        if target in ("transpose", torch.transpose):
            a, b = args[1], args[2]
            grouped = self.values.get(args[0].name) if isinstance(args[0], fx.Node) else None
            if isinstance(grouped, Grouped) and not grouped.shuffled and {a, b} == {1, 2}:
                return replace(grouped, shuffled=True)
            if 0 in (a, b) or -len(self.input_shape) - 1 in (a, b):
                raise self.refuse(n, "a transpose must not move the batch axis")
            return self.add(n, "Transpose", {"dim0": torch_dim_back(a), "dim1": torch_dim_back(b)},
                            [self.tensor(n, args[0])])
        if target in ("mean", torch.mean, "sum", torch.sum):
            dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
            if dim is None:
                raise self.refuse(n, "a mean or sum over every axis, the batch included, is not a layer")
            dims = [dim] if isinstance(dim, int) else list(dim)
            if 0 in dims:
                raise self.refuse(n, "a mean or sum over the batch is not a layer")
            layer = "Mean" if target in ("mean", torch.mean) else "Sum"
            keep = kwargs.get("keepdim", args[2] if len(args) > 2 else False)
            if layer == "Mean" and sorted(dims) == [2, 3] and not keep:  # every position of an image
                return self.add(n, "GlobalAvgPool", {}, [self.tensor(n, args[0])])
            params = {"dim": [torch_dim_back(d) for d in dims]}
            if keep:
                params["keepdim"] = True
            return self.add(n, layer, params, [self.tensor(n, args[0])])
        if target in ("amax", torch.amax):
            dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
            if sorted(dim if isinstance(dim, (list, tuple)) else [dim]) != [2, 3] or kwargs.get("keepdim"):
                raise self.refuse(n, "only amax over every position of an image (dim=(2, 3)) is supported")
            return self.add(n, "GlobalMaxPool", {}, [self.tensor(n, args[0])])
        if target in ("split", torch.split, "chunk", torch.chunk):
            return self.parts(n, target, args, kwargs)
        if target in (F.adaptive_avg_pool2d, F.adaptive_max_pool2d):
            size = _json(args[1] if len(args) > 1 else kwargs["output_size"])
            layer = "AdaptiveAvgPool2d" if target is F.adaptive_avg_pool2d else "AdaptiveMaxPool2d"
            return self.add(n, layer, {"output_size": size} if size != 1 else {}, [self.tensor(n, args[0])])
        if target in (F.softmax, torch.softmax, "softmax"):
            dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
            return self.add(n, "Softmax", {"dim": torch_dim_back(dim)} if dim not in (-1, None) else {},
                            [self.tensor(n, args[0])])
        if target is F.dropout:
            return self.add(n, "Dropout", {"p": kwargs.get("p", args[1] if len(args) > 1 else 0.5)},
                            [self.tensor(n, args[0])])
        if target == "expand" and isinstance(self.values.get(args[0].name), Param):
            return Param(self.values[args[0].name].target, expanded=True)
        raise self.refuse(n, "no graph node computes this")

    def binary(self, n: fx.Node, layer: str, args: list) -> Tensor:
        values = [self.values.get(a.name) if isinstance(a, fx.Node) else a for a in args[:2]]
        params = [v for v in values if isinstance(v, Param)]
        if layer == "Add" and len(params) == 1 and any(isinstance(v, Tensor) for v in values):
            # x + a learned tensor the size of a sequence: a positional embedding
            tensor = next(v for v in values if isinstance(v, Tensor))
            self.sources[n.name] = ("param", params[0].target, "PositionalEmbedding")
            return self.add(n, "PositionalEmbedding", {}, [tensor], label=params[0].target)
        if layer == "Multiply" and len(params) == 1 and any(isinstance(v, Tensor) for v in values):
            return self.layer_scale(n, params[0], args[values.index(next(v for v in values if isinstance(v, Tensor)))])
        if not all(isinstance(v, Tensor) for v in values):
            raise self.refuse(n, f"{layer} takes two tensors the graph computes (a constant or a parameter "
                                 "operand is not supported)")
        if layer == "Add" and values[0] == values[1]:
            raise self.refuse(n, "x + x (the same tensor twice) is not supported")
        return self.add(n, layer, {}, values)

    def layer_scale(self, n: fx.Node, param: Param, x: fx.Node) -> Tensor:
        """x times a learned tensor of one scale per channel or feature (ConvNeXt's layer scale)."""
        wanted = layer_scale_shape(self.shape_of(n, x).sizes)
        got = tuple(_attribute(self.module, param.target).shape)
        if got != wanted:
            raise self.refuse(n, f"a parameter operand is supported only as a scale per channel or feature "
                                 f"(shape {format_shape(wanted)} for this input), not of shape {format_shape(got)}")
        self.sources[n.name] = ("param", param.target, "LayerScale")
        return self.add(n, "LayerScale", {}, [self.tensor(n, x)], label=param.target)

    def cat(self, n: fx.Node, parts: list, dim: int) -> Tensor:
        values = [self.values.get(p.name) if isinstance(p, fx.Node) else p for p in parts]
        if len(values) == 2 and isinstance(values[0], Param) and values[0].expanded and dim == 1:
            # a learned token expanded over the batch, put before a sequence: a class token
            self.sources[n.name] = ("param", values[0].target, "ClassToken")
            return self.add(n, "ClassToken", {}, [self.tensor(n, parts[1])], label=values[0].target)
        if dim == 0:
            raise self.refuse(n, "a concatenation along the batch is not a layer")
        return self.add(n, "Concat", {"dim": torch_dim_back(dim)} if torch_dim_back(dim) != 0 else {},
                        [self.tensor(n, p) for p in parts])

    def reshape(self, n: fx.Node, source: Any, shape: list) -> Tensor:
        sizes = [self.values.get(s.name) if isinstance(s, fx.Node) else s for s in shape]
        if not sizes or sizes[0] is not BATCH and sizes[0] != -1:
            raise self.refuse(n, "a reshape must keep the batch axis first (x.reshape(x.shape[0], ...))")
        rest = sizes[1:]
        if sizes[0] == -1 and -1 in rest or not all(isinstance(s, int) for s in rest):
            raise self.refuse(n, "only sizes that are numbers (and one -1) can follow the batch")
        value = self.values.get(source.name) if isinstance(source, fx.Node) else None
        if isinstance(value, Grouped):
            c, h, w = value.sizes
            if not value.shuffled or rest not in ([-1, h, w], [c, h, w]):
                raise self.refuse(n, "an image's channels viewed in groups are supported only as channel_shuffle "
                                     "uses them: transposed (1, 2), then viewed back as channels × height × width")
            return self.add(n, "ChannelShuffle", {"groups": value.groups}, [value.tensor])
        if len(rest) == 4 and (grouped := self.grouped(n, source, rest)):
            return grouped
        try:
            LAYERS["Reshape"].params[0].check(rest)
        except ParamError as exc:  # refused here, with the module path, rather than by validation later
            raise self.refuse(n, f"shape {exc}") from None
        return self.add(n, "Reshape", {"shape": rest}, [self.tensor(n, source)])

    def grouped(self, n: fx.Node, source: fx.Node, rest: list[int]) -> Grouped | None:
        """An image's channels viewed as groups × channels per group, the rest kept: channel_shuffle's start."""
        sizes = self.shape_of(n, source).sizes
        if len(sizes) == 3 and rest[0] > 0 and rest[0] * rest[1] == sizes[0] and tuple(rest[2:]) == sizes[1:]:
            return Grouped(self.tensor(n, source), rest[0], sizes)
        return None

    def parts(self, n: fx.Node, target: Any, args: list, kwargs: dict) -> Results:
        how = args[1] if len(args) > 1 else kwargs.get("split_size_or_sections", kwargs.get("chunks"))
        dim = kwargs.get("dim", args[2] if len(args) > 2 else 0)
        if dim == 0:
            raise self.refuse(n, "a split along the batch is not a layer")
        if target in ("chunk", torch.chunk):
            self.add(n, "Chunk", {"chunks": how, "dim": torch_dim_back(dim)}, [self.tensor(n, args[0])])
        elif isinstance(how, (list, tuple)):
            self.add(n, "Split", {"sizes": list(how), "dim": torch_dim_back(dim)}, [self.tensor(n, args[0])])
        else:
            raise self.refuse(n, "split into parts of one size is not supported: give the sizes as a list, or chunk")
        return Results(n.name, "parts")

    def getitem(self, n: fx.Node, of: fx.Node | ShapeOf, index: Any) -> Any:
        value = of if isinstance(of, ShapeOf) else self.values.get(of.name) if isinstance(of, fx.Node) else None
        if isinstance(value, ShapeOf) and isinstance(index, int):
            return BATCH if index in (0, -len(value.sizes) - 1) else value.sizes[index - 1 if index > 0 else index]
        if isinstance(value, Results):
            if value.kind in ("attention", "parts") or index == 0:
                return Tensor(value.node, index)
            module = self.module.get_submodule(self.sources[value.node][1])
            if index == 1:
                return (HiddenPair if value.kind == "lstm" else Hidden)(value.node, module.bidirectional)
        if isinstance(value, HiddenPair) and index == 0:
            return Hidden(value.node, value.bidirectional)
        if isinstance(value, Hidden) and index == -1 and not value.bidirectional:
            return Tensor(value.node, 1)
        if isinstance(value, Tensor):
            return self.select(n, value, index)
        raise self.refuse(n, f"indexing with {index!r} is not supported here (a recurrent layer's state: "
                             "h_n[-1] of a unidirectional layer)")

    def select(self, n: fx.Node, value: Tensor, index: Any) -> Tensor:
        """x[:, i], x[:, :, i] or x[..., i]: one position along one axis (a Select node)."""
        index = index if isinstance(index, tuple) else (index,)
        whole = slice(None)
        if index[:1] == (Ellipsis,) and len(index) == 2 and isinstance(index[1], int):
            return self.add(n, "Select", {"dim": -1, "index": index[1]}, [value])
        if len(index) >= 2 and all(i == whole for i in index[:-1]) and isinstance(index[-1], int):
            return self.add(n, "Select", {"dim": len(index) - 2, "index": index[-1]}, [value])
        raise self.refuse(n, f"only x[:, i], x[:, :, i] and x[..., i] are supported, not {index!r}")

    # --- weights ---

    def weights(self) -> dict[str, torch.Tensor]:
        names = python_names([node["id"] for node in self.nodes])
        state = {}
        for node_id, source in self.sources.items():
            if node_id not in names:
                continue
            if source[0] == "module":
                for key, tensor in self.module.get_submodule(source[1]).state_dict().items():
                    state[f"{names[node_id]}.{key}"] = tensor.detach().clone()
            else:
                tensor = _attribute(self.module, source[1]).detach()
                if source[2] == "PositionalEmbedding":
                    state[f"{names[node_id]}.weight"] = tensor.reshape(tensor.shape[-2:]).clone()
                elif source[2] == "LayerScale":
                    state[f"{names[node_id]}.weight"] = tensor.clone()
                else:
                    state[f"{names[node_id]}.token"] = tensor.reshape(1, tensor.shape[-1]).clone()
        return state


def upstream_of(result: str, nodes: list[dict], edges: list[dict]) -> tuple[list[dict], list[dict]]:
    """The nodes and edges that node `result` depends on (itself included): what an import keeps."""
    keep, todo = set(), [result]
    while todo:
        node = todo.pop()
        if node not in keep:
            keep.add(node)
            todo += [e["source"] for e in edges if e["target"] == node]
    return [n for n in nodes if n["id"] in keep], [e for e in edges if e["source"] in keep and e["target"] in keep]


def torch_dim_back(dim: int) -> int:
    """PyTorch's count of an axis (with the batch) to the graph's (without): the inverse of layers.torch_dim."""
    return dim - 1 if dim > 0 else dim


def _attribute(module: nn.Module, target: str) -> torch.Tensor:
    owner, _, name = target.rpartition(".")
    return getattr(module.get_submodule(owner) if owner else module, name)


def _json(value: Any) -> Any:
    """A module attribute as a parameter value: (3, 3) is written 3, as a person would; (1, 2) is [1, 2]."""
    if isinstance(value, (tuple, list)):
        values = [_json(v) for v in value]
        return values[0] if values and all(v == values[0] for v in values) and isinstance(values[0], int) else values
    return value


def dedupe_attention(inputs: list[Tensor]) -> list[Tensor]:
    """attn(x, x, x) is self-attention (one input); attn(q, kv, kv) is two."""
    if len(inputs) == 3 and inputs[0] == inputs[1] == inputs[2]:
        return inputs[:1]
    if len(inputs) == 3 and inputs[1] == inputs[2]:
        return inputs[:2]
    return inputs


def _transformer_activation(m: nn.Module) -> str:
    act = m.activation
    return "gelu" if act is F.gelu or isinstance(act, nn.GELU) else "relu"


_MODULE_READERS = {
    **{layer: {"nhead": lambda m: m.self_attn.num_heads, "dim_feedforward": lambda m: m.linear1.out_features,
               "dropout": lambda m: m.dropout.p, "activation": _transformer_activation}
       for layer in ("TransformerEncoderLayer", "TransformerDecoderLayer")},
    "MultiheadAttention": {"bias": lambda m: m.in_proj_bias is not None},
    "Upsample": {"align_corners": lambda m: bool(m.align_corners)},
    **{pool: {"stride": lambda m: None if m.stride == m.kernel_size else m.stride}
       for pool in ("MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d")},
    "PReLU": {"init": lambda m: 0.25},
}


def _not_batch_first(m: nn.Module) -> str | None:
    first = getattr(m, "batch_first", getattr(getattr(m, "self_attn", None), "batch_first", True))
    return None if first else "only batch_first=True is supported (the graph's sequences are batch, T, F)"


def _norm_eps(m: nn.Module) -> str | None:
    return None if m.norm1.eps == 1e-5 else f"layer_norm_eps {m.norm1.eps:g} is not supported (only 1e-5)"


def _recurrent_check(m: nn.Module) -> str | None:
    if not m.bias or getattr(m, "proj_size", 0):
        return "only recurrent layers with biases and without projections are supported"
    return _not_batch_first(m)


def _pool_check(m: nn.Module) -> str | None:
    if getattr(m, "ceil_mode", False) or getattr(m, "return_indices", False) \
            or getattr(m, "dilation", 1) not in (1, (1, 1)):
        return "ceil_mode, return_indices and dilation are not supported"
    if getattr(m, "count_include_pad", True) is False or getattr(m, "divisor_override", None) is not None:
        return "count_include_pad=False and divisor_override are not supported"
    return None


def _conv_check(m: nn.Module) -> str | None:
    if isinstance(m.padding, str) or m.padding_mode != "zeros":
        return "padding must be numbers, with zeros (padding='same', padding_mode are not supported)"
    return None


_MODULE_CHECKS = {
    "LSTM": _recurrent_check, "GRU": _recurrent_check, "RNN": _recurrent_check,
    "MultiheadAttention": lambda m: _not_batch_first(m) or (
        "add_bias_kv and add_zero_attn are not supported" if m.bias_k is not None or m.add_zero_attn else None),
    "TransformerEncoderLayer": lambda m: _not_batch_first(m) or _norm_eps(m),
    "TransformerDecoderLayer": lambda m: _not_batch_first(m) or _norm_eps(m),
    "MaxPool1d": _pool_check, "MaxPool2d": _pool_check, "AvgPool1d": _pool_check, "AvgPool2d": _pool_check,
    "Conv1d": _conv_check, "Conv2d": _conv_check, "ConvTranspose1d": _conv_check, "ConvTranspose2d": _conv_check,
    "LayerNorm": lambda m: None if m.elementwise_affine and len(m.normalized_shape) == 1 else
    "only a LayerNorm over the last axis, with its scale and shift, is supported",
    "Flatten": lambda m: None if (m.start_dim, m.end_dim) == (1, -1) else "only Flatten(1, -1) is supported",
    "Embedding": lambda m: None if m.max_norm is None else "max_norm is not supported",
    **{norm: lambda m: None if m.momentum is not None else "momentum=None (a cumulative average) is not supported"
       for norm in ("BatchNorm1d", "BatchNorm2d")},
}


def import_module(module: nn.Module, input_shape: list[int], dtype: str = "float32", name: str = "") -> Imported:
    """`module` as a netgraph document and its weights (ImportRefused names what cannot be mapped)."""
    module = module.eval()
    try:
        return _Importer(module, list(input_shape), dtype, name or type(module).__name__).run()
    except ImportRefused:
        raise
    except fx.proxy.TraceError as exc:
        raise ImportRefused(f"torch.fx cannot trace {type(module).__name__}: {exc}") from None


def verify(module: nn.Module, imported: Imported, limits) -> tuple[int, float]:
    """The imported graph's parameter count, and the largest relative error of its compiled model (with the
    imported weights) against the module, on a random input."""
    from .codegen import compile_graph
    from .validate import analyze

    analysis = analyze(imported.doc, limits)
    if not analysis.valid:
        problems = "; ".join(e.message for e in analysis.errors[:3])
        raise ImportRefused(f"the imported graph does not validate: {problems}")
    model = compile_graph(analysis).eval()
    model.load_state_dict(imported.weights)
    source = analysis.shapes[analysis.input_node]
    generator = torch.Generator().manual_seed(0)
    if source.dtype == "int64":
        x = torch.randint(0, 2, (2, *source.shape), generator=generator)
    else:
        x = torch.randn(2, *source.shape, generator=generator)
    with torch.no_grad():
        want, got = module.eval()(x), model(x)
    error = ((got - want).abs().max() / want.abs().max().clamp_min(1e-12)).item()
    return analysis.total_params, error
