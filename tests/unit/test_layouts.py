"""Layouts: every tensor's axes have names (C×H×W, C×L, T×F, F, T), and the layer rules use them."""

import copy

import pytest
import torch

from builder.graph import ErrorCode, Limits, analyze, compile_graph
from builder.graph.examples import EXAMPLES

from tests.graphs import chain, graph, node


def layouts(analysis):
    return {node_id: analysis.shapes[node_id].layout for node_id in analysis.order}


def apply(doc, fix):
    """What the editor's Fix button does: a new node on the first input of `before`, which it takes over."""
    doc = copy.deepcopy(doc)
    assert fix["kind"] == "insert"
    new_id = f"{fix['type'].lower()}_fix"
    doc["nodes"].append(node(new_id, fix["type"], **fix["params"]))
    index = next(i for i, e in enumerate(doc["edges"]) if e["target"] == fix["before"])
    edge = doc["edges"][index]
    doc["edges"][index:index + 1] = [{"source": edge["source"], "target": new_id}, {**edge, "source": new_id}]
    return doc


def cnn_without_flatten():
    return chain(node("in", "Input", shape=[1, 28, 28]), node("conv", "Conv2d", out_channels=64),
                 node("pool", "MaxPool2d", kernel_size=2), node("fc", "Linear", out_features=10))


def test_global_average_pooling_over_a_sequence_keeps_the_features():
    doc = chain(node("in", "Input", shape=[16, 32]), node("enc", "TransformerEncoderLayer"),
                node("gap", "GlobalAvgPool"))
    analysis = analyze(doc, Limits())
    assert analysis.valid, analysis.errors
    assert analysis.shapes["gap"].shape == (32,) and analysis.shapes["gap"].layout == "F"
    model = compile_graph(analysis).eval()
    x = torch.randn(3, 16, 32)
    assert torch.allclose(model(x), model.enc(x).mean(dim=1))


def test_global_max_pooling_keeps_the_channels_of_an_image_and_the_features_of_a_sequence():
    image = analyze(chain(node("in", "Input", shape=[3, 8, 8]), node("gmp", "GlobalMaxPool")), Limits())
    sequence = analyze(chain(node("in", "Input", shape=[5, 7], layout="TF"), node("gmp", "GlobalMaxPool")), Limits())
    assert (image.shapes["gmp"].shape, image.shapes["gmp"].layout) == ((3,), "C")
    assert (sequence.shapes["gmp"].shape, sequence.shapes["gmp"].layout) == ((7,), "F")
    x = torch.randn(2, 5, 7)
    assert torch.equal(compile_graph(sequence)(x), x.amax(dim=1))


def test_a_dense_on_an_image_is_a_warning_naming_the_node_with_an_insert_flatten_fix():
    doc = cnn_without_flatten()
    analysis = analyze(doc, Limits())
    assert analysis.valid and analysis.errors == []  # PyTorch allows it: it acts on the last axis alone
    assert analysis.shapes["fc"].shape == (64, 13, 10)
    [warning] = analysis.warnings
    assert warning.code == ErrorCode.DENSE_MULTI_AXIS and warning.node == "fc"
    assert "node 'fc' (Dense)" in warning.message and "[64, 13, 13] (C×H×W)" in warning.message
    assert analysis.fixes == [{"code": "dense_multi_axis", "node": "fc", "kind": "insert", "type": "Flatten",
                               "params": {}, "before": "fc"}]
    summary = analysis.summary()
    assert summary["warnings"] == [warning.as_dict()] and summary["fixes"] == analysis.fixes

    fixed = analyze(apply(doc, analysis.fixes[0]), Limits())
    assert fixed.valid and fixed.warnings == [] and fixed.fixes == []
    assert fixed.shapes["fc"].shape == (10,) and fixed.shapes["flatten_fix"].layout == "F"


def test_a_forgotten_flatten_is_one_warning_not_one_per_dense_below_it():
    doc = cnn_without_flatten()
    doc["nodes"] += [node("act", "ReLU"), node("out", "Linear", out_features=3)]
    doc["edges"] += [{"source": "fc", "target": "act"}, {"source": "act", "target": "out"}]
    analysis = analyze(doc, Limits())
    assert [w.node for w in analysis.warnings] == ["fc"] and [f["before"] for f in analysis.fixes] == ["fc"]
    assert analyze(apply(doc, analysis.fixes[0]), Limits()).warnings == []


def test_a_dense_on_a_sequence_reads_each_step_and_is_no_warning():
    analysis = analyze(chain(node("in", "Input", shape=[16, 32]), node("fc", "Linear", out_features=8)), Limits())
    assert analysis.valid and analysis.warnings == []
    assert (analysis.shapes["fc"].shape, analysis.shapes["fc"].layout) == ((16, 8), "TF")


def test_a_channels_layer_given_a_sequence_is_an_error_with_an_insert_permute_fix():
    doc = chain(node("in", "Input", shape=[16, 32]), node("lstm", "LSTM", hidden_size=24),
                node("conv", "Conv1d", out_channels=8), node("gap", "GlobalAvgPool"))
    analysis = analyze(doc, Limits())
    [error] = analysis.errors
    assert error.code == ErrorCode.LAYOUT and error.node == "conv"
    assert "node 'conv' (Conv1d) with input T×F from 'lstm': expects C×L, got T×F" in error.message
    assert analysis.fixes == [{"code": "layout", "node": "conv", "kind": "insert", "type": "Permute",
                               "params": {"dims": [1, 0]}, "before": "conv"}]
    assert analysis.shapes["gap"].layout == "C"  # read as if fixed: one mistake, one error

    fixed = analyze(apply(doc, analysis.fixes[0]), Limits())
    assert fixed.valid and fixed.fixes == [], fixed.errors
    assert layouts(fixed) == {"in": "TF", "lstm": "TF", "permute_fix": "CL", "conv": "CL", "gap": "C"}
    assert fixed.shapes["conv"].shape == (8, 14)


