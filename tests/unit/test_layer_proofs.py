"""Proof per layer: every registry type, in a small graph, computes what hand-written PyTorch computes.

Each proof is a graph and the model a person would write for it. The graph's compiled model must have the same
parameters (count and, built from the same seed, the same starting values), and, with the same randomised
weights and buffers, the same output in eval mode; the exported source must give that output too, run by a
separate Python that imports nothing but torch. A registry type without a proof fails
`test_every_registry_type_has_a_proof`, so a new layer cannot land unproven.
"""

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from builder.graph import LAYERS, Limits, analyze, compile_graph, generate_source
from builder.graph.codegen import class_name
from builder.graph.infer import warm_up
from builder.graph.layers import HELPER_CLASSES

from tests.graphs import chain, graph, node
from tests.zoo import channel_shuffle

BATCH = 3
TOLERANCE = 1e-6


class Ref(nn.Module):
    """A hand-written model: its layers, created in the order the graph creates them, and its forward."""

    def __init__(self, forward: Callable, **layers: nn.Module):
        super().__init__()
        self.fn = forward
        for name, layer in layers.items():
            setattr(self, name, layer)

    def forward(self, x):
        return self.fn(self, x)


def layer(module: nn.Module) -> Ref:
    """The reference is one PyTorch module, called on the input."""
    return Ref(lambda m, x: m.layer(x), layer=module)


def fn(function: Callable) -> Ref:
    """The reference is a function of the input, without parameters."""
    return Ref(lambda m, x: function(x))


@dataclass(frozen=True)
class Proof:
    layer: str  # the registry type this proof is for
    doc: dict
    reference: Callable[[], nn.Module]  # the hand-written model (a factory: it is built under a seed)
    tokens: int = 0  # a vocabulary size: the input is token ids; 0: the input is float

    @property
    def shape(self) -> list[int]:
        return self.doc["nodes"][0]["params"]["shape"]


def single(layer_type: str, input_shape: list[int], reference: Callable[[], nn.Module], tokens: int = 0,
           **params) -> Proof:
    """Input → one layer."""
    source = node("in", "Input", shape=input_shape, **({"dtype": "int64"} if tokens else {}))
    return Proof(layer_type, chain(source, node("layer", layer_type, **params)), reference, tokens)


def wired(layer_type: str, input_shape: list[int], nodes: list[dict], edges: list[tuple[str, str]],
          reference: Callable[[], nn.Module]) -> Proof:
    """Input → several nodes, wired by `edges` (a node's inputs in edge order); node "layer" is the output."""
    return Proof(layer_type, graph([node("in", "Input", shape=input_shape), *nodes], edges), reference)


def transpose_then_linear(features: int) -> tuple[list[dict], list[tuple[str, str]]]:
    """A second sequence from the input T×F: F×T, then a Linear layer: F×features (another length)."""
    return ([node("t", "Transpose"), node("mem", "Linear", out_features=features)],
            [("in", "t"), ("t", "mem")])


MEMORY_NODES, MEMORY_EDGES = transpose_then_linear(8)


def cross_attention(m: nn.Module, x: torch.Tensor) -> torch.Tensor:
    memory = m.mem(x.transpose(1, 2))
    return m.layer(x, memory, memory, need_weights=False)[0]  # as torchvision's ViT calls it: no weights
IMAGE, SEQUENCE, CHANNELS, VECTOR = [4, 6, 6], [5, 8], [4, 10], [6]

