"""The layer registry: the one source of truth for every layer a graph may use.

Each entry names its PyTorch type, category, parameters (kind, default, range, help) and a one-line
description; the browser palette and forms are generated from it through the API. It also says how a node
becomes PyTorch: the constructor call (`build`, given the input shapes, since input sizes are inferred) and
the forward expression (`forward`). Both are rendered as source text, so the compiled model and the exported
code are the same code. Types and parameters are named as in torch.nn; graph operations without a torch.nn
class (Add, Concat, Mean, ...) have the project's own names. Dimensions and axes are counted without the batch.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .params import Param, bool_param, choice_param, float_param, int_param, size_param

Shape = tuple[int, ...]  # one sample's shape, without the batch dimension


# --- modules torch.nn does not have ------------------------------------------------------------------------
# The exported source carries the definition of each one it uses (codegen copies this very text), so a
# model file still needs only torch. Keep them plain: they are read by whoever opens model.py.

class PositionalEmbedding(nn.Module):
    """Adds a learned vector to each position of a sequence: (batch, T, F) + (T, F)."""

    def __init__(self, length, features, init="normal"):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(length, features))
        if init == "normal":
            nn.init.normal_(self.weight, std=0.02)  # as ViT

    def forward(self, x):
        return x + self.weight


class ClassToken(nn.Module):
    """Puts a learned token before a sequence: (batch, T, F) becomes (batch, T + 1, F)."""

    def __init__(self, features, init="zeros"):
        super().__init__()
        self.token = nn.Parameter(torch.zeros(1, features))
        if init == "normal":
            nn.init.normal_(self.token, std=0.02)

    def forward(self, x):
        return torch.cat([self.token.expand(x.shape[0], 1, -1), x], dim=1)


class LayerScale(nn.Module):
    """Multiplies each channel (or feature) by a learned scale, as ConvNeXt's blocks end: x · (C, 1, 1)."""

    def __init__(self, shape, init=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.full(shape, float(init)))

    def forward(self, x):
        return x * self.weight


HELPER_CLASSES = (PositionalEmbedding, ClassToken, LayerScale)


@dataclass(frozen=True)
class Call:
    """A constructor call such as `nn.Conv2d(1, 32, kernel_size=3)`, kept as data so it can be rendered."""

    cls: type
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    @property
    def helper(self) -> bool:
        """Whether the class is one of this module's own, whose definition the exported source must carry."""
        return self.cls in HELPER_CLASSES

    def source(self) -> str:
        defaults = _torch_defaults(self.cls)
        shown = [repr(a) for a in self.args]
        # Keyword arguments equal to PyTorch's own defaults are left out, as a person would write it.
        shown += [f"{k}={v!r}" for k, v in self.kwargs.items() if defaults.get(k, inspect.Parameter.empty) != v]
        return f"{'' if self.helper else 'nn.'}{self.cls.__name__}({', '.join(shown)})"


def _torch_defaults(cls: type) -> dict:
    """The constructor defaults of a PyTorch layer (for LSTM and GRU, those of their base, RNNBase)."""
    for klass in cls.__mro__:
        params = inspect.signature(klass.__init__).parameters.values()
        if not any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
            return {p.name: p.default for p in params}
    return {}


def call_module(module: str, inputs: list[str], params: dict, shapes: list[Shape]) -> str:
    return f"{module}({', '.join(inputs)})"


@dataclass(frozen=True)
class LayerSpec:
    type: str
    category: str
    description: str
    params: tuple[Param, ...] = ()
    label: str = ""
    min_inputs: int = 1
    max_inputs: int | None = 1
    ranks: tuple[int, ...] | None = None  # allowed input ranks (without batch); None: any
    rank_hint: str = ""  # how the input looks, for messages: "C×H×W"
    takes_tokens: bool = False  # needs int64 token ids (Embedding); others need float
    passes_tokens: bool = False  # shape-only ops that work on either dtype
    build: Callable[[dict, list[Shape]], Call] | None = None
    forward: Callable[[str, list[str], dict, list[Shape]], str] = call_module
    check: Callable[[dict, list[Shape]], str | None] | None = None  # problems PyTorch words poorly
    # Layouts (names of the axes, one letter each: "CHW", "CL", "TF", "F", "T", "C"). `needs`: the layouts
    # the first input may have, checked at their rank ("CL" refuses a T×F input, not a vector). `layout`: the
    # output's layout, a fixed one or computed from (params, input layouts, input shapes, output shape);
    # None keeps the first input's layout (or names the axes by rank when the rank changes).
    needs: tuple[str, ...] = ()
    prefers: str = ""  # what an Input of layout "auto" becomes when this layer reads it first (without `needs`)
    layout_param: bool = False  # its forward reads the input's layout (params[INPUT_LAYOUT]), e.g. GlobalAvgPool
    layout: str | Callable[[dict, list[str | None], list[Shape], Shape], str | None] | None = None
    # A node with several outputs (LSTM: sequence and state; Split: its parts) names them, fixed or from its
    # parameters, and writes its forward as statements (`forward_many`) that assign one variable per output;
    # an output no edge uses gets no variable (None), so the code computes only what is used. `layouts` are
    # its outputs' layouts, fixed per output; without them, each output keeps the first input's layout.
    outputs: tuple[str, ...] | Callable[[dict], tuple[str, ...]] = ()
    forward_many: Callable[[str, list[str], dict, list[Shape], list[str | None]], list[str]] | None = None
    layouts: tuple[str | None, ...] = ()

    @property
    def display_name(self) -> str:
        return self.label or self.type

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def output_names(self, params: dict) -> tuple[str, ...]:
        """The names of the node's outputs, in order; a one-output layer's is "output"."""
        names = self.outputs(params) if callable(self.outputs) else self.outputs
        return names or ("output",)

    def describe(self) -> dict:
        return {
            "type": self.type,
            "label": self.display_name,
            "category": self.category,
            "description": self.description,
            "inputs": {"min": self.min_inputs, "max": self.max_inputs},
            "input_shape": self.rank_hint or "any",
            "input_layouts": list(self.needs),
            # The names of the outputs, or None where the parameters decide how many (Split, Chunk).
            "outputs": None if callable(self.outputs) else list(self.output_names({})),
            "params": [p.describe() for p in self.params],
        }


