"""An ONNX file as a netgraph document, with its weights: parsed with the onnx package, never executed.

Each ONNX node becomes a registry node: Conv/ConvTranspose, BatchNormalization, LayerNormalization (and its
decomposed form before opset 17), the pools, ReduceMean, Gemm and MatMul by a constant (with the Add of a bias
after it: one Linear), Add/Mul/Sub, Concat, Split, Softmax, the element-wise activations (x · Sigmoid(x) is a
SiLU, x · ½(1 + erf(x/√2)) a GELU), and LSTM, GRU and RNN (ONNX's gate order put back in PyTorch's; stacked
layers become one node with num_layers). Reshape, Transpose, Squeeze, Unsqueeze and Flatten that keep the batch
first become Reshape, Permute or Flatten, a Gather of one position a Select.

Shape computations (Shape, Slice, Concat, Mul of shapes) are folded, the batch size a symbol. Data moved across
the batch, as a time-major recurrent layer or attention reads it, is followed element by element (onnx_trace):
moves that end where they began cost nothing, moves that interleave an image's channels from groups (ShuffleNet's
channel shuffle) are a ChannelShuffle, and scaled dot-product attention between projections of sequences,
softmax(q·kᵀ/√d)·v and its output projection, becomes one MultiheadAttention with its projections' weights. A
constant expanded over the batch before a sequence is a ClassToken, one added to a sequence a PositionalEmbedding,
one scale per channel or feature multiplied in a LayerScale. Each node's shapes are inferred by the registry as it
is added. Weights come from the initializers (and Constant nodes), named as the exported model.py names them.
Nodes are labelled and grouped by the PyTorch module path the exporter recorded, as torch.fx's import does.
Opsets 13 to 21 of the default domain. What cannot be mapped is refused naming the op and the node. No Django here.
"""

from __future__ import annotations

import math
import re
from contextlib import suppress
from dataclasses import dataclass, replace

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from .codegen import python_names
from .import_torch import ORDERED, Imported, ImportRefused, Tensor, dedupe_attention, upstream_of
from .infer import InferenceError, NodeShape, infer_node, shape_key
from .layers import LAYERS, layer_scale_shape
from .onnx_trace import ARITHMETIC, MOVES, Batch, BatchArithmetic, Heads, Moved, Space, Tracer, arithmetic, move
from .params import ParamError
from .schema import CURRENT_VERSION, FORMAT, ID_MAX_LENGTH

OPSETS = range(13, 22)
UNARY = {"Relu": "ReLU", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "HardSwish": "Hardswish", "Dropout": "Identity",
         "Mish": "Mish", "Selu": "SELU", "Softsign": "Softsign"}
BINARY = {"Add": "Add", "Mul": "Multiply", "Sub": "Subtract"}
DTYPES = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT64: "int64"}
TRACE_BATCH = 3  # the batch size elements are followed with, when the file leaves it free
# ONNX's gate blocks in PyTorch's order: LSTM i o f c → i f g o, GRU z r h → r z n.
GATES = {"LSTM": [0, 2, 3, 1], "GRU": [1, 0, 2], "RNN": [0]}
ACTIVATIONS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"], "RNN": ["Tanh"]}


# --- values that are not (yet) a graph tensor ------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Batched:
    """A constant repeated over the batch (expanded to a shape naming the batch size), as for the traced batch
    size; `source` names the constant expanded."""
    array: np.ndarray
    source: str


@dataclass(frozen=True)
class Scores:
    """q·kᵀ of two traced tensors times `scale`, and whether a softmax over the keys followed: attention's first
    product, waiting for its ·v."""
    q: Moved
    k: Moved
    scale: float
    softmax: bool = False


@dataclass(frozen=True)
class Partial:
    """`factor` times a piece of GELU's Erf form of `tensor` x: "erf" is erf(x/√2), "1+erf" is 1 + erf(x/√2),
    "gelu" is x · ½(1 + erf(x/√2))."""
    kind: str
    tensor: Tensor
    factor: float = 1.0


@dataclass(frozen=True)
class Norming:
    """A piece of LayerNorm's decomposed form (before opset 17) over the last axis of `tensor` x: "centered" is
    x - mean (`mean`, a Mean node), "squared" its square, "variance" the mean of that plus `eps`, "std" the square
    root of that; `by` names the ONNX node that computed it."""
    kind: str
    tensor: Tensor
    by: str
    mean: Tensor | None = None
    eps: float = 0.0


@dataclass(frozen=True)
class Unusable:
    """An output no graph node gives (an LSTM's cell state): reading it is refused, saying `why`."""
    why: str