PROOFS = [
    Proof("Input", chain(node("in", "Input", shape=[2, 3], dtype="int64"), node("layer", "Flatten")),
          lambda: fn(lambda x: x.flatten(1)), tokens=9),
    single("Linear", VECTOR, lambda: layer(nn.Linear(6, 4)), out_features=4),
    single("Linear", SEQUENCE, lambda: layer(nn.Linear(8, 3, bias=False)), out_features=3, bias=False),
    single("Identity", IMAGE, lambda: fn(lambda x: x)),
    single("LayerScale", IMAGE, lambda: ConvNeXtScale(4)),  # per channel: (C, 1, 1)
    Proof("LayerScale", chain(node("in", "Input", shape=CHANNELS, layout="CL"), node("layer", "LayerScale")),
          lambda: ConvNeXtScale(4, (1,))),  # per channel of a C×L input: (C, 1)
    single("LayerScale", SEQUENCE, lambda: ConvNeXtScale(8, (), init=0.1), init=0.1),  # per feature: (F,)
    single("Conv1d", CHANNELS, lambda: layer(nn.Conv1d(4, 5, 3, padding=1, dilation=2)), out_channels=5,
           padding=1, dilation=2),
    single("Conv2d", IMAGE, lambda: layer(nn.Conv2d(4, 8, 3, stride=2, groups=2)), out_channels=8, stride=2,
           groups=2),
    single("Conv2d", IMAGE, lambda: layer(nn.Conv2d(4, 4, (3, 1), padding=(1, 0), groups=4, bias=False)),
           out_channels=4, kernel_size=[3, 1], padding=[1, 0], groups=4, bias=False),  # depthwise
    single("ConvTranspose1d", CHANNELS, lambda: layer(nn.ConvTranspose1d(4, 3, 3, stride=2, output_padding=1)),
           out_channels=3, stride=2, output_padding=1),
    single("ConvTranspose2d", IMAGE, lambda: layer(nn.ConvTranspose2d(4, 2, (2, 3), stride=2, padding=1, groups=2)),
           out_channels=2, kernel_size=[2, 3], stride=2, padding=1, groups=2),
    single("MaxPool1d", CHANNELS, lambda: layer(nn.MaxPool1d(3, stride=2)), kernel_size=3, stride=2),
    single("MaxPool2d", IMAGE, lambda: layer(nn.MaxPool2d(2)), kernel_size=2),
    single("AvgPool1d", CHANNELS, lambda: layer(nn.AvgPool1d(2, padding=1)), kernel_size=2, padding=1),
    single("AvgPool2d", IMAGE, lambda: layer(nn.AvgPool2d(3, stride=1, padding=1)), kernel_size=3, stride=1,
           padding=1),
    single("AdaptiveAvgPool1d", CHANNELS, lambda: layer(nn.AdaptiveAvgPool1d(3)), output_size=3),
    single("AdaptiveAvgPool2d", IMAGE, lambda: layer(nn.AdaptiveAvgPool2d((2, 3))), output_size=[2, 3]),
    single("AdaptiveMaxPool1d", CHANNELS, lambda: layer(nn.AdaptiveMaxPool1d(4)), output_size=4),
    single("AdaptiveMaxPool2d", IMAGE, lambda: layer(nn.AdaptiveMaxPool2d(1)), output_size=1),
    single("GlobalAvgPool", IMAGE, lambda: fn(lambda x: F.adaptive_avg_pool2d(x, 1).flatten(1))),
    single("GlobalAvgPool", CHANNELS, lambda: fn(lambda x: F.adaptive_avg_pool1d(x, 1).flatten(1))),
    single("GlobalMaxPool", IMAGE, lambda: fn(lambda x: F.adaptive_max_pool2d(x, 1).flatten(1))),
    single("GlobalMaxPool", CHANNELS, lambda: fn(lambda x: F.adaptive_max_pool1d(x, 1).flatten(1))),
    single("Upsample", CHANNELS, lambda: layer(nn.Upsample(scale_factor=2))),
    single("Upsample", IMAGE, lambda: layer(nn.Upsample(scale_factor=1.5, mode="bilinear", align_corners=True)),
           scale_factor=1.5, mode="bilinear", align_corners=True),
    single("Flatten", IMAGE, lambda: fn(lambda x: x.flatten(1))),
    single("ChannelShuffle", IMAGE, lambda: fn(lambda x: channel_shuffle(x, 2))),
    single("ChannelShuffle", IMAGE, lambda: fn(lambda x: channel_shuffle(x, 4)), groups=4),
    single("Reshape", IMAGE, lambda: fn(lambda x: x.reshape(len(x), 12, 12)), shape=[12, -1]),
    single("Permute", IMAGE, lambda: fn(lambda x: x.permute(0, 3, 1, 2)), dims=[2, 0, 1]),
    single("Permute", SEQUENCE, lambda: fn(lambda x: x.permute(0, 2, 1)), dims=[-1, 0]),
    single("Transpose", SEQUENCE, lambda: fn(lambda x: x.transpose(1, 2))),
    single("Transpose", IMAGE, lambda: fn(lambda x: x.transpose(1, 3)), dim0=0, dim1=-1),
    single("Mean", SEQUENCE, lambda: fn(lambda x: x.mean(1))),
    single("Mean", IMAGE, lambda: fn(lambda x: x.mean((2, 3), keepdim=True)), dim=[-1, 1], keepdim=True),
    single("Sum", IMAGE, lambda: fn(lambda x: x.sum((2, 3))), dim=[1, 2]),
    single("Select", SEQUENCE, lambda: fn(lambda x: x[:, -1]), index=-1),  # the last step
    single("Select", IMAGE, lambda: fn(lambda x: x[:, :, :, 2]), dim=-1, index=2),
    single("Select", IMAGE, lambda: fn(lambda x: x[:, :, 1]), dim=1, index=1),
    single("Dropout", VECTOR, lambda: layer(nn.Dropout(0.3)), p=0.3),
    single("Dropout1d", CHANNELS, lambda: layer(nn.Dropout1d(0.2)), p=0.2),
    single("Dropout2d", IMAGE, lambda: layer(nn.Dropout2d(0.2)), p=0.2),
    single("AlphaDropout", VECTOR, lambda: layer(nn.AlphaDropout(0.1)), p=0.1),
    single("BatchNorm1d", VECTOR, lambda: layer(nn.BatchNorm1d(6))),
    single("BatchNorm1d", CHANNELS, lambda: layer(nn.BatchNorm1d(4, affine=False)), affine=False),
    single("BatchNorm2d", IMAGE, lambda: layer(nn.BatchNorm2d(4, eps=1e-3, momentum=0.2)), eps=1e-3,
           momentum=0.2),
    single("InstanceNorm1d", CHANNELS, lambda: layer(nn.InstanceNorm1d(4, affine=True)), affine=True),
    single("InstanceNorm2d", IMAGE, lambda: layer(nn.InstanceNorm2d(4, track_running_stats=True)),
           track_running_stats=True),
    single("LayerNorm", SEQUENCE, lambda: layer(nn.LayerNorm(8))),
    single("GroupNorm", IMAGE, lambda: layer(nn.GroupNorm(2, 4)), num_groups=2),
    single("ReLU", VECTOR, lambda: layer(nn.ReLU())),
    single("ReLU6", VECTOR, lambda: fn(lambda x: x.clamp(0, 6))),
    single("LeakyReLU", VECTOR, lambda: fn(lambda x: torch.where(x > 0, x, 0.2 * x)), negative_slope=0.2),
    single("PReLU", IMAGE, lambda: layer(nn.PReLU(4, init=0.1)), num_parameters=4, init=0.1),
    single("PReLU", VECTOR, lambda: layer(nn.PReLU())),
    single("ELU", VECTOR, lambda: layer(nn.ELU(alpha=0.5)), alpha=0.5),
    single("CELU", VECTOR, lambda: layer(nn.CELU(alpha=2.0)), alpha=2.0),
    single("SELU", VECTOR, lambda: fn(torch.selu)),
    single("GELU", VECTOR, lambda: fn(F.gelu)),
    single("GELU", VECTOR, lambda: fn(lambda x: F.gelu(x, approximate="tanh")), approximate="tanh"),
    single("SiLU", VECTOR, lambda: fn(lambda x: x * torch.sigmoid(x))),
    single("Mish", VECTOR, lambda: fn(lambda x: x * torch.tanh(F.softplus(x)))),
    single("Hardswish", VECTOR, lambda: fn(lambda x: x * F.relu6(x + 3) / 6)),
    single("Hardsigmoid", VECTOR, lambda: fn(lambda x: F.relu6(x + 3) / 6)),
    single("Hardtanh", VECTOR, lambda: fn(lambda x: x.clamp(-2, 3)), min_val=-2, max_val=3),
    single("Softplus", VECTOR, lambda: layer(nn.Softplus(beta=2, threshold=1)), beta=2, threshold=1),
    single("Softsign", VECTOR, lambda: fn(lambda x: x / (1 + x.abs()))),
    single("Tanh", VECTOR, lambda: fn(torch.tanh)),
    single("Sigmoid", VECTOR, lambda: fn(torch.sigmoid)),
    single("LogSigmoid", VECTOR, lambda: fn(F.logsigmoid)),
    single("Softmax", SEQUENCE, lambda: fn(lambda x: torch.softmax(x, dim=1)), dim=0),
    single("Softmax", VECTOR, lambda: fn(lambda x: torch.softmax(x, dim=-1))),
    single("LogSoftmax", SEQUENCE, lambda: fn(lambda x: torch.log_softmax(x, dim=2))),
    single("Embedding", [7], lambda: layer(nn.Embedding(20, 4, padding_idx=0)), tokens=20, num_embeddings=20,
           embedding_dim=4, padding_idx=0),
    # A recurrent layer's output 0 is every step's output; output 1 its final state (the last layer's).
    wired("LSTM", SEQUENCE, [node("layer", "LSTM", hidden_size=5), node("state", "Identity")],
          [("in", "layer"), ("layer", "state", 1)],
          lambda: Ref(lambda m, x: m.layer(x)[1][0][-1], layer=nn.LSTM(8, 5, batch_first=True))),
    single("LSTM", SEQUENCE, lambda: Ref(lambda m, x: m.layer(x)[0],
                                         layer=nn.LSTM(8, 3, num_layers=2, bidirectional=True, batch_first=True)),
           hidden_size=3, num_layers=2, bidirectional=True),
    wired("LSTM", SEQUENCE,  # both outputs used: the state scales every step
          [node("layer", "LSTM", hidden_size=8), node("row", "Reshape", shape=[1, 8]), node("mix", "Multiply")],
          [("in", "layer"), ("layer", "row", 1), ("layer", "mix", 0), ("row", "mix")],
          lambda: Ref(lambda m, x: (lambda seq, h: seq * h[-1].unsqueeze(1))(m.layer(x)[0], m.layer(x)[1][0]),
                      layer=nn.LSTM(8, 8, batch_first=True))),
    wired("GRU", SEQUENCE, [node("layer", "GRU", hidden_size=4, bidirectional=True), node("state", "Identity")],
          [("in", "layer"), ("layer", "state", 1)],
          lambda: Ref(lambda m, x: torch.cat([m.layer(x)[1][-2], m.layer(x)[1][-1]], dim=1),
                      layer=nn.GRU(8, 4, bidirectional=True, batch_first=True))),
    single("RNN", SEQUENCE, lambda: Ref(lambda m, x: m.layer(x)[0],
                                        layer=nn.RNN(8, 6, nonlinearity="relu", batch_first=True)),
           hidden_size=6, nonlinearity="relu"),
    wired("MultiheadAttention", SEQUENCE,  # output 1: the attention weights, averaged over the heads
          [node("layer", "MultiheadAttention", num_heads=2), node("weights", "Identity")],
          [("in", "layer"), ("layer", "weights", 1)],
          lambda: Ref(lambda m, x: m.layer(x, x, x)[1], layer=nn.MultiheadAttention(8, 2, batch_first=True))),
    wired("Split", IMAGE,  # parts of 1 and 3 channels, the second used, then both joined in reverse
          [node("layer", "Split", sizes=[1, 3]), node("join", "Concat")],
          [("in", "layer"), ("layer", "join", 1), ("layer", "join", 0)],
          lambda: fn(lambda x: torch.cat([x[:, 1:], x[:, :1]], dim=1))),
    wired("Split", SEQUENCE, [node("layer", "Split", sizes=[2, 3, 3], dim=-1), node("last", "Tanh")],
          [("in", "layer"), ("layer", "last", 2)], lambda: fn(lambda x: torch.tanh(x[..., 5:]))),
    wired("Chunk", SEQUENCE,  # a gated linear unit: one half gates the other
          [node("layer", "Chunk", chunks=2, dim=-1), node("gate", "Sigmoid"), node("glu", "Multiply")],
          [("in", "layer"), ("layer", "gate", 1), ("layer", "glu", 0), ("gate", "glu")],
          lambda: fn(lambda x: F.glu(x, dim=-1))),
    single("MultiheadAttention", SEQUENCE,  # self-attention
           lambda: Ref(lambda m, x: m.layer(x, x, x, need_weights=False)[0],
                       layer=nn.MultiheadAttention(8, 2, batch_first=True)),
           num_heads=2),
    wired("MultiheadAttention", SEQUENCE,  # query, then keys and values from another sequence (another length)
          [*MEMORY_NODES, node("layer", "MultiheadAttention", num_heads=4, bias=False)],
          [*MEMORY_EDGES, ("in", "layer"), ("mem", "layer")],
          lambda: Ref(cross_attention, mem=nn.Linear(5, 8),
                      layer=nn.MultiheadAttention(8, 4, bias=False, batch_first=True))),
    wired("MultiheadAttention", SEQUENCE,  # query, key and value, each of its own size
          [node("k", "Linear", out_features=6), node("v", "Linear", out_features=4),
           node("layer", "MultiheadAttention", num_heads=2)],
          [("in", "k"), ("in", "v"), ("in", "layer"), ("k", "layer"), ("v", "layer")],
          lambda: Ref(lambda m, x: m.layer(x, m.k(x), m.v(x), need_weights=False)[0], k=nn.Linear(8, 6),
                      v=nn.Linear(8, 4),
                      layer=nn.MultiheadAttention(8, 2, kdim=6, vdim=4, batch_first=True))),
    single("TransformerEncoderLayer", SEQUENCE,
           lambda: layer(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, activation="gelu", batch_first=True,
                                                    norm_first=True)),
           nhead=2, dim_feedforward=16, activation="gelu", norm_first=True),
    wired("TransformerDecoderLayer", SEQUENCE,  # the target, then a memory of another length
          [*MEMORY_NODES, node("layer", "TransformerDecoderLayer", nhead=2, dim_feedforward=16)],
          [*MEMORY_EDGES, ("in", "layer"), ("mem", "layer")],
          lambda: Ref(lambda m, x: m.layer(x, m.mem(x.transpose(1, 2))), mem=nn.Linear(5, 8),
                      layer=nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, batch_first=True))),
    single("PositionalEmbedding", SEQUENCE, lambda: ViTPositions()),
    single("PositionalEmbedding", SEQUENCE, lambda: ViTPositions(zeros=True), init="zeros"),
    single("ClassToken", SEQUENCE, lambda: ViTClassToken()),
    wired("Add", VECTOR, [node("a", "Tanh"), node("b", "Sigmoid"), node("layer", "Add")],
          [("in", "a"), ("in", "b"), ("a", "layer"), ("b", "layer"), ("in", "layer")],
          lambda: fn(lambda x: torch.tanh(x) + torch.sigmoid(x) + x)),
    wired("Subtract", VECTOR, [node("a", "Tanh"), node("layer", "Subtract")],
          [("in", "a"), ("in", "layer"), ("a", "layer")], lambda: fn(lambda x: x - torch.tanh(x))),
    wired("Multiply", VECTOR, [node("a", "Sigmoid"), node("layer", "Multiply")],
          [("in", "a"), ("a", "layer"), ("in", "layer")], lambda: fn(lambda x: torch.sigmoid(x) * x)),
    wired("Concat", IMAGE, [node("a", "Conv2d", out_channels=2, kernel_size=1), node("layer", "Concat")],
          [("in", "a"), ("in", "layer"), ("a", "layer")],
          lambda: Ref(lambda m, x: torch.cat([x, m.a(x)], dim=1), a=nn.Conv2d(4, 2, 1))),
    wired("Concat", SEQUENCE, [node("a", "Linear", out_features=3), node("layer", "Concat", dim=-1)],
          [("in", "a"), ("a", "layer"), ("in", "layer")],
          lambda: Ref(lambda m, x: torch.cat([m.a(x), x], dim=-1), a=nn.Linear(8, 3))),
]