def torch_dim(dim: int) -> int:
    """A feature dimension counted without the batch (as the user sees shapes) to PyTorch's count."""
    return dim + 1 if dim >= 0 else dim


def format_shape(shape: Any) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _each(value: int | tuple[int, ...], dims: int) -> tuple[int, ...]:
    """A size parameter (one int, or one per spatial dimension) as one value per dimension."""
    return value if isinstance(value, tuple) else (value,) * dims


def _dims_source(dims: tuple[int, ...]) -> str:
    """PyTorch dimensions as a person writes them in `dim=`: `1` or `(2, 3)`."""
    return str(dims[0]) if len(dims) == 1 else str(tuple(dims))


# --- layouts: the names of each sample's axes ---------------------------------------------------------------

LAYOUTS = ("CHW", "CL", "TF", "F", "T")  # the Input's choices; "C" (channels without positions) also occurs
BY_RANK = {1: "F", 2: "TF", 3: "CHW"}  # how axes are named when nothing says otherwise
SWAPPED = {"LC": "TF", "FT": "CL"}  # C×L with its axes swapped is a sequence of vectors, and back


def show_layout(layout: str | None) -> str:
    """A layout as people write it: "CHW" is C×H×W."""
    return "×".join(layout) if layout else "?"


def _by_rank(rank: int) -> str | None:
    return BY_RANK.get(rank)


def _keep_leading(p: dict, layouts: list[str | None], shapes: list[Shape], out: Shape) -> str | None:
    """Linear: the last axis becomes features, the others stay."""
    layout = layouts[0]
    if len(out) == 1:
        return "F"
    return layout if layout and len(layout) == len(out) else _by_rank(len(out))


def _pool_positions(p: dict, layouts: list[str | None], shapes: list[Shape], out: Shape) -> str | None:
    """Pooling over every position keeps the channels (C×H×W, C×L) or the features (T×F)."""
    return "F" if layouts[0] == "TF" else "C"


def _drop_axes(p: dict, layouts: list[str | None], shapes: list[Shape], out: Shape) -> str | None:
    """Mean, Sum, Select: the reduced axes lose their names (unless kept with keepdim)."""
    layout = layouts[0]
    if not layout or len(layout) != len(shapes[0]) or p.get("keepdim"):
        return layout if layout and len(layout) == len(out) else _by_rank(len(out))
    axes = p["dim"] if isinstance(p["dim"], (list, tuple)) else [p["dim"]]
    gone = {a % len(layout) for a in axes}
    return "".join(c for i, c in enumerate(layout) if i not in gone) or None


def _reorder(p: dict, layouts: list[str | None], shapes: list[Shape], out: Shape) -> str | None:
    """Permute and Transpose move the names with the axes; C×L swapped is T×F and back."""
    layout = layouts[0]
    if not layout or len(layout) != len(out):
        return _by_rank(len(out))
    if "dims" in p:
        order = [a % len(layout) for a in p["dims"]]
    else:
        order = list(range(len(layout)))
        a, b = p["dim0"] % len(layout), p["dim1"] % len(layout)
        order[a], order[b] = order[b], order[a]
    moved = "".join(layout[i] for i in order)
    return SWAPPED.get(moved, moved)


def _reshape_layout(p: dict, layouts: list[str | None], shapes: list[Shape], out: Shape) -> str | None:
    """Reshape keeps channels (or time) first when the first axis keeps its size: C×H×W to C×L and back."""
    layout = layouts[0]
    if len(out) == 1:
        return "F"
    if layout and layout[0] in "CT" and len(out) in (2, 3) and out[0] == shapes[0][0]:
        return {("C", 2): "CL", ("C", 3): "CHW", ("T", 2): "TF"}.get((layout[0], len(out)), _by_rank(len(out)))
    return _by_rank(len(out))


# --- parameters shared by families of layers --------------------------------------------------------------

def _dim_param(name: str, default: int, help: str) -> Param:
    return int_param(name, default, help, minimum=-3, maximum=2)


def _axes_param(name: str, default: list[int], help: str) -> Param:
    """A list of axes (0 is the first after the batch; negative ones count from the end)."""
    return Param(name, "shape", default, help, minimum=-3, maximum=2)


def _conv_params(dims: int, transposed: bool) -> tuple[Param, ...]:
    padding = ("Trimmed from each side of the output." if transposed else "Zeros added on each side of the input.")
    output_padding = (size_param("output_padding", 0, "Added to one side of the output, to choose among the sizes "
                                 "a stride allows; less than stride or dilation.", dims, minimum=0),)
    return (
        int_param("out_channels", 32, "Number of filters (output channels).", maximum=65536),
        size_param("kernel_size", 3, "Size of each filter.", dims),
        size_param("stride", 1, "Step between filter positions.", dims),
        size_param("padding", 0, padding, dims, minimum=0),
        *(output_padding if transposed else ()),
        size_param("dilation", 1, "Spacing between filter taps.", dims),
        int_param("groups", 1, "Channel groups, each with its own filters (depthwise: as many as the input's "
                               "channels); must divide the input and output channels.", maximum=65536),
        bool_param("bias", True, "Learn an additive bias per output channel."),
    )


def _pool_params(dims: int) -> tuple[Param, ...]:
    return (
        size_param("kernel_size", 2, "Size of the pooling window.", dims),
        size_param("stride", None, "Step between windows; empty means the kernel size.", dims, nullable=True),
        size_param("padding", 0, "Padding added on each side (at most half the kernel).", dims, minimum=0),
    )


def _recurrent_params(extra: tuple[Param, ...] = ()) -> tuple[Param, ...]:
    return (
        int_param("hidden_size", 128, "Features in the hidden state.", maximum=16384),
        int_param("num_layers", 1, "Recurrent layers stacked inside this node.", maximum=32),
        bool_param("bidirectional", False, "Also read the sequence backwards (doubles the output features)."),
        float_param("dropout", 0.0, "Dropout between stacked layers (needs num_layers > 1).", 0.0, 0.99,
                    shaping=False),
        *extra,
    )


