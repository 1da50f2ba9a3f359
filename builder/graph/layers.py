"""The layer registry: the one source of truth for every layer a graph may use.

Each entry names its PyTorch type, category, parameters (kind, default, range, help) and a one-line
description; the browser palette and forms are generated from it through the API. It also says how a node
becomes PyTorch: the constructor call (`build`, given the input shapes, since input sizes are inferred) and
the forward expression (`forward`). Both are rendered as source text, so the compiled model and the exported
code are the same code.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from .params import Param, bool_param, choice_param, float_param, int_param, size_param

Shape = tuple[int, ...]  # one sample's shape, without the batch dimension


@dataclass(frozen=True)
class Call:
    """A constructor call such as `nn.Conv2d(1, 32, kernel_size=3)`, kept as data so it can be rendered."""

    cls: type
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def source(self) -> str:
        defaults = _torch_defaults(self.cls)
        shown = [repr(a) for a in self.args]
        # Keyword arguments equal to PyTorch's own defaults are left out, as a person would write it.
        shown += [f"{k}={v!r}" for k, v in self.kwargs.items() if defaults.get(k, inspect.Parameter.empty) != v]
        return f"nn.{self.cls.__name__}({', '.join(shown)})"


def _torch_defaults(cls: type) -> dict:
    """The constructor defaults of a PyTorch layer (for LSTM and GRU, those of their base, RNNBase)."""
    for klass in cls.__mro__:
        params = inspect.signature(klass.__init__).parameters.values()
        if not any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
            return {p.name: p.default for p in params}
    return {}


def call_module(module: str, inputs: list[str], params: dict, shapes: list[Shape]) -> str:
    return f"{module}({inputs[0]})"


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

    @property
    def display_name(self) -> str:
        return self.label or self.type

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def describe(self) -> dict:
        return {
            "type": self.type,
            "label": self.display_name,
            "category": self.category,
            "description": self.description,
            "inputs": {"min": self.min_inputs, "max": self.max_inputs},
            "input_shape": self.rank_hint or "any",
            "params": [p.describe() for p in self.params],
        }


def torch_dim(dim: int) -> int:
    """A feature dimension counted without the batch (as the user sees shapes) to PyTorch's count."""
    return dim + 1 if dim >= 0 else dim


# --- parameter sets shared by families of layers --------------------------------------------------------

def _conv_params(dims: int) -> tuple[Param, ...]:
    return (
        int_param("out_channels", 32, "Number of filters (output channels).", maximum=65536),
        size_param("kernel_size", 3, "Size of each filter.", dims),
        size_param("stride", 1, "Step between filter positions.", dims),
        size_param("padding", 0, "Zeros added on each side of the input.", dims, minimum=0),
        size_param("dilation", 1, "Spacing between filter taps.", dims),
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
        float_param("dropout", 0.0, "Dropout between stacked layers (needs num_layers > 1).", 0.0, 0.99),
        *extra,
        choice_param("output", "last", "Pass on the hidden state after the last step, or the whole sequence.",
                     ("last", "sequence")),
    )


# --- how each family is built ---------------------------------------------------------------------------

def _build_conv(cls: type) -> Callable[[dict, list[Shape]], Call]:
    def build(p: dict, shapes: list[Shape]) -> Call:
        keys = ("kernel_size", "stride", "padding", "dilation", "bias")
        return Call(cls, (shapes[0][0], p["out_channels"]), {k: p[k] for k in keys})
    return build


def _build_pool(cls: type) -> Callable[[dict, list[Shape]], Call]:
    def build(p: dict, shapes: list[Shape]) -> Call:
        return Call(cls, (p["kernel_size"],), {"stride": p["stride"], "padding": p["padding"]})
    return build


def _check_pool_padding(p: dict, shapes: list[Shape]) -> str | None:
    kernel = p["kernel_size"] if isinstance(p["kernel_size"], tuple) else (p["kernel_size"],)
    padding = p["padding"] if isinstance(p["padding"], tuple) else (p["padding"],)
    if any(2 * pad > k for pad, k in zip(padding * len(kernel), kernel)):
        return f"padding {p['padding']} must be at most half of kernel_size {p['kernel_size']}"
    return None