class ConvNeXtScale(nn.Module):
    """torchvision's ConvNeXt block's layer scale: `nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)`, multiplied
    in (here with `rest` the axes after the channels: (1, 1) for an image)."""

    def __init__(self, dim, rest=(1, 1), init=1e-6):
        super().__init__()
        self.layer_scale = nn.Parameter(torch.ones(dim, *rest) * init)

    def forward(self, x):
        return self.layer_scale * x


class ViTPositions(nn.Module):
    """torchvision's ViT: `pos_embedding = nn.Parameter(torch.empty(...).normal_(std=0.02))`, added."""

    def __init__(self, zeros=False):
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.zeros(5, 8) if zeros else torch.empty(5, 8).normal_(std=0.02))

    def forward(self, x):
        return x + self.pos_embedding


class ViTClassToken(nn.Module):
    """torchvision's ViT: a zero-initialised class token, expanded over the batch and put first."""

    def __init__(self):
        super().__init__()
        self.class_token = nn.Parameter(torch.zeros(1, 8))

    def forward(self, x):
        return torch.cat([self.class_token.expand(x.shape[0], -1).unsqueeze(1), x], dim=1)


def proof_id(proof: Proof) -> str:
    same = [p for p in PROOFS if p.layer == proof.layer]
    return proof.layer if len(same) == 1 else f"{proof.layer}-{same.index(proof) + 1}"