def _transformer_params() -> tuple[Param, ...]:
    return (
        int_param("nhead", 4, "Attention heads; must divide the input's features.", maximum=256),
        int_param("dim_feedforward", 256, "Units in the feed-forward block.", maximum=65536),
        float_param("dropout", 0.1, "Dropout inside the block.", 0.0, 0.99, shaping=False),
        choice_param("activation", "relu", "Activation of the feed-forward block.", ("relu", "gelu")),
        bool_param("norm_first", False, "Normalize before attention (pre-LN) rather than after."),
    )


def _eps_param() -> Param:
    return float_param("eps", 1e-5, "Added to the variance for stability.", 0.0, 1.0, exclusive_minimum=True,
                       shaping=False)


# --- checks: problems PyTorch words poorly, or words in its own count of dimensions ----------------------

def _check_conv(p: dict, shapes: list[Shape]) -> str | None:
    channels, groups = shapes[0][0], p["groups"]
    if channels % groups or p["out_channels"] % groups:
        return (f"groups ({groups}) must divide both the input's channels ({channels}) "
                f"and out_channels ({p['out_channels']})")
    if "output_padding" in p:
        dims = len(shapes[0]) - 1
        limits = zip(_each(p["output_padding"], dims), _each(p["stride"], dims), _each(p["dilation"], dims))
        if any(extra >= max(stride, dilation) for extra, stride, dilation in limits):
            return f"output_padding {p['output_padding']} must be smaller than stride or dilation"
    return None


def _check_pool_padding(p: dict, shapes: list[Shape]) -> str | None:
    dims = len(shapes[0]) - 1
    if any(2 * pad > k for pad, k in zip(_each(p["padding"], dims), _each(p["kernel_size"], dims))):
        return f"padding {p['padding']} must be at most half of kernel_size {p['kernel_size']}"
    return None


def _check_same_shapes(p: dict, shapes: list[Shape]) -> str | None:
    # As in PyTorch, axes of size 1 stretch (a squeeze-excitation gate C×1×1 scales a C×H×W map); the ranks
    # must agree, since PyTorch would line a shorter shape's axes up with the batch.
    try:
        if len({len(s) for s in shapes}) > 1:
            raise RuntimeError
        torch.broadcast_shapes(*shapes)
    except RuntimeError:
        return "inputs must have the same shape (the same number of axes, and of size 1 where they differ), got " + \
            " and ".join(format_shape(s) for s in shapes)
    return None


def _check_concat(p: dict, shapes: list[Shape]) -> str | None:
    ranks = {len(s) for s in shapes}
    if len(ranks) > 1:
        return "inputs must have the same number of dimensions, got " + " and ".join(format_shape(s) for s in shapes)
    if problem := _check_dims(p, shapes):
        return problem
    dim = p["dim"]
    axis = dim % len(shapes[0])
    trimmed = {s[:axis] + s[axis + 1:] for s in shapes}
    if len(trimmed) > 1:
        return (f"inputs must match in every dimension except dim {dim}, got "
                + " and ".join(format_shape(s) for s in shapes))
    return None


def _check_dims(p: dict, shapes: list[Shape]) -> str | None:
    """Every single-dimension parameter (dim, dim0, dim1) names a dimension the input has."""
    rank = len(shapes[0])
    for name in ("dim", "dim0", "dim1"):
        if name in p and not -rank <= p[name] < rank:
            return f"{name} {p[name]} is out of range for inputs of shape {format_shape(shapes[0])}"
    return None


def _check_axes(p: dict, shapes: list[Shape]) -> str | None:
    """A list of axes (`dim` of Mean and Sum, `dims` of Permute): each one the input has, none twice."""
    name = "dims" if "dims" in p else "dim"
    axes, rank = p[name], len(shapes[0])
    if any(not -rank <= a < rank for a in axes):
        return f"{name} {format_shape(axes)} names an axis that inputs of shape {format_shape(shapes[0])} lack"
    if len({a % rank for a in axes}) < len(axes):
        return f"{name} {format_shape(axes)} names an axis twice"
    if name == "dims" and len(axes) != rank:
        return f"dims {format_shape(axes)} must order all {rank} axes of inputs of shape {format_shape(shapes[0])}"
    if name == "dim" and len(axes) == rank and not p["keepdim"]:
        return f"dim {format_shape(axes)} reduces every axis, which leaves nothing per sample: keep one, or keepdim"
    return None


def _check_select(p: dict, shapes: list[Shape]) -> str | None:
    if problem := _check_dims(p, shapes):
        return problem
    size = shapes[0][p["dim"]]
    if not -size <= p["index"] < size:
        return f"index {p['index']} is out of range for dim {p['dim']} of size {size}"
    return None


def _check_split(p: dict, shapes: list[Shape]) -> str | None:
    if problem := _check_dims(p, shapes):
        return problem
    size = shapes[0][p["dim"]]
    if "sizes" in p:
        if len(p["sizes"]) < 2:
            return f"sizes {format_shape(p['sizes'])} makes one part; give at least two"
        if sum(p["sizes"]) != size:
            return f"sizes {format_shape(p['sizes'])} add up to {sum(p['sizes'])}, but dim {p['dim']} has size {size}"
    elif size % p["chunks"]:
        return f"chunks ({p['chunks']}) must divide the size of dim {p['dim']} ({size})"
    return None


def _check_reshape(p: dict, shapes: list[Shape]) -> str | None:
    size = math.prod(shapes[0])
    target = p["shape"]
    known = math.prod(d for d in target if d != -1)
    if (-1 in target and size % known) or (-1 not in target and size != known):
        return f"cannot reshape {format_shape(shapes[0])} ({size} values) into {format_shape(target)}"
    return None


def _check_heads(p: dict, shapes: list[Shape]) -> str | None:
    """Attention heads divide the features; a second input (memory, key) has compatible sizes."""
    name = "nhead" if "nhead" in p else "num_heads"
    heads = p[name]
    features = shapes[0][-1]
    if features % heads:
        return f"the input's features ({features}) must be divisible by {name} ({heads})"
    if name == "nhead" and len(shapes) > 1 and shapes[1][-1] != features:
        return f"the memory's features ({shapes[1][-1]}) must equal the target's ({features})"
    if len(shapes) == 3 and shapes[1][0] != shapes[2][0]:
        return f"key and value must have the same length, got {format_shape(shapes[1])} and {format_shape(shapes[2])}"
    return None