def test_a_sequence_layer_given_channels_is_an_error_with_the_same_fix():
    doc = chain(node("in", "Input", shape=[4, 50]), node("conv", "Conv1d", out_channels=8),
                node("lstm", "LSTM", hidden_size=16))
    analysis = analyze(doc, Limits())
    [error] = analysis.errors
    assert error.code == ErrorCode.LAYOUT and error.node == "lstm" and "expects T×F, got C×L" in error.message
    assert analysis.fixes[0]["type"] == "Permute" and analysis.fixes[0]["before"] == "lstm"
    assert analyze(apply(doc, analysis.fixes[0]), Limits()).valid


@pytest.mark.parametrize(("first", "expected"), [("Conv1d", "CL"), ("BatchNorm1d", "CL"), ("GlobalAvgPool", "CL"),
                                                 ("LSTM", "TF"), ("TransformerEncoderLayer", "TF"),
                                                 ("Linear", "TF"), ("ReLU", "TF")])
def test_an_auto_input_with_two_axes_is_what_its_first_layer_reads(first, expected):
    doc = chain(node("in", "Input", shape=[8, 16]), node("act", "ReLU"), node("layer", first))
    assert analyze(doc, Limits()).shapes["in"].layout == expected


def test_an_input_names_its_layout_or_gets_one_from_its_rank_and_dtype():
    assert analyze(chain(node("in", "Input", shape=[64], dtype="int64"), node("e", "Embedding", num_embeddings=9)),
                   Limits()).shapes["in"].layout == "T"
    assert analyze(mlp_input([12]), Limits()).shapes["in"].layout == "F"
    named = analyze(chain(node("in", "Input", shape=[8, 16], layout="TF"), node("conv", "Conv1d")), Limits())
    assert [e.code for e in named.errors] == [ErrorCode.LAYOUT]
    wrong = analyze(chain(node("in", "Input", shape=[8, 16], layout="CHW"), node("act", "ReLU")), Limits())
    [error] = wrong.errors
    assert error.node == "in" and error.param == "layout" and "names 3 axes" in error.message


def mlp_input(shape):
    return chain(node("in", "Input", shape=shape), node("fc", "Linear", out_features=2))


def test_permute_and_transpose_move_the_names_with_the_axes():
    doc = chain(node("in", "Input", shape=[3, 8, 6]), node("p", "Permute", dims=[1, 2, 0]),
                node("t", "Transpose", dim0=0, dim1=1), node("m", "Mean", dim=[0]))
    assert layouts(analyze(doc, Limits())) == {"in": "CHW", "p": "HWC", "t": "WHC", "m": "HC"}
    seq = chain(node("in", "Input", shape=[4, 10]), node("conv", "Conv1d", out_channels=6),
                node("t", "Transpose"), node("sel", "Select", dim=0, index=-1))
    assert layouts(analyze(seq, Limits())) == {"in": "CL", "conv": "CL", "t": "TF", "sel": "F"}


EXPECTED = {
    "seed_cnn": {"in": "CHW", "conv1": "CHW", "pool1": "CHW", "flat": "F", "fc1": "F", "out": "F"},
    "digits_cnn": {"in": "CHW", "conv1": "CHW", "pool1": "CHW", "flat": "F", "out": "F"},
    "lstm_classifier": {"in": "TF", "lstm": "TF", "out": "F"},  # the LSTM's sequence; its state (F) feeds "out"
    "text_classifier": {"tokens": "T", "embed": "TF", "lstm": "TF", "drop": "F", "out": "F"},
    "text_transformer": {"tokens": "T", "embed": "TF", "encoder": "TF", "mean": "F", "out": "F"},
    "residual_cnn": {"in": "CHW", "skip": "CHW", "gap": "C", "out": "F"},
    "mobilenet_se": {"in": "CHW", "se_pool": "CHW", "se_scale": "CHW", "gap": "C", "out": "F"},
    "unet_digits": {"in": "CHW", "cat1": "CHW", "gap": "C", "out": "F"},
    "vit_tiny": {"in": "CHW", "patchify": "CHW", "flatten": "CL", "tokens": "TF", "cls": "TF", "pos": "TF",
                 "enc2": "TF", "take_cls": "F", "norm": "F", "out": "F"},
}


@pytest.mark.parametrize("slug", sorted(EXAMPLES))
def test_every_example_validates_without_errors_or_warnings_and_names_its_axes(slug):
    analysis = analyze(copy.deepcopy(EXAMPLES[slug]["graph"]), Limits())
    assert analysis.valid and analysis.warnings == [], (analysis.errors, analysis.warnings)
    found = layouts(analysis)
    assert set(found) == set(analysis.graph.nodes) and all(found.values())
    expected = EXPECTED.get(slug, {})
    assert {k: found.get(k) for k in expected} == expected


def test_a_warning_does_not_hide_an_error_elsewhere():
    doc = graph([node("in", "Input", shape=[1, 8, 8]), node("fc", "Linear", out_features=4),
                 node("conv", "Conv2d", out_channels=0), node("sum", "Add")],
                [("in", "fc"), ("in", "conv"), ("fc", "sum"), ("conv", "sum")])
    analysis = analyze(doc, Limits())
    assert not analysis.valid and [w.node for w in analysis.warnings] == ["fc"]
    assert [e.node for e in analysis.errors] == ["conv"]