def sample(proof: Proof) -> torch.Tensor:
    generator = torch.Generator().manual_seed(1)
    if proof.tokens:
        return torch.randint(0, proof.tokens, (BATCH, *proof.shape), generator=generator)
    return 3 * torch.randn(BATCH, *proof.shape, generator=generator)  # wide enough for every activation's bends


def randomise(module: nn.Module) -> None:
    """Weights and buffers away from their (often constant) starting values, so a mix-up shows."""
    generator = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if tensor.is_floating_point():
                values = torch.rand(tensor.shape, generator=generator)
                tensor.copy_(values + 0.5 if name.endswith("running_var") else 2 * values - 1)


def build(proof: Proof) -> tuple:
    """The graph's analysis and compiled model, and the hand-written model, both built from seed 0."""
    analysis = analyze(proof.doc, Limits())
    assert analysis.valid, [e.message for e in analysis.errors]
    torch.manual_seed(0)
    model = compile_graph(analysis)
    torch.manual_seed(0)
    reference = proof.reference()
    return analysis, model, reference


def expected_output(proof: Proof, model: nn.Module, reference: nn.Module) -> torch.Tensor:
    """Randomise the reference, copy its state into the compiled model (same layers, same order), and
    return what the reference computes in eval mode."""
    randomise(reference)
    model.load_state_dict(dict(zip(model.state_dict(), reference.state_dict().values())))
    model.eval(), reference.eval()
    with torch.no_grad():
        return reference(sample(proof))