def _check_groups(p: dict, shapes: list[Shape]) -> str | None:
    if shapes[0][0] % p["num_groups"]:
        return f"num_groups ({p['num_groups']}) must divide the input's channels ({shapes[0][0]})"
    return None


def _check_prelu(p: dict, shapes: list[Shape]) -> str | None:
    if p["num_parameters"] not in (1, shapes[0][0]):
        return f"num_parameters must be 1 or the input's channels ({shapes[0][0]}), got {p['num_parameters']}"
    return None


def _check_upsample(p: dict, shapes: list[Shape]) -> str | None:
    wanted = {"linear": 2, "bilinear": 3, "bicubic": 3}.get(p["mode"])
    if wanted is not None and len(shapes[0]) != wanted:
        return (f"mode '{p['mode']}' needs {SPATIAL[wanted - 1]} input; "
                f"use {'bilinear' if wanted == 2 else 'linear'} or nearest for {format_shape(shapes[0])}")
    if any(math.floor(size * p["scale_factor"]) < 1 for size in shapes[0][1:]):
        return f"scale_factor {p['scale_factor']:g} leaves no values of {format_shape(shapes[0])}"
    return None


def _check_hardtanh(p: dict, shapes: list[Shape]) -> str | None:
    if p["min_val"] >= p["max_val"]:
        return f"min_val ({p['min_val']:g}) must be less than max_val ({p['max_val']:g})"
    return None


# --- how each family is built -----------------------------------------------------------------------------

def _build_recurrent(cls: type) -> Callable[[dict, list[Shape]], Call]:
    def build(p: dict, shapes: list[Shape]) -> Call:
        kwargs = {"num_layers": p["num_layers"], "batch_first": True,
                  "bidirectional": p["bidirectional"], "dropout": p["dropout"]}
        if "nonlinearity" in p:
            kwargs["nonlinearity"] = p["nonlinearity"]
        return Call(cls, (shapes[0][-1], p["hidden_size"]), kwargs)
    return build


def _forward_recurrent(has_cell_state: bool) -> Callable[..., list[str]]:
    """Output 0 is every step's output (T×F); output 1 the final hidden state of the last layer (F)."""
    def forward(module: str, inputs: list[str], p: dict, shapes: list[Shape], outs: list[str | None]) -> list[str]:
        sequence, state = outs
        if state is None:
            return [f"{sequence} = {module}({inputs[0]})[0]"]
        hidden = f"({state}, _)" if has_cell_state else state  # an LSTM returns (h_n, c_n)
        # h_n holds every layer's (and direction's) final state: keep the last layer's.
        last = (f"{state}[-2:].transpose(0, 1).flatten(1)  # the forward and backward states side by side"
                if p["bidirectional"] else f"{state}[-1]")
        return [f"{sequence or '_'}, {hidden} = {module}({inputs[0]})", f"{state} = {last}"]
    return forward


def _build_attention(p: dict, shapes: list[Shape]) -> Call:
    embed_dim, kdim, vdim = shapes[0][-1], shapes[1 % len(shapes)][-1], shapes[-1][-1]
    kwargs = {"dropout": p["dropout"], "bias": p["bias"], "batch_first": True}
    if (kdim, vdim) != (embed_dim, embed_dim):
        kwargs.update(kdim=kdim, vdim=vdim)
    return Call(nn.MultiheadAttention, (embed_dim, p["num_heads"]), kwargs)


def _forward_attention(module: str, inputs: list[str], p: dict, shapes: list[Shape],
                       outs: list[str | None]) -> list[str]:
    """Output 0 is the attended sequence; output 1 the weights (T×S, averaged over the heads), computed only
    when an edge uses them (PyTorch's fast path needs need_weights=False)."""
    query = inputs[0]
    key = inputs[1] if len(inputs) > 1 else query
    value = inputs[2] if len(inputs) > 2 else key
    output, weights = outs
    if weights is None:
        return [f"{output} = {module}({query}, {key}, {value}, need_weights=False)[0]"]
    return [f"{output or '_'}, {weights} = {module}({query}, {key}, {value})"]


def _parts(p: dict) -> tuple[str, ...]:
    """Split and Chunk: one output per part, named by its number."""
    return tuple(str(i) for i in range(len(p["sizes"]) if "sizes" in p else p["chunks"]))


def _forward_parts(call: Callable[[dict], str]) -> Callable[..., list[str]]:
    def forward(module: str, inputs: list[str], p: dict, shapes: list[Shape], outs: list[str | None]) -> list[str]:
        return [f"{', '.join(o or '_' for o in outs)} = {inputs[0]}.{call(p)}"]
    return forward


def _reduction(x: str, method: str, dims: tuple[int, ...], keepdim: bool = False) -> str:
    return f"{x}.{method}(dim={_dims_source(dims)}{', keepdim=True' if keepdim else ''})"


def _select(module: str, inputs: list[str], p: dict, shapes: list[Shape]) -> str:
    """One index along one axis, written as indexing: `x[:, 0]`, `x[:, :, -1]` or `x[..., 2]`."""
    dim, index = p["dim"], p["index"]
    lead = ":, " * (dim + 1) if dim >= 0 else "..., " + ":, " * (-dim - 1)
    return f"{inputs[0]}[{lead}{index}]"


# --- one factory per family -------------------------------------------------------------------------------

SPATIAL = {1: "C×L", 2: "C×H×W"}
SPATIAL_LAYOUT = {1: "CL", 2: "CHW"}
INPUT_LAYOUT = "input_layout"  # set by the analysis on a layer whose forward depends on its input's layout
MANY_AXES = "T×F, C×L or C×H×W"  # Mean, Sum and Select keep at least one axis of each sample


def layer_scale_shape(shape: Shape, layout: str | None = None) -> Shape:
    """LayerScale's weight: one scale per channel, broadcast over the positions after it ((C, 1, 1) for C×H×W,
    (C, 1) for C×L), or one per feature, the last axis (F for a vector or a T×F sequence). Without a layout, the
    one an Input of this rank gets by default."""
    layout = layout or SPATIAL_LAYOUT.get(len(shape) - 1 if len(shape) == 3 else 0)
    return (shape[0], *[1] * (len(shape) - 1)) if layout in SPATIAL_LAYOUT.values() else shape[-1:]