def _build_recurrent(cls: type) -> Callable[[dict, list[Shape]], Call]:
    def build(p: dict, shapes: list[Shape]) -> Call:
        kwargs = {"num_layers": p["num_layers"], "batch_first": True,
                  "bidirectional": p["bidirectional"], "dropout": p["dropout"]}
        if "nonlinearity" in p:
            kwargs["nonlinearity"] = p["nonlinearity"]
        return Call(cls, (shapes[0][-1], p["hidden_size"]), kwargs)
    return build


def _forward_recurrent(has_cell_state: bool) -> Callable[[str, list[str], dict, list[Shape]], str]:
    def forward(module: str, inputs: list[str], p: dict, shapes: list[Shape]) -> str:
        if p["output"] == "sequence":
            return f"{module}({inputs[0]})[0]"
        # The final hidden state (an LSTM returns (h_n, c_n)), of the last layer only.
        hidden = f"{module}({inputs[0]})[1]" + ("[0]" if has_cell_state else "")
        if p["bidirectional"]:
            return f"{hidden}[-2:].transpose(0, 1).flatten(1)"  # forward and backward states side by side
        return f"{hidden}[-1]"
    return forward


def _check_same_shapes(p: dict, shapes: list[Shape]) -> str | None:
    if len(set(shapes)) > 1:
        return "inputs must have the same shape, got " + " and ".join(format_shape(s) for s in shapes)
    return None


def _check_concat(p: dict, shapes: list[Shape]) -> str | None:
    ranks = {len(s) for s in shapes}
    if len(ranks) > 1:
        return "inputs must have the same number of dimensions, got " + " and ".join(format_shape(s) for s in shapes)
    if problem := _check_dim(p, shapes):
        return problem
    dim = p["dim"]
    axis = dim % len(shapes[0])
    trimmed = {s[:axis] + s[axis + 1:] for s in shapes}
    if len(trimmed) > 1:
        return (f"inputs must match in every dimension except dim {dim}, got "
                + " and ".join(format_shape(s) for s in shapes))
    return None


def _check_dim(p: dict, shapes: list[Shape]) -> str | None:
    rank = len(shapes[0])
    if not -rank <= p["dim"] < rank:
        return f"dim {p['dim']} is out of range for inputs of shape {format_shape(shapes[0])}"
    return None


def _check_reshape(p: dict, shapes: list[Shape]) -> str | None:
    size = math.prod(shapes[0])
    target = p["shape"]
    known = math.prod(d for d in target if d != -1)
    if (-1 in target and size % known) or (-1 not in target and size != known):
        return f"cannot reshape {format_shape(shapes[0])} ({size} values) into {format_shape(target)}"
    return None


def _check_transformer(p: dict, shapes: list[Shape]) -> str | None:
    d_model = shapes[0][-1]
    if d_model % p["nhead"]:
        return f"the input's features ({d_model}) must be divisible by nhead ({p['nhead']})"
    return None


def format_shape(shape: Any) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _global_avg_pool(module: str, inputs: list[str], p: dict, shapes: list[Shape]) -> str:
    dims = tuple(range(2, len(shapes[0]) + 1))
    return f"{inputs[0]}.mean(dim={dims if len(dims) > 1 else dims[0]})"


SPATIAL = {1: "C×L", 2: "C×H×W"}


def _conv(cls: type, description: str) -> LayerSpec:
    dims = int(cls.__name__[-2])
    return LayerSpec(cls.__name__, "Convolution", description, _conv_params(dims), ranks=(dims + 1,),
                     rank_hint=SPATIAL[dims], build=_build_conv(cls))


def _pool(cls: type, description: str) -> LayerSpec:
    dims = int(cls.__name__[-2])
    return LayerSpec(cls.__name__, "Pooling", description, _pool_params(dims), ranks=(dims + 1,),
                     rank_hint=SPATIAL[dims], build=_build_pool(cls), check=_check_pool_padding)