def test_every_registry_type_has_a_proof():
    proved = {proof.layer for proof in PROOFS}
    assert not set(LAYERS) - proved, f"layer types without a proof: {sorted(set(LAYERS) - proved)}"
    assert not proved - set(LAYERS), f"proofs of types the registry lacks: {sorted(proved - set(LAYERS))}"
    for proof in PROOFS:  # and each proof's graph uses the type it proves
        assert proof.layer in {n["type"] for n in proof.doc["nodes"]}, proof_id(proof)


def test_the_registry_has_sixty_layer_types_each_with_its_one_line_help():
    assert len(LAYERS) >= 60
    for spec in LAYERS.values():
        assert spec.description and "\n" not in spec.description, spec.type
        assert all(p.help and "\n" not in p.help for p in spec.params), spec.type


def test_every_layer_is_valid_with_its_defaults_at_start_up():
    warm_up()  # the server calls it at start-up: each type, default parameters, an 8×…×8 input


@pytest.mark.parametrize("proof", PROOFS, ids=proof_id)
def test_each_layer_computes_what_hand_written_pytorch_computes(proof):
    analysis, model, reference = build(proof)

    ours, theirs = model.state_dict(), reference.state_dict()
    assert [t.shape for t in ours.values()] == [t.shape for t in theirs.values()]
    # Built from the same seed, the two start from the same values: the same initialisation.
    assert all(torch.equal(a, b) for a, b in zip(ours.values(), theirs.values()))
    count = sum(p.numel() for p in reference.parameters())
    assert analysis.total_params == count == sum(p.numel() for p in model.parameters())

    expected = expected_output(proof, model, reference)
    with torch.no_grad():
        got = model(sample(proof))
    assert list(got.shape[1:]) == list(analysis.shapes[analysis.output_node].shape)
    assert got.dtype == expected.dtype
    torch.testing.assert_close(got, expected, atol=TOLERANCE, rtol=TOLERANCE)


