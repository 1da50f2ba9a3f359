"""ONNX files imported (parsed, never run): exact against ONNX Runtime, and refused clearly when they cannot be."""

import functools
import io
import re

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from builder.graph import Limits, analyze
from builder.graph.__main__ import main
from builder.graph.codegen import python_names
from builder.graph.import_onnx import import_onnx, verify_onnx
from builder.graph.import_torch import ImportRefused, import_module

from tests.zoo import ZOO, PositionScale


def trained(module):
    """`module` with weights as training leaves them: a fresh model's ones and zeros (norm scales, biases, class
    tokens) would be merged into one tensor or dropped by the exporter, which a trained model's never are."""
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if name.endswith("running_var"):
                tensor.uniform_(0.5, 1.5)
            elif tensor.is_floating_point():
                tensor.add_(torch.randn_like(tensor) * 0.1)
    return module.eval()


def export(module, shape, opset=None):
    """`module` as PyTorch's exporter writes it with a free batch size: torch.export's (opset 18 and up), or with
    an opset below 18 the TorchScript exporter's, which decomposes more (GELU into Erf, LayerNorm before opset 17,
    shapes computed from x.shape)."""
    x = (torch.randn(2, *shape),)
    if opset is None or opset >= 18:
        return torch.onnx.export(module, x, dynamo=True, verbose=False, opset_version=opset,
                                 dynamic_shapes=({0: torch.export.Dim("batch")},)).model_proto.SerializeToString()
    buffer = io.BytesIO()
    torch.onnx.export(module, x, buffer, dynamo=False, opset_version=opset, input_names=["x"],
                      dynamic_axes={"x": {0: "batch"}})
    return buffer.getvalue()


@functools.cache
def exported(name, opset=None):
    """A zoo model, trained, and its ONNX file."""
    make, shape = ZOO[name]
    torch.manual_seed(0)
    module = trained(make())
    return module, export(module, shape, opset)


def weights_of(imported, layer):
    """The weights of each node of type `layer`, in computing order, keyed as in its module's state_dict."""
    names = python_names([n["id"] for n in imported.doc["nodes"]])
    return [{key.removeprefix(f"{names[n['id']]}."): value for key, value in imported.weights.items()
             if key.startswith(f"{names[n['id']]}.")} for n in imported.doc["nodes"] if n["type"] == layer]


def types(imported):
    return [n["type"] for n in imported.doc["nodes"]]


@pytest.mark.parametrize("name", sorted(ZOO))
def test_an_exported_model_imports_exactly_as_onnx_runtime_computes_it(name):
    module, data = exported(name)
    imported = import_onnx(data, name)
    count, error = verify_onnx(data, imported, Limits())
    # As many parameters as the file holds: the module's, but for batch norms the exporter folds into convolutions.
    assert count == imported.module_params and error < 1e-4
    if "BatchNorm2d" not in {type(m).__name__ for m in module.modules()}:
        assert count == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name, opset", [("lstm", 13), ("gru", 14), ("vit", 14), ("vit", 17), ("efficientnet", 17),
                                         ("vit", 21)])
def test_files_of_other_opsets_and_of_the_torchscript_exporter_import_exactly(name, opset):
    module, data = exported(name, opset)
    imported = import_onnx(data, name)
    count, error = verify_onnx(data, imported, Limits())
    assert count == imported.module_params and error < 1e-4


MODULE_LAYERS = {"Conv2d", "Linear", "LayerNorm", "MultiheadAttention", "ClassToken", "PositionalEmbedding",
                 "LayerScale", "ReLU", "SiLU", "GELU", "LSTM", "Add", "Multiply"}


@pytest.mark.parametrize("name, opset", [("resnet", None), ("resnet", 13), ("vit", None), ("vit", 14),
                                         ("efficientnet", None), ("convnext", None), ("lstm", 13)])
def test_each_node_is_labelled_and_grouped_by_its_module_path_as_the_torch_fx_import_does_it(name, opset):
    """layer1.0.conv1 in group layer1.0, from either exporter: the dynamo one writes the path in each node's
    metadata, the TorchScript one in its name."""
    module, data = exported(name, opset)

    def where(imported):
        return [(n["type"], n["label"], n.get("group")) for n in imported.doc["nodes"] if n["type"] in MODULE_LAYERS]

    from_onnx, from_fx = where(import_onnx(data, name)), where(import_module(module, ZOO[name][1]))
    strip = functools.partial(re.sub, r"\.(add|mul)_\d+$", r".\1")  # torch.fx numbers each add of the module
    assert [(t, strip(label), group) for t, label, group in from_onnx] == \
        [(t, strip(label), group) for t, label, group in from_fx]