class _Importer:
    def __init__(self, model: onnx.ModelProto, name: str):
        self.model, self.name = model, name
        graph = model.graph
        self.consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        self.file_tensors = set(self.consts)  # the initializers and Constant nodes: what the file holds
        self.users: dict[str, int] = {}
        for node in graph.node:
            for name_ in node.input:
                self.users[name_] = self.users.get(name_, 0) + 1
        self.nodes: list[dict] = []
        self.node_of: dict[str, dict] = {}
        self.edges: list[dict] = []
        self.inputs_of: dict[str, list[Tensor]] = {}
        self.values: dict[str, object] = {}  # ONNX name -> Tensor, Moved, Batched, Scores, Partial, Norming, Unusable
        self.shapes: dict[Tensor, NodeShape] = {}  # each graph tensor's, as the registry infers it
        self.weights: dict[str, dict[str, np.ndarray]] = {}  # node id -> its state_dict entries
        self.bias_slot: dict[str, tuple[str, int]] = {}  # node id -> the bias an Add of a vector after it fills
        self.scale_slot: dict[str, int] = {}  # LayerNorm node id -> its width, while a Mul by a vector is its scale
        self.unlearned: set[str] = set()  # constants that are not learned: numbers (scales, fills), statistics
        self.labels = _labels(graph.node, self.consts)  # ONNX node name -> its module path, where recorded
        self.ids: set[str] = set()
        self.tracer = Tracer(TRACE_BATCH)

    # --- helpers ---

    def refuse(self, node: onnx.NodeProto | str | None, why: str) -> ImportRefused:
        if node is None:
            return ImportRefused(f"cannot import the graph's output: {why}")
        if isinstance(node, str):
            return ImportRefused(f"cannot import ONNX node '{node}': {why}")
        return ImportRefused(f"cannot import ONNX node '{_name(node)}' ({node.op_type}): {why}")

    def fresh_id(self, base: str) -> str:
        base = re.sub(r"[^0-9A-Za-z_.]+", "_", base).strip("_")[:ID_MAX_LENGTH - 4] or "node"
        candidate, n = base, 2
        while candidate in self.ids:
            candidate, n = f"{base}_{n}", n + 1
        self.ids.add(candidate)
        return candidate

    def add(self, where: onnx.NodeProto | str, layer: str, params: dict, inputs: list[Tensor],
            weights: dict[str, np.ndarray] | None = None, label: str | None = None) -> Tensor:
        """A graph node reading `inputs`, labelled with the module path of the ONNX node (or the name) it comes
        from, or with `label`; the registry infers its outputs' shapes, or says why it refuses these inputs."""
        spec = LAYERS[layer]
        try:
            checked = {p.name: p.check(params.get(p.name, p.default)) for p in spec.params}
            inferred = infer_node(layer, shape_key(layer, checked), tuple(self.shapes[t].shape for t in inputs),
                                  tuple(self.shapes[t].dtype for t in inputs))
        except (ParamError, InferenceError) as exc:
            raise self.refuse(where, f"the graph's {layer} refuses it: {exc}") from None
        name = where if isinstance(where, str) else _name(where)
        label = label or self.labels.get(name)
        node_id = self.fresh_id(label or name)
        entry = {"id": node_id, "type": layer, **({"params": params} if params else {}), "label": label or name}
        if label and "." in label:
            entry["group"] = label.rsplit(".", 1)[0]
        self.nodes.append(entry)
        self.node_of[node_id] = entry
        self.inputs_of[node_id] = inputs
        for port, value in enumerate(inputs):
            edge = {"source": value.node, "target": node_id}
            if value.output:
                edge["output"] = value.output
            if len(inputs) > 1 and layer in ORDERED:
                edge["port"] = port
            self.edges.append(edge)
        if weights:
            self.weights[node_id] = weights
        for index, shape in enumerate(inferred.outputs):
            self.shapes[Tensor(node_id, index)] = shape
        return Tensor(node_id)

    def parameter_label(self, name: str) -> str | None:
        """A learned tensor's name in the file where it is a module's attribute path (class_token,
        features.1.0.layer_scale), as torch.fx's import labels the node reading it."""
        return name if name in self.file_tensors and re.fullmatch(r"[A-Za-z_]\w*(\.\w+)*", name) else None

    def put(self, name: str, value: object) -> None:
        """What ONNX value `name` is; moved elements that are a graph tensor as it is become that tensor."""
        if isinstance(value, Moved) and value.scale == 1:
            value = self.tracer.tensor_at(value.idx) or value
        self.values[name] = value

    def value(self, node: onnx.NodeProto | None, name: str) -> object:
        if name in self.consts:
            return self.consts[name]
        value = self.values.get(name)
        if value is None:
            raise self.refuse(node, f"its input '{name}' is not a tensor the graph computes")
        if isinstance(value, Unusable):
            raise self.refuse(node, value.why)
        return value

    def const(self, node: onnx.NodeProto, index: int) -> np.ndarray | None:
        return self.consts.get(node.input[index]) if len(node.input) > index and node.input[index] else None

    def shape(self, tensor: Tensor) -> tuple[int, ...]:
        """One sample's shape."""
        return self.shapes[tensor].shape

    def trace(self, node: onnx.NodeProto, value: object) -> Moved:
        """A tensor as the numbers of its elements (see onnx_trace)."""
        if isinstance(value, Moved):
            return value
        if isinstance(value, Tensor):
            return Moved(self.tracer.space(value, self.shape(value)).canonical(), _name(node))
        raise self.refuse(node, self.unfit(value))

    def tensor(self, node: onnx.NodeProto, index: int) -> Tensor:
        """Input `index` as a graph tensor, with a Reshape or Permute where its elements were moved in a way that
        keeps the batch first."""
        name = node.input[index]
        tensor = self.materialize(node, name, self.value(node, name))
        self.values[name] = tensor
        return tensor

    def materialize(self, node: onnx.NodeProto | None, name: str, value: object) -> Tensor:
        """ONNX value `name` as a graph tensor, for `node` (None: the graph's output)."""
        if isinstance(value, Tensor):
            return value
        if isinstance(value, Norming) and value.kind == "centered":  # x - mean(x), for more than a LayerNorm
            return self.add(value.by, "Subtract", {}, [value.tensor, value.mean])
        if not isinstance(value, Moved):
            raise self.refuse(node, self.unfit(value))
        if value.scale != 1:
            raise self.refuse(node, f"'{name}' is multiplied by a constant (by '{value.by}'), which no graph node "
                                    "does")
        if same := self.tracer.tensor_at(value.idx):
            return same
        found = self.tracer.per_sample(value.idx)
        if found is None:
            space = self.tracer.space_of(value.idx)
            if space and space.tensor and value.idx.size < space.size:
                raise self.refuse(node, f"'{name}' is part of an output of '{space.tensor.node}' (taken by "
                                        f"'{value.by}') that no graph node selects")
            raise self.refuse(node, f"'{name}' has elements moved across the batch (by '{value.by}') in a way no "
                                    "graph node computes")
        space, kind, arg = found
        return self.add(value.by, "Reshape" if kind == "reshape" else "Permute",
                        {"shape" if kind == "reshape" else "dims": arg}, [space.tensor])

    @staticmethod
    def unfit(value: object) -> str:
        if isinstance(value, Scores):
            return "a product of two computed tensors (MatMul) is supported only as attention: softmax(q·kᵀ)·v"
        if isinstance(value, Partial):
            return "only the whole of GELU's Erf form, x · ½(1 + erf(x/√2)), is supported"
        if isinstance(value, Batched):
            return "a constant repeated over the batch is supported only as a class token or a zero starting state"
        if isinstance(value, Norming):
            return "only the whole of LayerNorm's decomposed form, (x - mean) / √(variance + eps), is supported"
        return "a constant stands where the graph needs a computed tensor"

    def run(self) -> Imported:
        graph = self.model.graph
        opset = next((o.version for o in self.model.opset_import if o.domain in ("", "ai.onnx")), None)
        if opset not in OPSETS:
            raise ImportRefused(f"the model uses opset {opset}; opsets {OPSETS.start} to {OPSETS.stop - 1} "
                                "are supported")
        inputs = [i for i in graph.input if i.name not in self.consts]
        if len(inputs) != 1 or len(graph.output) != 1:
            raise ImportRefused(f"a graph takes one input and gives one output; this model has {len(inputs)} "
                                f"and {len(graph.output)}")
        source = inputs[0].type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in source.shape.dim]
        if any(d is None or d < 1 for d in dims[1:]) or source.elem_type not in DTYPES:
            raise ImportRefused(f"the input '{inputs[0].name}' must have a fixed shape after its batch axis and be "
                                "float32 or int64")
        if dims and dims[0]:  # a file made for one batch size: follow elements with that one
            self.tracer.batch = dims[0]
        input_id = re.sub(r"[^0-9A-Za-z_]+", "_", inputs[0].name)[:ID_MAX_LENGTH] or "input"
        self.ids.add(input_id)
        entry = {"id": input_id, "type": "Input", "params": {"shape": dims[1:], "dtype": DTYPES[source.elem_type]}}
        self.nodes.append(entry)
        self.node_of[input_id] = entry
        self.shapes[Tensor(input_id)] = NodeShape(tuple(dims[1:]), DTYPES[source.elem_type], 0)
        self.put(inputs[0].name, Tensor(input_id))
        for node in graph.node:
            if node.domain not in ("", "ai.onnx"):
                raise self.refuse(node, f"the domain '{node.domain}' is not ONNX's own")
            try:
                self.map(node)
            except ImportRefused:
                raise
            except Exception as exc:  # a node the checker let through but no exporter writes: named, not a traceback
                raise self.refuse(node, f"it cannot be read ({type(exc).__name__}: {exc})") from None
        output = graph.output[0].name
        result = self.materialize(None, output, self.value(None, output))
        if result.output:  # the graph's result is its last node's first output
            result = self.add(f"{result.node}_out", "Identity", {}, [result])
        self.nodes, self.edges = upstream_of(result.node, self.nodes, self.edges)
        self.stack_layers()
        doc = {"format": FORMAT, "version": CURRENT_VERSION, "name": self.name, "nodes": self.nodes,
               "edges": self.edges}
        names = python_names([n["id"] for n in self.nodes])
        state = {f"{names[node_id]}.{key}": torch.from_numpy(np.array(value))
                 for node_id, entries in self.weights.items() if node_id in names for key, value in entries.items()}
        held = sum(int(np.prod(self.consts[n].shape)) for n in self.file_tensors - self.unlearned
                   if self.consts[n].dtype.kind == "f")
        return Imported(doc, state, held)

    def stack_layers(self) -> None:
        """A recurrent node reading only the sequence of one like it, which nothing else reads, is its next layer:
        PyTorch's stacked LSTM (num_layers) is exported as one ONNX node per layer."""
        for entry in list(self.nodes):
            into = [e for e in self.edges if e["target"] == entry["id"]]
            below = self.node_of[into[0]["source"]] if len(into) == 1 and not into[0].get("output") else None
            if entry["type"] not in GATES or below is None or below["type"] != entry["type"] \
                    or {k: v for k, v in below["params"].items() if k != "num_layers"} != entry["params"] \
                    or sum(e["source"] == below["id"] for e in self.edges) != 1:
                continue
            layers = below["params"].get("num_layers", 1)
            below["params"]["num_layers"] = layers + 1
            for key, value in self.weights.pop(entry["id"]).items():
                self.weights[below["id"]][key.replace("_l0", f"_l{layers}")] = value
            self.edges.remove(into[0])
            for edge in self.edges:
                if edge["source"] == entry["id"]:
                    edge["source"] = below["id"]
            self.nodes.remove(entry)

    # --- one ONNX node ---

    def map(self, node: onnx.NodeProto) -> None:
        op, attrs = node.op_type, {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        out = node.output[0]
        if op == "Constant":
            key, value = next(iter(attrs.items()))
            self.consts[out] = numpy_helper.to_array(value) if key == "value" else \
                np.array(value, dtype=np.float32 if "float" in key else np.int64)
            self.file_tensors.add(out)
        elif op in (*MOVES, *ARITHMETIC, "Cast", "ConstantOfShape", "Range") and node.input \
                and all(i in self.consts for i in node.input if i):
            self.fold(node, attrs)
        elif op == "Shape":
            self.shape_of(node, attrs)
        elif op == "Cast":
            if attrs["to"] != onnx.TensorProto.FLOAT:
                raise self.refuse(node, "only a cast to float32 (of a float32 tensor) is supported")
            self.put(out, self.value(node, node.input[0]))
        elif op == "Concat":
            self.concat(node, attrs)
        elif op in MOVES:
            self.move(node, attrs)
        elif op in UNARY:
            self.put(out, self.add(node, UNARY[op], {}, [self.tensor(node, 0)]))
        elif op in ("Conv", "ConvTranspose"):
            self.conv(node, attrs)
        elif op == "BatchNormalization":
            x = self.tensor(node, 0)
            scale, bias, mean, var = (self.const(node, i) for i in range(1, 5))
            self.unlearned.update(node.input[3:5])
            params = {"eps": _f32(attrs.get("epsilon", 1e-5)), "momentum": round(1 - attrs.get("momentum", 0.9), 6)}
            self.put(out, self.add(node, "BatchNorm2d" if len(self.shape(x)) == 3 else "BatchNorm1d",
                                   _non_default(params, {"eps": 1e-5, "momentum": 0.1}), [x],
                                   {"weight": scale, "bias": bias, "running_mean": mean, "running_var": var,
                                    "num_batches_tracked": np.array(0)}))
        elif op == "LayerNormalization":
            self.layer_norm(node, attrs)
        elif op in ("MaxPool", "AveragePool"):
            self.pool(node, attrs)
        elif op in ("GlobalAveragePool", "GlobalMaxPool"):
            x = self.tensor(node, 0)
            kind = "Avg" if op == "GlobalAveragePool" else "Max"
            self.put(out, self.add(node, f"Adaptive{kind}Pool{len(self.shape(x)) - 1}d", {}, [x]))
        elif op == "Gemm":
            self.gemm(node, attrs)
        elif op == "MatMul":
            weight = self.const(node, 1)
            if weight is not None and weight.ndim == 2:
                self.linear(node, weight.T.copy(), None)
            elif weight is None and node.input[0] not in self.consts:
                self.product(node)
            else:
                raise self.refuse(node, "only a MatMul by a constant matrix (a Linear layer), or attention's, is "
                                        "supported")
        elif op in (*BINARY, "Div"):
            self.binary(node)
        elif op == "Erf":
            value = self.value(node, node.input[0])
            tensor = self.tracer.tensor_at(value.idx) if isinstance(value, Moved) else None
            if tensor is None or abs(value.scale * math.sqrt(2) - 1) > 1e-6:
                raise self.refuse(node, "only the Erf of GELU's Erf form, erf(x/√2), is supported")
            self.put(out, Partial("erf", tensor))
        elif op == "ReduceMean":
            self.reduce_mean(node, attrs)
        elif op in ("Pow", "Sqrt"):
            self.norm_step(node)
        elif op == "Softmax":
            self.softmax(node, attrs)
        elif op in GATES:
            self.recurrent(node, attrs)
        elif op == "Clip":
            low, high = self.const(node, 1), self.const(node, 2)
            if low is None or high is None or (float(low), float(high)) != (0.0, 6.0):
                raise self.refuse(node, "only Clip(0, 6) (ReLU6) is supported")
            self.unlearned.update(node.input[1:3])
            self.put(out, self.add(node, "ReLU6", {}, [self.tensor(node, 0)]))
        elif op == "LeakyRelu":
            self.put(out, self.add(node, "LeakyReLU", _non_default({"negative_slope": _f32(attrs.get("alpha", 0.01))},
                                                                   {"negative_slope": 0.01}), [self.tensor(node, 0)]))
        elif op == "HardSigmoid":
            if abs(attrs.get("alpha", 0.2) - 1 / 6) > 1e-6 or attrs.get("beta", 0.5) != 0.5:
                raise self.refuse(node, "only HardSigmoid with alpha 1/6 and beta 0.5 (PyTorch's) is supported")
            self.put(out, self.add(node, "Hardsigmoid", {}, [self.tensor(node, 0)]))
        elif op == "Elu":
            self.put(out, self.add(node, "ELU", _non_default({"alpha": _f32(attrs.get("alpha", 1.0))}, {"alpha": 1.0}),
                                   [self.tensor(node, 0)]))
        elif op == "Gelu":
            approximate = attrs.get("approximate", b"none")
            approximate = approximate.decode() if isinstance(approximate, bytes) else approximate
            self.put(out, self.add(node, "GELU", {"approximate": approximate} if approximate != "none" else {},
                                   [self.tensor(node, 0)]))
        else:
            raise self.refuse(node, "no graph node computes this op")

    # --- shapes and moves ---

    def fold(self, node: onnx.NodeProto, attrs: dict) -> None:
        """An op on constants (a shape computation, mostly), computed now."""
        op, args = node.op_type, [self.consts[i] if i else None for i in node.input]
        if op == "ConstantOfShape":
            fill = numpy_helper.to_array(attrs["value"]) if "value" in attrs else np.zeros(1, np.float32)
            args = [fill.reshape(()), args[0]]
        if op in ("Expand", "ConstantOfShape") and any(isinstance(d, Batch) for d in args[1].reshape(-1)):
            array = move("Expand", args, attrs, self.tracer.batch)[0]
            self.values[node.output[0]] = Batched(array, node.input[0] if op == "Expand" else "")
            return
        try:
            if op == "Cast":
                to = onnx.helper.tensor_dtype_to_np_dtype(attrs["to"])
                outs = [args[0] if args[0].dtype == object else args[0].astype(to)]
            elif op in ARITHMETIC:
                self.unlearned.update(node.input)  # numbers computed with (a scale), not weights
                outs = [arithmetic(op, args)]
            else:
                outs = move("Expand" if op == "ConstantOfShape" else op, args, attrs, self.tracer.batch)
        except (BatchArithmetic, TypeError):
            raise self.refuse(node, "the shape computation does arithmetic with the batch size") from None
        for name, value in zip(node.output, outs):
            self.consts[name] = np.asarray(value)  # numpy gives an item, not an array, for 0-d object arithmetic

    def shape_of(self, node: onnx.NodeProto, attrs: dict) -> None:
        value = self.value(node, node.input[0])
        if isinstance(value, Tensor):
            dims = [Batch(), *self.shape(value)]
        elif isinstance(value, (Moved, Batched, np.ndarray)):
            dims = list((value.idx if isinstance(value, Moved) else getattr(value, "array", value)).shape)
        else:
            raise self.refuse(node, self.unfit(value))
        dims = dims[attrs.get("start", 0):attrs.get("end")]
        self.consts[node.output[0]] = np.array(dims, dtype=object if Batch() in dims else np.int64)

    def move(self, node: onnx.NodeProto, attrs: dict) -> None:
        """A data-movement op: a graph node when it keeps the batch first (Reshape, Permute, Flatten, Select,
        Split, Identity), otherwise followed element by element."""
        op = node.op_type
        data = self.value(node, node.input[0])
        rest = []
        for name in node.input[1:]:
            if name and name not in self.consts:
                raise self.refuse(node, f"its input '{name}' must be a constant")
            rest.append(self.consts[name] if name else None)
        if isinstance(data, Batched):
            for name, array in zip(node.output, self.apply(node, data.array, rest, attrs)):
                self.values[name] = replace(data, array=array)
            return
        if isinstance(data, Tensor) and self.move_in_graph(node, attrs, data, rest):
            return
        moved = self.trace(node, data)
        for name, idx in zip(node.output, self.apply(node, moved.idx, rest, attrs)):
            value = Moved(idx, _name(node), moved.scale)
            found = self.tracer.per_sample(idx) if isinstance(data, Tensor) and moved.scale == 1 else None
            if moved.scale == 1 and (shuffle := self.tracer.shuffled(idx)):
                value = self.add(node, "ChannelShuffle", {"groups": shuffle[1]}, [shuffle[0].tensor])
            elif found and not self.tracer.tensor_at(idx):
                space, kind, arg = found
                layer = "Flatten" if op == "Flatten" and len(arg) == 1 else \
                    "Reshape" if kind == "reshape" else "Permute"
                with suppress(ImportRefused):  # more axes than the graph's nodes take: followed on, as other moves
                    value = self.add(node, layer, {} if layer == "Flatten" else
                                     {"shape" if kind == "reshape" else "dims": arg}, [space.tensor])
            self.put(name, value)

    def apply(self, node: onnx.NodeProto, array: np.ndarray, rest: list, attrs: dict) -> list[np.ndarray]:
        try:
            return move(node.op_type, [array, *rest], attrs, self.tracer.batch)
        except (ValueError, IndexError, TypeError) as exc:
            raise self.refuse(node, f"it does not fit its input ({exc}, for a batch of {self.tracer.batch})") from None

    def move_in_graph(self, node: onnx.NodeProto, attrs: dict, x: Tensor, rest: list) -> bool:
        """The moves that are graph nodes of their own: Identity, Gather of one position, Split."""
        op, rank = node.op_type, len(self.shape(x)) + 1
        axis = attrs.get("axis", 0) % rank
        if op == "Identity":
            self.put(node.output[0], self.add(node, "Identity", {}, [x]))
        elif op == "Gather" and rest[0].ndim == 0 and axis >= 1 and rank in (3, 4):
            self.put(node.output[0], self.add(node, "Select", {"dim": axis - 1, "index": int(rest[0])}, [x]))
        elif op == "Split" and axis >= 1:
            sizes = [part.shape[axis] for part in move(op, [np.empty((1, *self.shape(x))), *rest], attrs, 1)]
            parts = self.add(node, "Split", {"sizes": sizes, "dim": axis - 1}, [x])
            for i, name in enumerate(node.output):
                self.put(name, Tensor(parts.node, i))
        else:
            return False
        return True

    def concat(self, node: onnx.NodeProto, attrs: dict) -> None:
        values = [self.value(node, name) for name in node.input]
        axis = attrs["axis"]
        if len(values) == 2 and isinstance(values[0], Batched) and isinstance(values[1], Tensor) and axis == 1:
            token, x = values[0].array, values[1]
            if token.shape != (self.tracer.batch, 1, self.shape(x)[-1]) or (token != token[:1]).any():
                raise self.refuse(node, "only a learned token, one vector, is put before a sequence")
            self.put(node.output[0], self.add(node, "ClassToken", {}, [x], {"token": token[0].copy()},
                                              self.parameter_label(values[0].source)))
            return
        if all(isinstance(v, Tensor) for v in values) and axis not in (0, -len(self.shape(values[0])) - 1):
            rank = len(self.shape(values[0]))
            dim = axis - 1 if axis > 0 else axis
            self.put(node.output[0], self.add(node, "Concat", {"dim": dim} if dim not in (0, -rank) else {},
                                              [self.tensor(node, i) for i in range(len(values))]))
            return
        parts = [self.trace(node, v) for v in values]
        if any(p.scale != 1 for p in parts):
            raise self.refuse(node, "a concatenation of tensors multiplied by constants is not supported")
        self.put(node.output[0], Moved(np.concatenate([p.idx for p in parts], axis=axis), _name(node)))

    # --- layers ---

    def conv(self, node: onnx.NodeProto, attrs: dict) -> None:
        weight, bias = self.const(node, 1), self.const(node, 2)
        if weight is None:
            raise self.refuse(node, "the weights must be constants")
        dims = weight.ndim - 2
        if dims not in (1, 2) or attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise self.refuse(node, "only 1-D and 2-D convolutions with explicit padding are supported")
        pads = list(attrs.get("pads", [0] * 2 * dims))
        if pads[:dims] != pads[dims:]:
            raise self.refuse(node, f"padding {pads} is not the same on both sides")
        groups = attrs.get("group", 1)
        transposed = node.op_type == "ConvTranspose"
        out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
        params = {"out_channels": int(out_channels), "kernel_size": _size(weight.shape[2:]),
                  "stride": _size(attrs.get("strides", [1] * dims)), "padding": _size(pads[:dims]),
                  "dilation": _size(attrs.get("dilations", [1] * dims)), "groups": groups, "bias": bias is not None}
        if transposed:
            params["output_padding"] = _size(attrs.get("output_padding", [0] * dims))
        defaults = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True, "output_padding": 0}
        layer = f"{'ConvTranspose' if transposed else 'Conv'}{dims}d"
        self.put(node.output[0], self.add(node, layer, _non_default(params, defaults), [self.tensor(node, 0)],
                                          {"weight": weight, **({"bias": bias} if bias is not None else {})}))

    def pool(self, node: onnx.NodeProto, attrs: dict) -> None:
        kernel = list(attrs["kernel_shape"])
        dims = len(kernel)
        pads = list(attrs.get("pads", [0] * 2 * dims))
        if pads[:dims] != pads[dims:] or attrs.get("ceil_mode", 0) or any(d != 1 for d in attrs.get("dilations", [])):
            raise self.refuse(node, "only symmetric padding, without ceil_mode or dilation, is supported")
        if node.op_type == "AveragePool" and not attrs.get("count_include_pad", 0) and any(pads):
            raise self.refuse(node, "an average pool that leaves the padding out of its count is not supported")
        stride = _size(attrs.get("strides", [1] * dims))
        params = {"kernel_size": _size(kernel), "stride": None if stride == _size(kernel) else stride,
                  "padding": _size(pads[:dims])}
        layer = f"{'Max' if node.op_type == 'MaxPool' else 'Avg'}Pool{dims}d"
        self.put(node.output[0], self.add(node, layer, _non_default(params, {"stride": None, "padding": 0}),
                                          [self.tensor(node, 0)]))

    def layer_norm(self, node: onnx.NodeProto, attrs: dict) -> None:
        x = self.tensor(node, 0)
        rank = len(self.shape(x)) + 1
        scale, bias = self.const(node, 1), self.const(node, 2)
        if attrs.get("axis", -1) % rank != rank - 1 or scale is None or scale.ndim != 1:
            raise self.refuse(node, "only a normalization over the last axis, with a constant scale, is supported")
        self.put(node.output[0], self.add(node, "LayerNorm", _non_default({"eps": _f32(attrs.get("epsilon", 1e-5))},
                                                                          {"eps": 1e-5}), [x],
                                          {"weight": scale, "bias": np.zeros_like(scale) if bias is None else bias}))

    def reduce_mean(self, node: onnx.NodeProto, attrs: dict) -> None:
        axes = attrs.get("axes") if "axes" in attrs else self.const(node, 1)
        if axes is None or 0 in [int(a) for a in axes]:
            raise self.refuse(node, "only a mean over chosen axes, not the batch, is supported")
        value = self.value(node, node.input[0])
        squared = isinstance(value, Norming) and value.kind == "squared"
        x = value.tensor if squared else self.tensor(node, 0)
        rank = len(self.shape(x)) + 1
        dims = sorted(int(a) % rank for a in axes)
        keep = bool(attrs.get("keepdims", 1))
        if squared:
            if not keep or dims != [rank - 1]:
                raise self.refuse(node, "LayerNorm's variance must be a mean over the last axis")
            self.put(node.output[0], replace(value, kind="variance", by=_name(node)))
        elif rank == 4 and dims == [2, 3] and not keep:
            self.put(node.output[0], self.add(node, "GlobalAvgPool", {}, [x]))
        else:
            self.put(node.output[0], self.add(node, "Mean", {"dim": [d - 1 for d in dims],
                                                             **({"keepdim": True} if keep else {})}, [x]))

    def softmax(self, node: onnx.NodeProto, attrs: dict) -> None:
        axis = attrs.get("axis", -1)
        value = self.value(node, node.input[0])
        if isinstance(value, Scores):
            if value.softmax or axis % value.q.idx.ndim != value.q.idx.ndim - 1:
                raise self.refuse(node, "attention's softmax must be over the keys (the last axis), once")
            self.values[node.output[0]] = replace(value, softmax=True)
            return
        self.put(node.output[0], self.add(node, "Softmax", {"dim": axis - 1} if axis > 0 else
                                          ({"dim": axis} if axis != -1 else {}), [self.tensor(node, 0)]))

    def gemm(self, node: onnx.NodeProto, attrs: dict) -> None:
        weight, bias = self.const(node, 1), self.const(node, 2)
        if weight is None or attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0:
            raise self.refuse(node, "only Gemm with constant weights, alpha = beta = 1 and no transA is supported")
        weight = weight if attrs.get("transB", 0) else weight.T.copy()
        if bias is not None and bias.size != weight.shape[0]:
            raise self.refuse(node, f"the bias of shape {list(bias.shape)} is not one per output")
        self.linear(node, weight, None if bias is None else bias.reshape(-1))

    def linear(self, node: onnx.NodeProto, weight: np.ndarray, bias: np.ndarray | None) -> None:
        """A Linear of weight (out × in); on rows that were moved, it acts on the tensor they came from, and on
        attention's heads it is the output projection."""
        value = self.value(node, node.input[0])
        width = int(weight.shape[0])
        params = {"out_features": width, **({} if bias is not None else {"bias": False})}
        weights = {"weight": weight, **({"bias": bias} if bias is not None else {})}
        space = self.tracer.space_of(value.idx) if isinstance(value, Moved) and value.scale == 1 else None
        rows = self.tracer.rows(value.idx) if space and space.tensor else None
        if space and space.heads:
            tensor, result = self.attention(node, value, space, weight, bias)
        elif rows:
            source, numbers = rows
            tensor = self.add(node, "Linear", params, [source.tensor], weights)
            result = Moved(self.tracer.lift(numbers, tensor, self.shape(tensor)), _name(node))
        else:
            tensor = result = self.add(node, "Linear", params, [self.tensor(node, 0)], weights)
        if bias is None:
            self.bias_slot[tensor.node] = ("out_proj.bias" if space and space.heads else "bias", width)
        self.put(node.output[0], result)

    def binary(self, node: onnx.NodeProto) -> None:
        op, out = node.op_type, node.output[0]
        a, b = (self.value(node, name) for name in node.input[:2])
        consts = [isinstance(v, np.ndarray) for v in (a, b)]
        scalar = next((i for i in (1, 0) if consts[i] and (a, b)[i].size == 1 and (op == "Mul" or i == 1)), None)
        if op in ("Mul", "Div") and scalar is not None:
            self.unlearned.add(node.input[scalar])
            number = float((a, b)[scalar].reshape(()))
            return self.put(out, self.scaled(node, (a, b)[1 - scalar], number if op == "Mul" else 1 / number))
        if op == "Add" and any(consts):
            return self.add_constant(node, *((a, b, node.input[1]) if consts[1] else (b, a, node.input[0])))
        if op == "Mul" and any(consts):
            return self.scale_constant(node, *((a, b, node.input[1]) if consts[1] else (b, a, node.input[0])))
        if any(consts):
            raise self.refuse(node, f"{op} with a constant operand is not supported")
        if op == "Mul" and (value := self.multiply(node, a, b)) is not None:
            return self.put(out, value)
        if op == "Sub" and (value := self.centered(node, a, b)) is not None:
            return self.put(out, value)
        if op == "Div" and (value := self.normalized(node, a, b)) is not None:
            return self.put(out, value)
        if op == "Div":
            raise self.refuse(node, "no graph node divides one computed tensor by another")
        self.put(out, self.add(node, BINARY[op], {}, [self.tensor(node, 0), self.tensor(node, 1)]))

    def scaled(self, node: onnx.NodeProto, value: object, factor: float) -> object:
        if isinstance(value, Partial):
            return self.gelu(node, replace(value, factor=value.factor * factor))
        if isinstance(value, Scores):
            if value.softmax:
                raise self.refuse(node, "scaling attention's weights after the softmax is not supported")
            return replace(value, scale=value.scale * factor)
        moved = self.trace(node, value)
        return Moved(moved.idx, _name(node), moved.scale * factor)

    def add_constant(self, node: onnx.NodeProto, value: object, const: np.ndarray, name: str) -> None:
        """x + a constant: the bias of the Linear before it, 1 + erf in a GELU, or a positional embedding."""
        out = node.output[0]
        if isinstance(value, Partial) and value.kind == "erf" and value.factor == 1 and const.size == 1 \
                and float(const.reshape(())) == 1:
            self.unlearned.add(name)
            return self.put(out, Partial("1+erf", value.tensor))
        if isinstance(value, Norming) and value.kind == "variance" and not value.eps and const.size == 1:
            self.unlearned.add(name)
            return self.put(out, replace(value, eps=float(const.reshape(())), by=_name(node)))
        source = value if isinstance(value, Tensor) else None
        if isinstance(value, Moved) and value.scale == 1 and (rows := self.tracer.rows(value.idx)):
            source = rows[0].tensor
        slot = self.bias_slot.get(source.node) if source and not source.output else None
        producer = next(n for n in node.input if n != name)
        if slot and self.users.get(producer) == 1 and const.size == slot[1] == const.shape[-1]:
            del self.bias_slot[source.node]  # MatMul then Add of a vector: the bias of the Linear
            self.scale_slot.pop(source.node, None)  # a LayerNorm's scale comes before its bias
            entry = self.node_of[source.node]
            entry.get("params", {}).pop("bias", None)
            if entry["type"] == "MultiheadAttention":
                self.weights[source.node].setdefault("in_proj_bias", np.zeros(3 * slot[1], dtype=const.dtype))
            self.weights[source.node][slot[0]] = const.reshape(-1)
            return self.put(out, value)
        if isinstance(value, Tensor) and const.ndim >= 2 and const.shape[-2:] == self.shape(value) \
                and const.size == np.prod(const.shape[-2:]):  # a learned tensor added to a sequence
            return self.put(out, self.add(node, "PositionalEmbedding", {}, [value],
                                          {"weight": const.reshape(const.shape[-2:])}, self.parameter_label(name)))
        raise self.refuse(node, "Add with a constant operand is not supported")

    def scale_constant(self, node: onnx.NodeProto, value: object, const: np.ndarray, name: str) -> None:
        """x · a vector: the scale of the LayerNorm before it (written out, as before opset 17); otherwise x · one
        scale per channel or feature, a LayerScale."""
        producer = next(n for n in node.input if n != name)
        width = self.scale_slot.get(value.node) if isinstance(value, Tensor) and not value.output else None
        if width is None or self.users.get(producer) != 1 or not const.size == width == const.shape[-1]:
            if not isinstance(value, (Tensor, Moved)):
                raise self.refuse(node, "Mul with a constant operand is not supported")
            x = self.tensor(node, list(node.input).index(producer))
            if const.shape != layer_scale_shape(self.shape(x)):
                raise self.refuse(node, "Mul with a constant operand is not supported (but for a scale per channel "
                                        f"or feature, of shape {list(layer_scale_shape(self.shape(x)))} here)")
            return self.put(node.output[0], self.add(node, "LayerScale", {}, [x], {"weight": const.copy()},
                                                     self.parameter_label(name)))
        del self.scale_slot[value.node]
        self.weights[value.node]["weight"] = const.reshape(-1)
        self.put(node.output[0], value)

    def centered(self, node: onnx.NodeProto, x: object, mean: object) -> Norming | None:
        """x - mean(x) over the last axis (a Mean node, keeping the axis): where LayerNorm's decomposed form
        begins."""
        if not isinstance(x, Tensor) or not isinstance(mean, Tensor) or mean.output:
            return None
        entry, rank = self.node_of[mean.node], len(self.shape(x))
        if entry["type"] != "Mean" or self.inputs_of[mean.node] != [x] or not entry["params"].get("keepdim") \
                or [d % rank for d in entry["params"]["dim"]] != [rank - 1]:
            return None
        return Norming("centered", x, _name(node), mean)

    def normalized(self, node: onnx.NodeProto, centered: object, std: object) -> Tensor | None:
        """(x - mean) / √(variance + eps): a LayerNorm, whose scale and shift a Mul and an Add of vectors may
        follow."""
        if not isinstance(centered, Norming) or not isinstance(std, Norming) or centered.tensor != std.tensor \
                or (centered.kind, std.kind) != ("centered", "std"):
            return None
        width = self.shape(std.tensor)[-1]
        norm = self.add(node, "LayerNorm", _non_default({"eps": _f32(std.eps)}, {"eps": 1e-5}), [std.tensor],
                        {"weight": np.ones(width, np.float32), "bias": np.zeros(width, np.float32)})
        self.scale_slot[norm.node], self.bias_slot[norm.node] = width, ("bias", width)
        return norm

    def norm_step(self, node: onnx.NodeProto) -> None:
        """Pow(x - mean, 2) and √(variance + eps) in LayerNorm's decomposed form."""
        value, exponent = self.value(node, node.input[0]), self.const(node, 1)
        step = {("Pow", "centered"): "squared", ("Sqrt", "variance"): "std"}.get(
            (node.op_type, getattr(value, "kind", None)))
        if not isinstance(value, Norming) or step is None \
                or node.op_type == "Pow" and (exponent is None or exponent.size != 1 or float(exponent) != 2):
            raise self.refuse(node, "only the square and the square root of LayerNorm's decomposed form are "
                                    "supported")
        self.unlearned.update(node.input[1:])
        self.put(node.output[0], replace(value, kind=step, by=_name(node)))

    def multiply(self, node: onnx.NodeProto, a: object, b: object) -> object | None:
        """x · ½(1 + erf(x/√2)) is a GELU, x · Sigmoid(x) a SiLU; None for an element-wise product."""
        pair = ((a, node.input[0]), (b, node.input[1]))
        for (x, _), (y, y_name) in (pair, pair[::-1]):
            if isinstance(y, Partial) and y.kind == "1+erf":
                scale = 1.0 if x == y.tensor else x.scale if isinstance(x, Moved) and \
                    self.tracer.tensor_at(x.idx) == y.tensor else None
                if scale is not None:
                    return self.gelu(node, Partial("gelu", y.tensor, 2 * scale * y.factor))
            if isinstance(x, Tensor) and isinstance(y, Tensor) and not y.output and self.users[y_name] == 1 \
                    and self.node_of[y.node]["type"] == "Sigmoid" and self.inputs_of[y.node] == [x]:
                self.node_of[y.node].update(type="SiLU", label=self.labels.get(_name(node), _name(node)))
                return y
        return None

    def gelu(self, node: onnx.NodeProto, value: Partial) -> object:
        if value.kind == "gelu" and abs(value.factor - 1) < 1e-6:
            return self.add(node, "GELU", {}, [value.tensor])
        return value

    # --- attention ---

    def product(self, node: onnx.NodeProto) -> None:
        """MatMul of two computed tensors: attention's q·kᵀ, or its weights ·v."""
        a, b = (self.value(node, name) for name in node.input[:2])
        if isinstance(a, Scores) and a.softmax:
            self.put(node.output[0], self.attend(node, a, self.trace(node, b)))
            return
        q, k = self.trace(node, a), self.trace(node, b)
        self.values[node.output[0]] = Scores(q, k, q.scale * k.scale)

    def attend(self, node: onnx.NodeProto, scores: Scores, v: Moved) -> Moved:
        """softmax(q·kᵀ)·v: checks that q, k and v are heads cut from projections of sequences, as
        MultiheadAttention cuts them, and stands for the result until its output projection."""
        q, k = scores.q.idx, scores.k.idx
        lead, (positions, width), keys = q.shape[:-2], q.shape[-2:], k.shape[-1]
        if v.scale != 1 or k.shape != (*lead, width, keys) or v.idx.shape != (*lead, keys, width):
            raise self.refuse(node, "its operands are not attention's (softmax(q·kᵀ) of heads, times v)")
        cuts = [self.tracer.cut(q.reshape(-1, positions, width)),
                self.tracer.cut(np.swapaxes(k.reshape(-1, width, keys), 1, 2)),
                self.tracer.cut(v.idx.reshape(-1, keys, width))]
        if any(c is None for c in cuts):
            raise self.refuse(node, "q, k and v are not cut from projections of sequences, as attention's heads are")
        sample = cuts[0][1]
        head = (cuts[0][2] - cuts[0][2].min()) // width
        heads = int(head.max()) + 1
        for _, samples, first in cuts:
            if not np.array_equal(samples, sample) or not np.array_equal(first - first.min(), head * width):
                raise self.refuse(node, "q, k and v do not pair the same heads of the same samples")
        if len(set(zip(sample.tolist(), head.tolist()))) != len(sample) or len(sample) != heads * self.tracer.batch:
            raise self.refuse(node, "the heads do not cover each sample once")
        if abs(scores.scale * math.sqrt(width) - 1) > 1e-5:
            raise self.refuse(node, f"the scores are scaled by {scores.scale:g}, not 1/√{width} as "
                                    "MultiheadAttention scales them")
        space = self.tracer.register((*lead, positions, width),
                                     heads=Heads(sample, head, positions, width,
                                                 [(c[0], int(c[2].min())) for c in cuts]))
        return Moved(space.canonical(), _name(node))

    def attention(self, node: onnx.NodeProto, value: Moved, space: Space, weight: np.ndarray,
                  bias: np.ndarray | None) -> tuple[Tensor, Moved]:
        """The output projection of attention's heads: one MultiheadAttention node with the projections'
        weights, and where its rows went."""
        info = space.heads
        embed = value.idx.shape[-1]
        rows = value.idx.reshape(-1, embed)
        g, within = np.divmod(rows - space.base, info.positions * info.width)
        position, feature = np.divmod(within, info.width)
        j = np.arange(embed)
        if embed != (int(info.head.max()) + 1) * info.width or (feature != j % info.width).any() \
                or (info.head[g] != j // info.width).any() or (info.sample[g] != info.sample[g[:, :1]]).any() \
                or (position != position[:, :1]).any():
            raise self.refuse(node, "it does not read attention's heads side by side, as an output projection does")
        if weight.shape != (embed, embed):
            raise self.refuse(node, f"MultiheadAttention's output projection keeps the {embed} features, this one "
                                    f"gives {weight.shape[0]}")
        sources, parts, biases = [], [], []
        for cut, first in info.cuts:
            entry = self.node_of[cut.tensor.node]
            if entry["type"] != "Linear" or cut.tensor.output:
                raise self.refuse(node, "attention's q, k and v must each come from a Linear projection")
            parts.append(self.weights[entry["id"]]["weight"][first:first + embed])
            given = self.weights[entry["id"]].get("bias")
            biases.append(None if given is None else given[first:first + embed])
            sources.append(self.inputs_of[entry["id"]][0])
        if parts[0].shape[1] != embed:
            raise self.refuse(node, f"the query has {parts[0].shape[1]} features; MultiheadAttention's projects "
                                    f"{embed} to {embed}")
        has_bias = any(b is not None for b in [*biases, bias])
        zeros = np.zeros(embed, dtype=weight.dtype)
        if all(p.shape[1] == embed for p in parts):
            weights = {"in_proj_weight": np.concatenate(parts)}
        else:  # keys or values of other sizes (kdim, vdim): PyTorch keeps three matrices
            weights = {f"{n}_proj_weight": p for n, p in zip("qkv", parts)}
        if has_bias:
            weights["in_proj_bias"] = np.concatenate([zeros if b is None else b for b in biases])
        weights["out_proj.weight"] = weight
        if has_bias:
            weights["out_proj.bias"] = zeros if bias is None else bias
        tensor = self.add(node, "MultiheadAttention", {"num_heads": int(info.head.max()) + 1,
                                                       **({} if has_bias else {"bias": False})},
                          dedupe_attention(sources), weights,
                          self.labels.get(_name(node), "").removesuffix(".out_proj"))  # PyTorch's own name for it
        numbers = info.sample[g[:, 0]] * info.positions + position[:, 0]
        return tensor, Moved(self.tracer.lift(numbers.reshape(value.idx.shape[:-1]), tensor, self.shape(tensor)),
                             _name(node))

    # --- recurrent layers ---

    def recurrent(self, node: onnx.NodeProto, attrs: dict) -> None:
        op = node.op_type
        directions = {b"forward": 1, b"bidirectional": 2}.get(attrs.get("direction", b"forward"))
        activations = [a.decode() if isinstance(a, bytes) else a for a in attrs.get("activations", [])]
        relu = op == "RNN" and activations == ["Relu"] * (directions or 1)
        if "clip" in attrs:
            raise self.refuse(node, "clip is not supported (PyTorch's recurrent layers do not clip)")
        if directions is None:
            raise self.refuse(node, "only the forward and bidirectional directions are supported")
        if (activations not in ([], ACTIVATIONS[op] * directions) and not relu) \
                or "activation_alpha" in attrs or "activation_beta" in attrs:
            raise self.refuse(node, f"only PyTorch's activations ({', '.join(ACTIVATIONS[op])}) are supported, not "
                                    f"{', '.join(activations)}")
        if attrs.get("input_forget", 0) or op == "GRU" and attrs.get("linear_before_reset", 0) != 1:
            raise self.refuse(node, "input_forget and linear_before_reset=0 are not supported (PyTorch's layers "
                                    "do neither)")
        weight, hidden_weight, bias = (self.const(node, i) for i in (1, 2, 3))  # ONNX's W, R and B
        if weight is None or hidden_weight is None:
            raise self.refuse(node, "the weights must be constants")
        if len(node.input) > 4 and node.input[4]:
            raise self.refuse(node, "sequence_lens (sequences of several lengths) is not supported")
        for name in node.input[5:]:
            value = self.value(node, name) if name else None
            array = value.array if isinstance(value, Batched) else value
            if name and (not isinstance(array, np.ndarray) or array.any()):
                raise self.refuse(node, f"'{name}' must be zeros: starting states and peepholes are not supported")
            if name:
                self.unlearned.add(value.source if isinstance(value, Batched) else name)
        hidden, layout = int(attrs["hidden_size"]), attrs.get("layout", 0)
        x = self.sequence(node, layout)
        steps = self.shape(x)[0]
        gates = GATES[op]
        if bias is None:
            bias = np.zeros((directions, 2 * len(gates) * hidden), dtype=weight.dtype)
        weights = {}
        for d in range(directions):
            suffix = "_l0_reverse" if d else "_l0"
            weights[f"weight_ih{suffix}"] = _reorder(weight[d], gates)
            weights[f"weight_hh{suffix}"] = _reorder(hidden_weight[d], gates)
            weights[f"bias_ih{suffix}"] = _reorder(bias[d][:len(gates) * hidden], gates)
            weights[f"bias_hh{suffix}"] = _reorder(bias[d][len(gates) * hidden:], gates)
        params = {"hidden_size": hidden, **({"bidirectional": True} if directions == 2 else {}),
                  **({"nonlinearity": "relu"} if relu else {})}
        layer = self.add(node, op, params, [x], weights)
        # Y is T×D×N×H (N×T×D×H with layout 1), Y_h D×N×H (N×D×H); the graph's outputs are N×T×DH and N×DH, the
        # last layer's forward and backward states side by side.
        ys = self.trace(node, layer).idx.reshape(-1, steps, directions, hidden)
        hs = self.trace(node, Tensor(layer.node, 1)).idx.reshape(-1, directions, hidden)
        outs = [ys.transpose(1, 2, 0, 3), hs.transpose(1, 0, 2)] if layout == 0 else [ys, hs]
        for name, idx in zip(node.output, outs):
            if name:
                self.put(name, Moved(idx, _name(node)))
        if len(node.output) > 2 and node.output[2]:
            self.values[node.output[2]] = Unusable(f"the cell state of '{_name(node)}' (Y_c) is not an output of "
                                                   "the graph's LSTM, only the hidden state")

    def sequence(self, node: onnx.NodeProto, layout: int) -> Tensor:
        """A recurrent layer's input as the graph's batch-first sequence (ONNX's layout 0 is time first)."""
        if layout == 1:
            return self.tensor(node, 0)
        value = self.value(node, node.input[0])
        if isinstance(value, Tensor):
            raise self.refuse(node, "it reads the batch axis as time (layout 0 of a batch-first tensor)")
        moved = self.trace(node, value)
        return self.materialize(node, node.input[0], replace(moved, idx=np.swapaxes(moved.idx, 0, 1)))


def _name(node: onnx.NodeProto) -> str:
    return node.name or node.output[0]


def _labels(nodes, initializers) -> dict[str, str]:
    """The labels torch.fx's import would give, from the module paths PyTorch's exporters record: a leaf
    module's path (layer1.0.conv1) for its ops, the path and the op (layer1.0.add) for what a module's own
    forward computes. A weight is named after its module (layer1.0.conv1.weight); otherwise the dynamo exporter
    records the path in each node's metadata, the TorchScript exporter in its name (/layer1/layer1.0/conv1/Conv).
    Files from other tools keep their node names."""
    scoped = {}
    for node in nodes:
        meta = {p.key: p.value for p in node.metadata_props}
        weight = next((i for i in node.input if i.endswith(".weight") and i in initializers), None)
        if weight:  # the exporter may have folded a BatchNorm into this Conv: its metadata names the BatchNorm
            scoped[_name(node)] = (weight.removesuffix(".weight"), "")
        elif "pkg.torch.onnx.name_scopes" in meta:
            scopes = re.findall(r"'([^']*)'", meta["pkg.torch.onnx.name_scopes"])  # a list's repr, not evaluated
            if len(scopes) >= 2:
                scoped[_name(node)] = (scopes[-2], re.sub(r"_\d+$", "", scopes[-1]))  # add_55: the exporter's count
        elif node.name.startswith("/"):
            parts: list[str] = []
            *modules, op = node.name[1:].split("/")
            for module in modules:  # /layer1/layer1.0: a child of a Sequential is named with its parent's name
                if parts and module.startswith(parts[-1] + "."):
                    parts[-1] = module
                else:
                    parts.append(module)
            scoped[_name(node)] = (".".join(parts), re.sub(r"_\d+$", "", op).lower())
    # A module that holds others computes some ops itself (layer1.0's add); the root holds everything.
    holders = {path.rsplit(".", i)[0] for path, _ in scoped.values() for i in range(1, path.count(".") + 1)} | {""}
    return {name: ".".join(filter(None, (path, op))) if path in holders else path
            for name, (path, op) in scoped.items()}


def _reorder(array: np.ndarray, gates: list[int]) -> np.ndarray:
    blocks = np.split(array, len(gates))
    return np.concatenate([blocks[i] for i in gates])


def _f32(value: float) -> float:
    """A float32 attribute as written (1e-06, not 9.999999974752427e-07)."""
    return float(str(np.float32(value)))


def _size(values) -> int | list[int]:
    values = [int(v) for v in values]
    return values[0] if len(set(values)) == 1 else values


def _non_default(params: dict, defaults: dict) -> dict:
    return {k: v for k, v in params.items() if k not in defaults or defaults[k] != v}


def import_onnx(data: bytes, name: str = "") -> Imported:
    """An ONNX file's bytes as a netgraph document and its weights (ImportRefused names what cannot be mapped).

    The file is parsed and checked with the onnx package (onnx.checker); nothing in it is run.
    """
    try:
        model = onnx.load_model_from_string(data)
        onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, onnx.onnx_cpp2py_export.shape_inference.InferenceError) as exc:
        raise ImportRefused(f"the file is not a valid ONNX model: {str(exc).splitlines()[0]}") from None
    except Exception as exc:  # a protobuf decode error: not an ONNX file at all
        raise ImportRefused(f"the file is not an ONNX model ({type(exc).__name__})") from None
    return _Importer(model, name or model.graph.name or "imported").run()


def verify_onnx(data: bytes, imported: Imported, limits) -> tuple[int, float]:
    """The imported graph's parameter count, and the largest relative error of its compiled model against
    ONNX Runtime on a random input."""
    import onnxruntime

    from .codegen import compile_graph
    from .validate import analyze

    analysis = analyze(imported.doc, limits)
    if not analysis.valid:
        problems = "; ".join(e.message for e in analysis.errors[:3])
        raise ImportRefused(f"the imported graph does not validate: {problems}")
    model = compile_graph(analysis).eval()
    model.load_state_dict({k: v.to(model.state_dict()[k].dtype) for k, v in imported.weights.items()})
    source = analysis.shapes[analysis.input_node]
    x = torch.randn(2, *source.shape, generator=torch.Generator().manual_seed(0))
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    want = torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])
    with torch.no_grad():
        got = model(x)
    return analysis.total_params, ((got - want).abs().max() / want.abs().max().clamp_min(1e-12)).item()