# Runs every proof's exported model.py in a fresh interpreter: isolated (-I: no project on sys.path), it
# imports each file as it is, loads the weights and writes the output.
PLAIN_TORCH = """
import json, runpy, sys, torch
cases = json.load(open(sys.argv[1]))
for folder, cls in cases:
    namespace = runpy.run_path(folder + '/model.py')
    model = namespace[cls]()
    model.load_state_dict(torch.load(folder + '/weights.pt', weights_only=True))
    model.eval()
    with torch.no_grad():
        torch.save(model(torch.load(folder + '/x.pt', weights_only=True)), folder + '/out.pt')
assert not any(name.split('.')[0] in ('builder', 'config', 'django', 'tests') for name in sys.modules)
"""


def test_the_exported_code_of_every_layer_runs_with_torch_alone(tmp_path):
    cases, expected = [], {}
    for i, proof in enumerate(PROOFS):
        analysis, model, reference = build(proof)
        expected[i] = expected_output(proof, model, reference)
        source = generate_source(analysis)
        assert [line for line in source.splitlines() if line.startswith(("import", "from"))] == \
            ["import torch", "from torch import nn"], proof_id(proof)
        folder = tmp_path / str(i)
        folder.mkdir()
        (folder / "model.py").write_text(source)
        torch.save(model.state_dict(), folder / "weights.pt")
        torch.save(sample(proof), folder / "x.pt")
        cases.append((str(folder), class_name(analysis.graph.name)))
    (tmp_path / "cases.json").write_text(json.dumps(cases))

    subprocess.run([sys.executable, "-I", "-c", PLAIN_TORCH, str(tmp_path / "cases.json")], check=True,
                   timeout=240, cwd=tmp_path)
    for i, proof in enumerate(PROOFS):
        got = torch.load(tmp_path / str(i) / "out.pt", weights_only=True)
        torch.testing.assert_close(got, expected[i], atol=TOLERANCE, rtol=TOLERANCE, msg=proof_id(proof))


def test_the_exported_file_defines_exactly_the_helper_classes_its_graph_uses():
    token = chain(node("in", "Input", shape=SEQUENCE), node("cls", "ClassToken"), node("cls2", "ClassToken"))
    source = generate_source(analyze(token, Limits()))
    assert source.count("class ClassToken(nn.Module):") == 1
    assert "class PositionalEmbedding" not in source
    plain = generate_source(analyze(chain(node("in", "Input", shape=SEQUENCE), node("fc", "Linear")), Limits()))
    assert not any(f"class {helper.__name__}" in plain for helper in HELPER_CLASSES)


def test_a_graph_named_like_a_helper_class_keeps_both_classes():
    doc = chain(node("in", "Input", shape=SEQUENCE), node("pos", "PositionalEmbedding"), name="Positional embedding")
    analysis = analyze(doc, Limits())
    assert class_name(analysis.graph.name) == "PositionalEmbeddingModel"
    model = compile_graph(analysis)
    assert type(model.pos).__name__ == "PositionalEmbedding"