def test_an_exported_vit_imports_as_the_model_reads_with_each_attention_one_node_with_its_weights():
    module, data = exported("vit")
    imported = import_onnx(data, "vit")
    assert types(imported) == ["Input", "Conv2d", "Reshape", "Permute", "ClassToken", "PositionalEmbedding",
                               *["LayerNorm", "MultiheadAttention", "Add", "LayerNorm", "Linear", "GELU", "Linear",
                                 "Add"] * 2, "LayerNorm", "Select", "Linear"]
    attention = [n for n in imported.doc["nodes"] if n["type"] == "MultiheadAttention"]
    assert all(n["params"] == {"num_heads": 4} for n in attention)
    for block, weights in zip(module.layers, weights_of(imported, "MultiheadAttention")):
        assert weights.keys() == block.self_attention.state_dict().keys()
        assert all(torch.equal(weights[k], v) for k, v in block.self_attention.state_dict().items())
    [token] = weights_of(imported, "ClassToken")
    assert torch.equal(token["token"], module.class_token.reshape(1, -1))


@pytest.mark.parametrize("name, layer", [("lstm", "LSTM"), ("gru", "GRU")])
def test_an_exported_lstm_or_gru_imports_as_one_node_with_pytorchs_gate_order(name, layer):
    """ONNX orders an LSTM's gates i o f c and a GRU's z r h, PyTorch i f g o and r z n; stacked layers are one ONNX
    node each, and one graph node with num_layers again."""
    module, data = exported(name)
    imported = import_onnx(data, name)
    recurrent = next(m for m in module.modules() if type(m).__name__ == layer)
    [node] = [n for n in imported.doc["nodes"] if n["type"] == layer]
    assert node["params"].get("num_layers", 1) == recurrent.num_layers
    assert node["params"].get("bidirectional", False) == recurrent.bidirectional
    [weights] = weights_of(imported, layer)
    assert weights.keys() == recurrent.state_dict().keys()
    assert all(torch.equal(weights[k], v) for k, v in recurrent.state_dict().items())


def test_an_exported_efficientnet_keeps_its_silu_and_squeeze_excitation():
    imported = import_onnx(exported("efficientnet")[1], "efficientnet")
    kinds = types(imported)
    assert kinds.count("SiLU") == 10 and kinds.count("Sigmoid") == 3 and kinds.count("Multiply") == 3
    assert "Add" in kinds  # the residuals; stochastic depth is nothing in eval


class QKVAttention(nn.Module):
    """Attention as timm writes it: one qkv projection, heads cut with reshape and permute, q·kᵀ scaled."""

    def __init__(self, dim=8, heads=2):
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, N, C))


class ReluRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(4, 6, batch_first=True, nonlinearity="relu")
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        return self.fc(self.rnn(x)[0]).mean(1)


@pytest.mark.parametrize("module, shape, opset, layer", [
    (QKVAttention(), [5, 8], None, "MultiheadAttention"),
    (QKVAttention(), [5, 8], 17, "MultiheadAttention"),
    (ReluRNN(), [5, 4], 17, "RNN"),  # torch.export unrolls a relu RNN into its steps; the TorchScript one does not
])
def test_attention_written_by_hand_and_a_relu_rnn_import_exactly_as_one_node(module, shape, opset, layer):
    torch.manual_seed(0)
    data = export(trained(module), shape, opset)
    imported = import_onnx(data)
    count, error = verify_onnx(data, imported, Limits())
    assert types(imported).count(layer) == 1 and count == sum(p.numel() for p in module.parameters())
    assert error < 1e-4


class MaskedAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(8, 2, batch_first=True)
        self.register_buffer("mask", torch.triu(torch.ones(5, 5, dtype=torch.bool), 1))

    def forward(self, x):
        return self.attention(x, x, x, attn_mask=self.mask, need_weights=False)[0]