def _check_shuffle(p: dict, shapes: list[Shape]) -> str | None:
    if shapes[0][0] % p["groups"]:
        return f"groups ({p['groups']}) must divide the input's channels ({shapes[0][0]})"
    return None


def _spatial_dims(cls: type) -> int:
    return int(cls.__name__[-2])  # Conv2d, MaxPool1d, AdaptiveAvgPool2d, ...: the digit before the "d"


def _conv(cls: type, description: str) -> LayerSpec:
    dims = _spatial_dims(cls)
    params = _conv_params(dims, transposed=cls.__name__.startswith("ConvTranspose"))
    return LayerSpec(cls.__name__, "Convolution", description, params, ranks=(dims + 1,), rank_hint=SPATIAL[dims],
                     check=_check_conv, needs=(SPATIAL_LAYOUT[dims],),
                     build=lambda p, s: Call(cls, (s[0][0], p["out_channels"]),
                                             {k: v for k, v in p.items() if k != "out_channels"}))


def _pool(cls: type, description: str) -> LayerSpec:
    dims = _spatial_dims(cls)
    return LayerSpec(cls.__name__, "Pooling", description, _pool_params(dims), ranks=(dims + 1,),
                     rank_hint=SPATIAL[dims], check=_check_pool_padding, needs=(SPATIAL_LAYOUT[dims],),
                     build=lambda p, s: Call(cls, (p["kernel_size"],),
                                             {"stride": p["stride"], "padding": p["padding"]}))


def _adaptive_pool(cls: type, description: str) -> LayerSpec:
    dims = _spatial_dims(cls)
    return LayerSpec(cls.__name__, "Pooling", description,
                     (size_param("output_size", 1, "Size of the output; the input is split into this many "
                                                   "windows along each dimension.", dims),),
                     ranks=(dims + 1,), rank_hint=SPATIAL[dims], needs=(SPATIAL_LAYOUT[dims],),
                     build=lambda p, s: Call(cls, (p["output_size"],)))


def _global_pool(name: str, method: str, description: str) -> LayerSpec:
    return LayerSpec(name, "Pooling", description, ranks=(2, 3), rank_hint="C×H×W, C×L or T×F",
                     layout=_pool_positions, layout_param=True, prefers="CL",
                     forward=lambda module, inputs, p, shapes:
                     _reduction(inputs[0], method, (1,) if p.get(INPUT_LAYOUT) == "TF" else
                                tuple(range(2, len(shapes[0]) + 1))))


def _reduce(name: str, method: str, description: str) -> LayerSpec:
    return LayerSpec(name, "Reduce", description,
                     (_axes_param("dim", [0], "Axes to reduce: 0 is the first after the batch (channels, time or "
                                              "features), -1 the last."),
                      bool_param("keepdim", False, "Keep each reduced axis, with size 1.")),
                     ranks=(2, 3), rank_hint=MANY_AXES, check=_check_axes, layout=_drop_axes,
                     forward=lambda module, inputs, p, shapes:
                     _reduction(inputs[0], method, tuple(map(torch_dim, p["dim"])), p["keepdim"]))


def _channel_norm(cls: type, description: str, ranks: tuple[int, ...], hint: str,
                  needs: tuple[str, ...] = ()) -> LayerSpec:
    defaults = _torch_defaults(cls)  # BatchNorm learns a scale and keeps running statistics; InstanceNorm not
    return LayerSpec(
        cls.__name__, "Normalization", description,
        (_eps_param(),
         float_param("momentum", 0.1, "Weight of each batch in the running statistics.", 0.0, 1.0, shaping=False),
         bool_param("affine", defaults["affine"], "Learn a scale and a shift per channel."),
         bool_param("track_running_stats", defaults["track_running_stats"],
                    "Keep running averages of the statistics for evaluation; otherwise evaluation uses "
                    "the statistics of what it is given.")),
        ranks=ranks, rank_hint=hint, needs=needs,
        build=lambda p, s: Call(cls, (s[0][0],), p))


def _dropout(cls: type, description: str, ranks: tuple[int, ...] | None = None, hint: str = "") -> LayerSpec:
    return LayerSpec(cls.__name__, "Regularization", description,
                     (float_param("p", 0.5, "Probability of zeroing each value.", 0.0, 0.99, shaping=False),),
                     ranks=ranks, rank_hint=hint, needs=(hint.replace("×", ""),) if hint else (),
                     build=lambda p, s: Call(cls, (), {"p": p["p"]}))


def _activation(cls: type, description: str, *params: Param,
                check: Callable[[dict, list[Shape]], str | None] | None = None) -> LayerSpec:
    """An element-wise activation: its constructor takes exactly its parameters, by name."""
    return LayerSpec(cls.__name__, "Activation", description, params, check=check,
                     build=lambda p, s: Call(cls, (), p))


def _softmax(cls: type, description: str) -> LayerSpec:
    return LayerSpec(cls.__name__, "Activation", description,
                     (_dim_param("dim", -1, "Dimension to normalize (0 is the first feature dimension)."),),
                     check=_check_dims, build=lambda p, s: Call(cls, (), {"dim": torch_dim(p["dim"])}))


def _recurrent(cls: type, description: str, *extra: Param, has_cell_state: bool = False) -> LayerSpec:
    return LayerSpec(cls.__name__, "Recurrent", description + " Outputs: every step's output, and the final state.",
                     _recurrent_params(extra), ranks=(2,), rank_hint="T×F", needs=("TF",),
                     build=_build_recurrent(cls), outputs=("sequence", "state"), layouts=("TF", "F"),
                     forward_many=_forward_recurrent(has_cell_state))


def _transformer(cls: type, description: str, inputs: int) -> LayerSpec:
    return LayerSpec(cls.__name__, "Attention", description, _transformer_params(), min_inputs=inputs,
                     max_inputs=inputs, ranks=(2,), rank_hint="T×F", check=_check_heads, needs=("TF",), layout="TF",
                     build=lambda p, s: Call(cls, (s[0][-1], p["nhead"]),
                                             {"dim_feedforward": p["dim_feedforward"], "dropout": p["dropout"],
                                              "activation": p["activation"], "batch_first": True,
                                              "norm_first": p["norm_first"]}))