def _batch_norm(cls: type, description: str, ranks: tuple[int, ...], hint: str) -> LayerSpec:
    return LayerSpec(
        cls.__name__, "Normalization", description,
        (float_param("eps", 1e-5, "Added to the variance for stability.", 0.0, 1.0, exclusive_minimum=True),
         float_param("momentum", 0.1, "Weight of each batch in the running statistics.", 0.0, 1.0)),
        ranks=ranks, rank_hint=hint,
        build=lambda p, s: Call(cls, (s[0][0],), {"eps": p["eps"], "momentum": p["momentum"]}))


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
                                          "fed to an Embedding.", ("float32", "int64"))),
        min_inputs=0, max_inputs=0,
        forward=lambda module, inputs, p, shapes: inputs[0]),
    LayerSpec(
        "Linear", "Core", "Fully connected layer: every output is a weighted sum of every input feature.",
        (int_param("out_features", 128, "Number of output units.", maximum=1_000_000),
         bool_param("bias", True, "Learn an additive bias per unit.")),
        label="Dense",
        build=lambda p, s: Call(nn.Linear, (s[0][-1], p["out_features"]), {"bias": p["bias"]})),
    _conv(nn.Conv1d, "1-D convolution over a sequence of channels (C×L)."),
    _conv(nn.Conv2d, "2-D convolution over an image (C×H×W)."),
    _pool(nn.MaxPool1d, "Keeps the largest value in each window of a sequence."),
    _pool(nn.MaxPool2d, "Keeps the largest value in each window of an image."),
    _pool(nn.AvgPool1d, "Averages each window of a sequence."),
    _pool(nn.AvgPool2d, "Averages each window of an image."),
    LayerSpec("GlobalAvgPool", "Pooling", "Averages each channel over all positions: C×H×W or C×L becomes C.",
              ranks=(2, 3), rank_hint="C×L or C×H×W", forward=_global_avg_pool),
    LayerSpec("Flatten", "Reshape", "Flattens each sample into one vector of features.",
              passes_tokens=True, build=lambda p, s: Call(nn.Flatten)),
    LayerSpec("Reshape", "Reshape", "Gives each sample a new shape with the same number of values.",
              (Param("shape", "shape", [-1], "The new shape without the batch dimension; -1 infers one size.",
                     minimum=1, maximum=1_000_000, allow_minus_one=True, required=True),),
              passes_tokens=True, check=_check_reshape,
              forward=lambda module, inputs, p, shapes:
              f"{inputs[0]}.reshape({inputs[0]}.shape[0], {', '.join(map(str, p['shape']))})"),
    LayerSpec("Dropout", "Regularization", "Zeroes random inputs while training, to reduce overfitting.",
              (float_param("p", 0.5, "Probability of zeroing each value.", 0.0, 0.99),),
              build=lambda p, s: Call(nn.Dropout, (), {"p": p["p"]})),
    _batch_norm(nn.BatchNorm1d, "Normalizes each feature (F or C×L) over the batch.", (1, 2), "F or C×L"),
    _batch_norm(nn.BatchNorm2d, "Normalizes each channel of an image over the batch.", (3,), "C×H×W"),
    LayerSpec("LayerNorm", "Normalization", "Normalizes the last dimension of each sample.",
              (float_param("eps", 1e-5, "Added to the variance for stability.", 0.0, 1.0, exclusive_minimum=True),),
              build=lambda p, s: Call(nn.LayerNorm, (s[0][-1],), {"eps": p["eps"]})),
    *(LayerSpec(name, "Activation", text, build=lambda p, s, cls=getattr(nn, name): Call(cls))
      for name, text in (("ReLU", "max(0, x): the usual activation."),
                         ("GELU", "Smooth ReLU used in transformers."),
                         ("Tanh", "Squashes values into (-1, 1)."),
                         ("Sigmoid", "Squashes values into (0, 1).")))
    ,
    LayerSpec("LeakyReLU", "Activation", "Like ReLU, with a small slope for negative inputs.",
              (float_param("negative_slope", 0.01, "Slope for negative inputs.", 0.0, 1.0),),
              build=lambda p, s: Call(nn.LeakyReLU, (), {"negative_slope": p["negative_slope"]})),
    LayerSpec("Softmax", "Activation", "Turns scores into probabilities that sum to 1 along one dimension. "
                                       "Leave it out before a cross-entropy loss, which applies it itself.",
              (int_param("dim", -1, "Dimension to normalize (0 is the first feature dimension).",
                         minimum=-3, maximum=2),),
              check=_check_dim, build=lambda p, s: Call(nn.Softmax, (), {"dim": torch_dim(p["dim"])})),
    LayerSpec("Embedding", "Text", "Looks up a learned vector for each token id: T becomes T×D.",
              (int_param("num_embeddings", 1000, "Vocabulary size: token ids run from 0 to this minus 1.",
                         maximum=1_000_000, required=True),
               int_param("embedding_dim", 64, "Length of each token's vector.", maximum=16384),
               int_param("padding_idx", None, "Token id whose vector stays zero (optional).", minimum=0,
                         maximum=1_000_000, nullable=True)),
              ranks=(1,), rank_hint="T (token ids)", takes_tokens=True,
              build=lambda p, s: Call(nn.Embedding, (p["num_embeddings"], p["embedding_dim"]),
                                      {"padding_idx": p["padding_idx"]})),
    LayerSpec("LSTM", "Recurrent", "Long short-term memory over a sequence (T×F).",
              _recurrent_params(), ranks=(2,), rank_hint="T×F", build=_build_recurrent(nn.LSTM),
              forward=_forward_recurrent(True)),
    LayerSpec("GRU", "Recurrent", "Gated recurrent unit over a sequence (T×F).",
              _recurrent_params(), ranks=(2,), rank_hint="T×F", build=_build_recurrent(nn.GRU),
              forward=_forward_recurrent(False)),
    LayerSpec("RNN", "Recurrent", "Plain (Elman) recurrent layer over a sequence (T×F).",
              _recurrent_params((choice_param("nonlinearity", "tanh", "Activation inside the cell.",
                                              ("tanh", "relu")),)),
              ranks=(2,), rank_hint="T×F", build=_build_recurrent(nn.RNN), forward=_forward_recurrent(False)),
    LayerSpec("TransformerEncoderLayer", "Attention",
              "Self-attention and a feed-forward block over a sequence (T×F); keeps the shape.",
              (int_param("nhead", 4, "Attention heads; must divide the input's features.", maximum=256),
               int_param("dim_feedforward", 256, "Units in the feed-forward block.", maximum=65536),
               float_param("dropout", 0.1, "Dropout inside the block.", 0.0, 0.99),
               choice_param("activation", "relu", "Activation of the feed-forward block.", ("relu", "gelu")),
               bool_param("norm_first", False, "Normalize before attention (pre-LN) rather than after.")),
              ranks=(2,), rank_hint="T×F", check=_check_transformer,
              build=lambda p, s: Call(nn.TransformerEncoderLayer, (s[0][-1], p["nhead"]),
                                      {"dim_feedforward": p["dim_feedforward"], "dropout": p["dropout"],
                                       "activation": p["activation"], "batch_first": True,
                                       "norm_first": p["norm_first"]})),
    LayerSpec("Add", "Merge", "Adds its inputs element by element (a skip connection); shapes must match.",
              min_inputs=2, max_inputs=None, check=_check_same_shapes,
              forward=lambda module, inputs, p, shapes: " + ".join(inputs)),
    LayerSpec("Concat", "Merge", "Joins its inputs along one dimension.",
              (int_param("dim", 0, "Dimension to join along (0 is channels or features; -1 the last).",
                         minimum=-3, maximum=2),),
              min_inputs=2, max_inputs=None, check=_check_concat,
              forward=lambda module, inputs, p, shapes:
              f"torch.cat([{', '.join(inputs)}], dim={torch_dim(p['dim'])})"),
)

CATEGORIES = ("Input", "Core", "Convolution", "Pooling", "Reshape", "Regularization", "Normalization",
              "Activation", "Text", "Recurrent", "Attention", "Merge")


def registry_document() -> dict:
    """The registry as the API serves it: categories in palette order, and every layer's description."""
    return {"categories": list(CATEGORIES), "layers": [spec.describe() for spec in LAYERS.values()]}