class BackwardState(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 6, batch_first=True, bidirectional=True)

    def forward(self, x):
        return self.gru(x)[1][-1]  # the backward direction's alone: the graph's state holds both


class CellState(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, batch_first=True)

    def forward(self, x):
        return self.lstm(x)[1][1][-1]


@pytest.mark.parametrize("module, shape, words", [
    (MaskedAttention(), [5, 8], "Add with a constant operand is not supported"),
    (BackwardState(), [5, 4], "is part of an output of"),
    (CellState(), [5, 4], "(Y_c) is not an output of the graph's LSTM"),
    (PositionScale(), [3, 4, 4], "(Mul): Mul with a constant operand is not supported (but for a scale per channel "
                                 "or feature, of shape [3, 1, 1] here)"),
])
def test_what_the_graph_cannot_compute_is_refused_saying_what_and_where(module, shape, words):
    torch.manual_seed(0)
    with pytest.raises(ImportRefused) as refused:
        import_onnx(export(trained(module), shape))
    assert str(refused.value).startswith("cannot import ") and words in str(refused.value), str(refused.value)


def test_an_exported_shufflenet_and_convnext_keep_their_channel_shuffles_and_layer_scales_as_nodes():
    """ShuffleNet's reshape to groups, transpose and reshape back is one ChannelShuffle, which the next unit's
    Split reads; ConvNeXt's Mul by a (C, 1, 1) initializer is a LayerScale holding it."""
    kinds = types(import_onnx(exported("shufflenet")[1]))
    assert kinds.count("ChannelShuffle") == 2 and kinds[kinds.index("ChannelShuffle") + 1] == "Split"
    module, data = exported("convnext")
    imported = import_onnx(data)
    for weights, block in zip(weights_of(imported, "LayerScale"), module.features[1:], strict=True):
        assert weights.keys() == {"weight"} and torch.equal(weights["weight"], block.layer_scale)


def constant(name, value):
    return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)


@pytest.mark.parametrize("half_first", [False, True])
def test_gelus_erf_form_imports_as_one_gelu(half_first):
    """x · ½(1 + erf(x/√2)), as the TorchScript exporter writes GELU, in either order of its products."""
    nodes = [helper.make_node("Div", ["x", "root2"], ["scaled"]), helper.make_node("Erf", ["scaled"], ["erf"]),
             helper.make_node("Add", ["erf", "one"], ["gate"])]
    nodes += [helper.make_node("Mul", ["x", "half"], ["xhalf"]), helper.make_node("Mul", ["xhalf", "gate"], ["y"])] \
        if half_first else [helper.make_node("Mul", ["x", "gate"], ["twice"]),
                            helper.make_node("Mul", ["twice", "half"], ["y"])]
    graph = helper.make_graph(nodes, "gelu", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 8])],
                              [constant("root2", 2 ** 0.5), constant("one", 1.0), constant("half", 0.5)])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    imported = import_onnx(data)
    assert types(imported) == ["Input", "GELU"] and imported.module_params == 0
    assert verify_onnx(data, imported, Limits())[1] < 1e-6