def _elementwise(name: str, operator: str, description: str, max_inputs: int | None = None) -> LayerSpec:
    return LayerSpec(name, "Merge", description, min_inputs=2, max_inputs=max_inputs, check=_check_same_shapes,
                     forward=lambda module, inputs, p, shapes: f" {operator} ".join(inputs))


def _learned_sequence(cls: type, description: str, default_init: str,
                      args: Callable[[Shape], tuple[int, ...]]) -> LayerSpec:
    """A learned tensor combined with a T×F sequence (positional embedding, class token)."""
    return LayerSpec(cls.__name__, "Attention", description,
                     (choice_param("init", default_init, "Start from zeros, or from small random values "
                                                         "(normal, std 0.02) as ViT does.", ("zeros", "normal")),),
                     ranks=(2,), rank_hint="T×F", needs=("TF",), layout="TF",
                     build=lambda p, s: Call(cls, args(s[0]), {"init": p["init"]}))


LAYERS: dict[str, LayerSpec] = {}


def _register(*specs: LayerSpec) -> None:
    for spec in specs:
        LAYERS[spec.type] = spec


_register(
    LayerSpec(
        "Input", "Input", "The data fed to the network: one sample's shape, without the batch dimension.",
        (Param("shape", "shape", [1, 28, 28], "Image C×H×W, sequence T×F, vector F, or token ids T.",
               minimum=1, maximum=65536, required=True),
         choice_param("dtype", "float32", "float32 for measurements and pixels; int64 for token ids "
                                          "fed to an Embedding.", ("float32", "int64")),
         choice_param("layout", "auto", "Names of the axes: CHW image, CL channels along a length, TF sequence "
                                        "of feature vectors, F vector, T token ids; auto: CHW for 3 axes, TF for "
                                        "2, T for int64 ids, F otherwise.", ("auto", *LAYOUTS))),
        min_inputs=0, max_inputs=0,
        forward=lambda module, inputs, p, shapes: inputs[0]),
    LayerSpec(
        "Linear", "Core", "Fully connected layer: every output is a weighted sum of every input feature.",
        (int_param("out_features", 128, "Number of output units.", maximum=1_000_000),
         bool_param("bias", True, "Learn an additive bias per unit.")),
        label="Dense", layout=_keep_leading,
        build=lambda p, s: Call(nn.Linear, (s[0][-1], p["out_features"]), {"bias": p["bias"]})),
    LayerSpec("Identity", "Core", "Passes its input on unchanged (a placeholder, or a named point in the graph).",
              passes_tokens=True, build=lambda p, s: Call(nn.Identity)),
    LayerSpec("LayerScale", "Core", "Multiplies each channel (C×H×W, C×L) or each feature (F, T×F) by a learned "
                                    "scale, as ConvNeXt's and CaiT's blocks do before their residual Add; a small "
                                    "init lets a deep network start close to its skip connections.",
              (float_param("init", 1e-6, "Starting value of every scale.", -1e6, 1e6, shaping=False),),
              layout_param=True,
              build=lambda p, s: Call(LayerScale, (layer_scale_shape(s[0], p.get(INPUT_LAYOUT)),),
                                      {"init": p["init"]})),
    _conv(nn.Conv1d, "1-D convolution over a sequence of channels (C×L)."),
    _conv(nn.Conv2d, "2-D convolution over an image (C×H×W); groups make it grouped or depthwise."),
    _conv(nn.ConvTranspose1d, "Transposed 1-D convolution: learned upsampling of a sequence of channels (C×L)."),
    _conv(nn.ConvTranspose2d, "Transposed 2-D convolution: learned upsampling of an image (C×H×W)."),
    _pool(nn.MaxPool1d, "Keeps the largest value in each window of a sequence."),
    _pool(nn.MaxPool2d, "Keeps the largest value in each window of an image."),
    _pool(nn.AvgPool1d, "Averages each window of a sequence."),
    _pool(nn.AvgPool2d, "Averages each window of an image."),
    _adaptive_pool(nn.AdaptiveAvgPool1d, "Averages a sequence down to a fixed length, whatever its input length."),
    _adaptive_pool(nn.AdaptiveAvgPool2d, "Averages an image down to a fixed size, whatever its input size."),
    _adaptive_pool(nn.AdaptiveMaxPool1d, "Max-pools a sequence down to a fixed length, whatever its input length."),
    _adaptive_pool(nn.AdaptiveMaxPool2d, "Max-pools an image down to a fixed size, whatever its input size."),
    _global_pool("GlobalAvgPool", "mean", "Averages over all positions: C×H×W or C×L becomes C, T×F becomes F."),
    _global_pool("GlobalMaxPool", "amax", "Keeps the largest value over all positions: C×H×W or C×L becomes C, "
                                          "T×F becomes F."),
    LayerSpec("Upsample", "Pooling", "Enlarges a sequence (C×L) or an image (C×H×W) by repeating or "
                                     "interpolating values.",
              (float_param("scale_factor", 2.0, "How many times larger each spatial dimension gets.", 0.0, 64.0,
                           exclusive_minimum=True),
               choice_param("mode", "nearest", "nearest repeats values; linear (C×L), bilinear and bicubic "
                                               "(C×H×W) interpolate.", ("nearest", "linear", "bilinear", "bicubic")),
               bool_param("align_corners", False, "Interpolating modes: align the corner values of input and "
                                                  "output instead of their edges.")),
              ranks=(2, 3), rank_hint="C×L or C×H×W", check=_check_upsample, needs=("CL", "CHW"),
              build=lambda p, s: Call(nn.Upsample, (), p if p["mode"] != "nearest" else
                                      {"scale_factor": p["scale_factor"]})),
    LayerSpec("ChannelShuffle", "Reshape", "Interleaves the channels of an image (C×H×W) from groups: channel i of "
                                           "each group goes next to channel i of the others, as in ShuffleNet, so "
                                           "that grouped convolutions after it see every group.",
              (int_param("groups", 2, "Groups the channels come in; must divide them.", minimum=1, maximum=65536),),
              ranks=(3,), rank_hint="C×H×W", check=_check_shuffle, needs=("CHW",),
              build=lambda p, s: Call(nn.ChannelShuffle, (p["groups"],))),
    LayerSpec("Flatten", "Reshape", "Flattens each sample into one vector of features.",
              passes_tokens=True, layout="F", build=lambda p, s: Call(nn.Flatten)),
    LayerSpec("Reshape", "Reshape", "Gives each sample a new shape with the same number of values.",
              (Param("shape", "shape", [-1], "The new shape without the batch dimension; -1 infers one size.",
                     minimum=1, maximum=1_000_000, allow_minus_one=True, required=True),),
              passes_tokens=True, check=_check_reshape, layout=_reshape_layout,
              forward=lambda module, inputs, p, shapes:
              f"{inputs[0]}.reshape({inputs[0]}.shape[0], {', '.join(map(str, p['shape']))})"),
    LayerSpec("Permute", "Reshape", "Reorders the axes of each sample, e.g. C×L to L×C with dims [1, 0].",
              (_axes_param("dims", [1, 0], "Every axis of the input in its new order (0 is the first after the "
                                           "batch)."),),
              ranks=(2, 3), rank_hint="T×F or C×H×W", passes_tokens=True, check=_check_axes, layout=_reorder,
              forward=lambda module, inputs, p, shapes:
              f"{inputs[0]}.permute(0, {', '.join(str(a % len(shapes[0]) + 1) for a in p['dims'])})"),
    LayerSpec("Transpose", "Reshape", "Swaps two axes of each sample, e.g. T×F to F×T.",
              (_dim_param("dim0", 0, "One axis to swap (0 is the first after the batch)."),
               _dim_param("dim1", 1, "The other axis to swap.")),
              ranks=(2, 3), rank_hint="T×F or C×H×W", passes_tokens=True, check=_check_dims, layout=_reorder,
              forward=lambda module, inputs, p, shapes:
              f"{inputs[0]}.transpose({torch_dim(p['dim0'])}, {torch_dim(p['dim1'])})"),
    _reduce("Mean", "mean", "Averages over the chosen axes, e.g. over time: T×F becomes F."),
    _reduce("Sum", "sum", "Adds up over the chosen axes, e.g. over time: T×F becomes F."),
    LayerSpec("Select", "Reduce", "Takes one position along an axis and drops that axis: the class token "
                                  "(index 0) or the last step (index -1) of a T×F sequence gives F.",
              (_dim_param("dim", 0, "Axis to take from (0 is the first after the batch: time in T×F)."),
               int_param("index", 0, "Position along that axis; negative counts from the end (-1: the last).",
                         minimum=-65536, maximum=65535)),
              ranks=(2, 3), rank_hint=MANY_AXES, passes_tokens=True, check=_check_select, forward=_select,
              layout=_drop_axes),
    LayerSpec("Split", "Reshape", "Cuts each sample along an axis into parts of the given sizes, one output each.",
              (Param("sizes", "shape", [1, 1], "The size of each part, in order; they add up to the axis's size.",
                     minimum=1, maximum=65536, max_length=64),
               _dim_param("dim", 0, "Axis to cut (0 is the first after the batch).")),
              passes_tokens=True, check=_check_split, outputs=_parts,
              forward_many=_forward_parts(lambda p: f"split({list(p['sizes'])}, dim={torch_dim(p['dim'])})")),
    LayerSpec("Chunk", "Reshape", "Cuts each sample along an axis into equal parts, one output each.",
              (int_param("chunks", 2, "How many parts; must divide the axis's size.", minimum=2, maximum=64),
               _dim_param("dim", 0, "Axis to cut (0 is the first after the batch).")),
              passes_tokens=True, check=_check_split, outputs=_parts,
              forward_many=_forward_parts(lambda p: f"chunk({p['chunks']}, dim={torch_dim(p['dim'])})")),
    _dropout(nn.Dropout, "Zeroes random inputs while training, to reduce overfitting."),
    _dropout(nn.Dropout1d, "Zeroes whole random channels of a sequence (C×L) while training.", (2,), "C×L"),
    _dropout(nn.Dropout2d, "Zeroes whole random channels of an image (C×H×W) while training.", (3,), "C×H×W"),
    _dropout(nn.AlphaDropout, "Dropout that keeps the mean and variance, for SELU networks."),
    _channel_norm(nn.BatchNorm1d, "Normalizes each feature (F or C×L) over the batch.", (1, 2), "F or C×L",
                  ("CL",)),
    _channel_norm(nn.BatchNorm2d, "Normalizes each channel of an image over the batch.", (3,), "C×H×W", ("CHW",)),
    _channel_norm(nn.InstanceNorm1d, "Normalizes each channel of each sequence (C×L) on its own.", (2,), "C×L",
                  ("CL",)),
    _channel_norm(nn.InstanceNorm2d, "Normalizes each channel of each image (C×H×W) on its own.", (3,), "C×H×W",
                  ("CHW",)),
    LayerSpec("LayerNorm", "Normalization", "Normalizes the last dimension of each sample.",
              (_eps_param(),),
              build=lambda p, s: Call(nn.LayerNorm, (s[0][-1],), {"eps": p["eps"]})),
    LayerSpec("GroupNorm", "Normalization", "Normalizes groups of channels within each sample (F, C×L or C×H×W).",
              (int_param("num_groups", 1, "Groups the channels are split into; must divide them.", maximum=65536),
               _eps_param(),
               bool_param("affine", True, "Learn a scale and a shift per channel.")),
              ranks=(1, 2, 3), rank_hint="F, C×L or C×H×W", check=_check_groups,
              build=lambda p, s: Call(nn.GroupNorm, (p["num_groups"], s[0][0]),
                                      {"eps": p["eps"], "affine": p["affine"]})),
    _activation(nn.ReLU, "max(0, x): the usual activation."),
    _activation(nn.ReLU6, "ReLU capped at 6, as in MobileNet."),
    _activation(nn.LeakyReLU, "Like ReLU, with a small slope for negative inputs.",
                float_param("negative_slope", 0.01, "Slope for negative inputs.", 0.0, 1.0, shaping=False)),
    LayerSpec("PReLU", "Activation", "Like ReLU, with a learned slope for negative inputs.",
              (int_param("num_parameters", 1, "Slopes to learn: 1, or one per channel (the first dimension).",
                         maximum=65536),
               float_param("init", 0.25, "Starting slope.", -10.0, 10.0)),
              check=_check_prelu, build=lambda p, s: Call(nn.PReLU, (), p)),
    _activation(nn.ELU, "Exponential linear unit: smooth below zero, down to -alpha.",
                float_param("alpha", 1.0, "Value approached for very negative inputs (as -alpha).", 0.0, 100.0,
                            exclusive_minimum=True)),
    _activation(nn.CELU, "Continuously differentiable ELU.",
                float_param("alpha", 1.0, "Scale of the negative part.", 0.0, 100.0, exclusive_minimum=True)),
    _activation(nn.SELU, "Self-normalizing ELU (use with AlphaDropout and plain Linear layers)."),
    _activation(nn.GELU, "Smooth ReLU used in transformers.",
                choice_param("approximate", "none", "Exact (none) or the faster tanh approximation.",
                             ("none", "tanh"))),
    _activation(nn.SiLU, "x · sigmoid(x), also called swish (EfficientNet)."),
    _activation(nn.Mish, "x · tanh(softplus(x)): a smooth, non-monotonic activation."),
    _activation(nn.Hardswish, "Piecewise-linear swish, as in MobileNetV3."),
    _activation(nn.Hardsigmoid, "Piecewise-linear sigmoid, as in MobileNetV3."),
    _activation(nn.Hardtanh, "Clips values into [min_val, max_val].",
                float_param("min_val", -1.0, "Lowest output.", -1e6, 1e6),
                float_param("max_val", 1.0, "Highest output.", -1e6, 1e6), check=_check_hardtanh),
    _activation(nn.Softplus, "Smooth ReLU: log(1 + exp(beta·x)) / beta.",
                float_param("beta", 1.0, "Sharpness of the bend.", 0.0, 100.0, exclusive_minimum=True),
                float_param("threshold", 20.0, "Above this (times beta) the output is x itself.", 0.0, 100.0,
                            exclusive_minimum=True)),
    _activation(nn.Softsign, "x / (1 + |x|): squashes values into (-1, 1), more gently than tanh."),
    _activation(nn.Tanh, "Squashes values into (-1, 1)."),
    _activation(nn.Sigmoid, "Squashes values into (0, 1)."),
    _activation(nn.LogSigmoid, "log(sigmoid(x)): never positive, stable for large inputs."),
    _softmax(nn.Softmax, "Turns scores into probabilities that sum to 1 along one dimension. "
                         "Leave it out before a cross-entropy loss, which applies it itself."),
    _softmax(nn.LogSoftmax, "Log-probabilities along one dimension (pair it with a negative log-likelihood loss)."),
    LayerSpec("Embedding", "Text", "Looks up a learned vector for each token id: T becomes T×D.",
              (int_param("num_embeddings", 1000, "Vocabulary size: token ids run from 0 to this minus 1.",
                         maximum=1_000_000, required=True),
               int_param("embedding_dim", 64, "Length of each token's vector.", maximum=16384),
               int_param("padding_idx", None, "Token id whose vector stays zero (optional).", minimum=0,
                         maximum=1_000_000, nullable=True)),
              ranks=(1,), rank_hint="T (token ids)", takes_tokens=True, layout="TF",
              build=lambda p, s: Call(nn.Embedding, (p["num_embeddings"], p["embedding_dim"]),
                                      {"padding_idx": p["padding_idx"]})),
    _recurrent(nn.LSTM, "Long short-term memory over a sequence (T×F).", has_cell_state=True),
    _recurrent(nn.GRU, "Gated recurrent unit over a sequence (T×F)."),
    _recurrent(nn.RNN, "Plain (Elman) recurrent layer over a sequence (T×F).",
               choice_param("nonlinearity", "tanh", "Activation inside the cell.", ("tanh", "relu"))),
    LayerSpec("MultiheadAttention", "Attention",
              "Attention over sequences (T×E): one input attends to itself; two are the query and what it attends "
              "to; three are query, key and value.",
              (int_param("num_heads", 4, "Attention heads; must divide the query's features.", maximum=256),
               float_param("dropout", 0.0, "Dropout on the attention weights while training.", 0.0, 0.99,
                           shaping=False),
               bool_param("bias", True, "Learn biases in the input and output projections.")),
              max_inputs=3, ranks=(2,), rank_hint="T×E", check=_check_heads, needs=("TF",),
              build=_build_attention, outputs=("output", "weights"), layouts=("TF", "TS"),
              forward_many=_forward_attention),
    _transformer(nn.TransformerEncoderLayer, "Self-attention and a feed-forward block over a sequence (T×F); "
                                             "keeps the shape.", inputs=1),
    _transformer(nn.TransformerDecoderLayer, "Self-attention, attention to a memory, and a feed-forward block: "
                                             "inputs are the target (T×F), then the memory (S×F).", inputs=2),
    _learned_sequence(PositionalEmbedding, "Adds a learned vector to each position of a sequence (T×F).",
                      "normal", lambda shape: shape),
    _learned_sequence(ClassToken, "Puts a learned token before a sequence (T×F becomes T+1×F), as ViT's class "
                                  "token.", "zeros", lambda shape: shape[-1:]),
    _elementwise("Add", "+", "Adds its inputs element by element (a skip connection); shapes must match."),
    _elementwise("Subtract", "-", "Subtracts its second input from its first, element by element.", max_inputs=2),
    _elementwise("Multiply", "*", "Multiplies its inputs element by element (gating); shapes must match."),
    LayerSpec("Concat", "Merge", "Joins its inputs along one dimension.",
              (_dim_param("dim", 0, "Dimension to join along (0 is channels or features; -1 the last)."),),
              min_inputs=2, max_inputs=None, check=_check_concat,
              forward=lambda module, inputs, p, shapes:
              f"torch.cat([{', '.join(inputs)}], dim={torch_dim(p['dim'])})"),
)

CATEGORIES = ("Input", "Core", "Convolution", "Pooling", "Reshape", "Reduce", "Regularization", "Normalization",
              "Activation", "Text", "Recurrent", "Attention", "Merge")


def registry_document() -> dict:
    """The registry as the API serves it: categories in palette order, and every layer's description."""
    return {"categories": list(CATEGORIES), "layers": [spec.describe() for spec in LAYERS.values()]}