def lstm_model(hidden=3, **attributes):
    """One ONNX LSTM as written by hand (random weights, no Shape arithmetic): time first, its last state the
    output."""
    rng = np.random.default_rng(0)
    weights = [constant(name, rng.normal(size=shape)) for name, shape in
               [("W", (1, 4 * hidden, 4)), ("R", (1, 4 * hidden, hidden)), ("B", (1, 8 * hidden))]]
    nodes = [helper.make_node("Transpose", ["x"], ["steps"], perm=[1, 0, 2]),
             helper.make_node("LSTM", ["steps", "W", "R", "B"], ["", "h"], name="rnn", hidden_size=hidden,
                              **attributes),
             helper.make_node("Squeeze", ["h", "first"], ["y"])]
    graph = helper.make_graph(nodes, "lstm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 5, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", hidden])],
                              [*weights, numpy_helper.from_array(np.array([0]), "first")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def test_a_hand_written_lstm_imports_exactly_its_state_the_graphs_result():
    data = lstm_model()
    imported = import_onnx(data)
    assert types(imported) == ["Input", "LSTM", "Identity"]  # the graph's result is a node's first output
    count, error = verify_onnx(data, imported, Limits())
    assert count == imported.module_params == 4 * 3 * (4 + 3 + 2) and error < 1e-5


@pytest.mark.parametrize("attributes, words", [
    ({"clip": 5.0}, "clip is not supported"),
    ({"activations": ["Sigmoid", "Relu", "Tanh"]}, "only PyTorch's activations (Sigmoid, Tanh, Tanh) are supported, "
                                                   "not Sigmoid, Relu, Tanh"),
    ({"direction": "reverse"}, "only the forward and bidirectional directions are supported"),
])
def test_an_lstm_unlike_pytorchs_is_refused_naming_the_node_and_what_differs(attributes, words):
    with pytest.raises(ImportRefused) as refused:
        import_onnx(lstm_model(**attributes))
    assert str(refused.value) == f"cannot import ONNX node 'rnn' (LSTM): {words}" or words in str(refused.value)
    assert str(refused.value).startswith("cannot import ONNX node 'rnn' (LSTM): ")


def test_the_batch_norm_gemm_and_concat_keep_their_weights_under_model_py_names():
    imported = import_onnx(exported("densenet")[1], "dense")
    analysis = analyze(imported.doc, Limits())
    kinds = [analysis.graph.nodes[n].type for n in analysis.order]
    assert {"Conv2d", "BatchNorm2d", "Concat", "Linear"} <= set(kinds)
    assert any(key.endswith(".running_var") for key in imported.weights)


def model_with(node, inputs, output_shape):
    graph = helper.make_graph([node], "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                                                                    output_shape)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def test_an_op_the_graph_lacks_is_refused_naming_it_and_its_node():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])
    data = model_with(helper.make_node("Sin", ["x"], ["y"], name="wave"), [x], ["n", 4])
    with pytest.raises(ImportRefused) as refused:
        import_onnx(data)
    assert str(refused.value) == "cannot import ONNX node 'wave' (Sin): no graph node computes this op"


@pytest.mark.parametrize("shape, message", [
    ([0, 3], "cannot import ONNX node 'fold' (Reshape): it does not fit its input (cannot reshape array of size 12 "
             "into shape (3,3), for a batch of 3)"),
    ([-1], "cannot import the graph's output: 'y' has elements moved across the batch (by 'fold') in a way no graph "
           "node computes"),  # the whole batch in one row
])
def test_a_reshape_that_cannot_be_is_refused_by_name_not_with_a_traceback(shape, message):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])
    model = onnx.load_model_from_string(model_with(helper.make_node("Reshape", ["x", "shape"], ["y"], name="fold"),
                                                   [x], ["n", 3]))
    model.graph.initializer.append(numpy_helper.from_array(np.array(shape), "shape"))
    with pytest.raises(ImportRefused) as refused:
        import_onnx(model.SerializeToString())
    assert str(refused.value) == message


@pytest.mark.parametrize("data, words", [
    (b"not a model at all", "the file is not an ONNX model"),
    (b"", "the file is not a valid ONNX model"),
])
def test_a_file_that_is_not_an_onnx_model_gets_a_clear_message(data, words):
    with pytest.raises(ImportRefused) as refused:
        import_onnx(data)
    assert words in str(refused.value)


def test_an_old_opset_is_refused_by_number():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)]).SerializeToString()
    with pytest.raises(ImportRefused) as refused:
        import_onnx(data)
    assert "opset 11; opsets 13 to 21 are supported" in str(refused.value)


def test_the_command_imports_a_file(tmp_path, capsys):
    path = tmp_path / "net.onnx"
    path.write_bytes(exported("mobilenet")[1])
    assert main(["import-onnx", str(path), "-o", str(tmp_path / "net.json"), "--weights", str(tmp_path / "w.st")]) == 0
    assert "largest relative difference of the outputs" in capsys.readouterr().out
    assert (tmp_path / "w.st").stat().st_size > 0


def test_a_file_that_asks_for_a_huge_tensor_is_refused_before_making_it():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [100_000, 100_000])
    graph = helper.make_graph([helper.make_node("ConstantOfShape", ["shape"], ["big"], name="bomb"),
                               helper.make_node("Add", ["x", "big"], ["y"], name="add")], "g", [x],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b"])], initializer=[shape])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    with pytest.raises(ImportRefused) as refused:
        import_onnx(data)
    assert "'bomb'" in str(refused.value) and "10,000,000,000 elements" in str(refused.value)
