"""Every kind of validation error is found, in one pass, with its node named in the message."""

import json

import pytest

from builder.graph import ErrorCode, Limits, analyze, parse_json

from tests.graphs import chain, example, graph, mlp, node


def errors_of(doc, **limits):
    return analyze(doc, Limits(**limits)).errors


def only(errors, code):
    found = [e for e in errors if e.code == code]
    assert found, f"no {code} error in {[e.message for e in errors]}"
    return found


def test_a_valid_graph_has_no_errors_and_every_node_has_a_shape():
    analysis = analyze(mlp(), Limits())
    assert analysis.valid
    assert analysis.summary()["nodes"]["fc"] == {"type": "Linear", "output_shape": [32], "dtype": "float32",
                                                 "params": 16 * 32 + 32, "layout": "F"}


def test_it_rejects_unknown_layer_types_and_suggests_the_right_one():
    doc = chain(node("in", "Input", shape=[4]), node("c", "Conv2D", out_channels=3))
    [error] = only(errors_of(doc), "unknown_type")
    assert error.node == "c"
    assert "'c'" in error.message and "'Conv2D'" in error.message and "Conv2d" in error.message


@pytest.mark.parametrize("params, param, words", [
    ({"out_channels": 0}, "out_channels", "at least 1, got 0"),
    ({"kernel_size": "big"}, "kernel_size", "integer"),
    ({"kernel_size": [3, 3, 3]}, "kernel_size", "list of 2 integers"),
    ({"bias": 1}, "bias", "true or false"),
    ({"padding": -1}, "padding", "at least 0"),
])
def test_it_rejects_bad_parameter_values_naming_node_and_parameter(params, param, words):
    doc = chain(node("in", "Input", shape=[1, 8, 8]), node("conv", "Conv2d", **params))
    [error] = only(errors_of(doc), "bad_param")
    assert (error.node, error.param) == ("conv", param)
    assert "node 'conv' (Conv2d)" in error.message and param in error.message and words in error.message


def test_it_rejects_a_non_finite_float_parameter():
    doc = chain(node("in", "Input", shape=[8]), node("drop", "Dropout", p=float("inf")))
    [error] = only(errors_of(doc), "bad_param")
    assert error.node == "drop" and "finite" in error.message


def test_it_rejects_unknown_parameters_and_input_sizes_that_are_inferred():
    doc = chain(node("in", "Input", shape=[8]), node("fc", "Linear", out_features=2, in_features=8, units=3))
    errors = only(errors_of(doc), "unknown_param")
    messages = {e.param: e.message for e in errors}
    assert "inferred from the graph" in messages["in_features"]
    assert "not a parameter of Linear" in messages["units"] and "out_features" in messages["units"]
    assert all(e.node == "fc" for e in errors)


def test_it_requires_an_inputs_shape():
    doc = chain(node("in", "Input"), node("fc", "Linear"))
    [error] = only(errors_of(doc), "missing_param")
    assert error.node == "in" and "shape is required" in error.message


def test_it_rejects_cycles_naming_every_node_in_them():
    doc = graph([node("in", "Input", shape=[4]), node("a", "Linear"), node("b", "Add"), node("c", "ReLU"),
                 node("out", "Linear")],
                [("in", "a"), ("a", "b"), ("c", "b"), ("b", "c"), ("c", "out")])
    errors = only(errors_of(doc), "cycle")
    assert {e.node for e in errors} == {"b", "c"}
    assert all("cycle (b → c)" in e.message for e in errors)


def test_cycles_that_share_a_node_are_reported_as_one_group():
    # a ⇄ b and b ⇄ c: removing the first cycle found would leave c looking innocent.
    doc = graph([node("in", "Input", shape=[4]), node("x", "Linear"), node("a", "Add"), node("b", "Add"),
                 node("c", "Add"), node("out", "Linear")],
                [("in", "x"), ("x", "a"), ("b", "a"), ("a", "b"), ("c", "b"), ("b", "c"), ("x", "c"),
                 ("b", "out")])
    errors = only(errors_of(doc), "cycle")
    assert [e.node for e in errors] == ["a", "b", "c"]
    assert all("is part of a cycle (a → b → c)" in e.message for e in errors)


def test_separate_cycles_are_each_named_in_document_order():
    doc = graph([node("in", "Input", shape=[4]), node("p", "Add"), node("q", "ReLU"), node("r", "Add"),
                 node("s", "ReLU"), node("out", "Add")],
                [("in", "r"), ("s", "r"), ("r", "s"), ("in", "p"), ("q", "p"), ("p", "q"), ("q", "out"),
                 ("s", "out")])
    errors = only(errors_of(doc), "cycle")
    assert [(e.node, e.message.split("cycle ")[1]) for e in errors] == [
        ("p", "(p → q)"), ("q", "(p → q)"), ("r", "(r → s)"), ("s", "(r → s)")]
    assert errors[0].code is ErrorCode.CYCLE


def test_it_rejects_a_node_that_feeds_itself():
    doc = graph([node("in", "Input", shape=[4]), node("add", "Add"), node("out", "Linear")],
                [("in", "add"), ("add", "add"), ("add", "out")])
    [error] = only(errors_of(doc), "cycle")
    assert error.node == "add" and "feeds its own input" in error.message


def test_it_rejects_dangling_edges():
    doc = mlp()
    doc["edges"].append({"source": "out", "target": "ghost"})
    [error] = only(errors_of(doc), "dangling_edge")
    assert error.node == "out" and error.edge == 3 and "'ghost'" in error.message


def test_it_rejects_missing_and_surplus_inputs():
    doc = graph([node("in", "Input", shape=[4]), node("lonely", "ReLU"), node("fc", "Linear"),
                 node("add", "Add"), node("out", "Linear")],
                [("in", "fc"), ("lonely", "fc"), ("in", "add"), ("add", "out"), ("fc", "out")])
    errors = errors_of(doc)
    missing = {e.node: e.message for e in only(errors, "missing_input")}
    surplus = {e.node: e.message for e in only(errors, "surplus_input")}
    assert "needs an input" in missing["lonely"]
    assert "at least 2 inputs, has 1" in missing["add"]
    assert "takes 1 input, but has 2 (from 'in', 'lonely')" in surplus["fc"]
    assert "takes 1 input, but has 2" in surplus["out"]


def test_it_rejects_an_input_with_an_incoming_edge_and_a_second_input():
    doc = graph([node("in", "Input", shape=[4]), node("in2", "Input", shape=[4]), node("out", "Linear")],
                [("in", "out"), ("out", "in2")])
    errors = errors_of(doc)
    [surplus] = only(errors, "surplus_input")
    [second] = only(errors, "multiple_inputs")
    assert surplus.node == second.node == "in2"
    assert "takes no inputs" in surplus.message and "a graph takes one Input" in second.message


def test_it_requires_an_input_and_a_single_output():
    no_input = chain(node("fc", "Linear"))
    assert only(errors_of(no_input), "no_input")[0].message == "the graph has no Input node"
    two_outputs = graph([node("in", "Input", shape=[4]), node("a", "Linear"), node("b", "Linear")],
                        [("in", "a"), ("in", "b")])
    errors = only(errors_of(two_outputs), "multiple_outputs")
    assert {e.node for e in errors} == {"a", "b"} and "ends in 2 (a, b)" in errors[0].message
    assert only(errors_of(chain(node("in", "Input", shape=[4]))), "no_output")


def test_a_shape_mismatch_names_the_node_and_both_shapes():
    doc = graph([node("in", "Input", shape=[1, 8, 8]), node("wide", "Conv2d", out_channels=8, padding=1),
                 node("narrow", "Conv2d", out_channels=4, padding=1), node("add", "Add"),
                 node("flat", "Flatten"), node("out", "Linear")],
                [("in", "wide"), ("in", "narrow"), ("wide", "add"), ("narrow", "add"), ("add", "flat"),
                 ("flat", "out")])
    [error] = only(errors_of(doc), "shape")
    assert error.node == "add"
    assert "[8, 8, 8] from 'wide'" in error.message and "[4, 8, 8] from 'narrow'" in error.message


def test_a_concat_mismatch_names_both_shapes():
    doc = graph([node("in", "Input", shape=[1, 8, 8]), node("a", "Conv2d", out_channels=2),
                 node("b", "Conv2d", out_channels=2, padding=1), node("cat", "Concat", dim=0),
                 node("out", "Flatten")],
                [("in", "a"), ("in", "b"), ("a", "cat"), ("b", "cat"), ("cat", "out")])
    [error] = only(errors_of(doc), "shape")
    assert error.node == "cat" and "[2, 6, 6]" in error.message and "[2, 8, 8]" in error.message


def test_pytorch_refusals_become_errors_on_the_node():
    doc = chain(node("in", "Input", shape=[1, 2, 2]), node("conv", "Conv2d", kernel_size=3), node("f", "Flatten"))
    [error] = only(errors_of(doc), "shape")
    assert error.node == "conv" and "[1, 2, 2]" in error.message and "Kernel size" in error.message


def test_it_rejects_a_layer_given_the_wrong_kind_of_input():
    doc = chain(node("in", "Input", shape=[10]), node("conv", "Conv2d"), node("f", "Flatten"))
    [error] = only(errors_of(doc), "shape")
    assert error.node == "conv" and "expects C×H×W input" in error.message and "[10]" in error.message


def test_token_ids_must_go_through_an_embedding():
    doc = chain(node("in", "Input", shape=[12], dtype="int64"), node("fc", "Linear"))
    [error] = only(errors_of(doc), "shape")
    assert error.node == "fc" and "Embedding" in error.message
    floats = chain(node("in", "Input", shape=[12]), node("emb", "Embedding", num_embeddings=50), node("f", "Flatten"))
    [error] = only(errors_of(floats), "shape")
    assert error.node == "emb" and "int64" in error.message


def test_a_broken_node_does_not_bury_the_graph_in_follow_on_errors():
    doc = example("seed_cnn")
    doc["nodes"][1]["params"]["kernel_size"] = 0
    errors = errors_of(doc)
    assert [(e.node, e.code) for e in errors] == [("conv1", "bad_param")]


def test_it_finds_every_problem_in_one_pass():
    doc = example("seed_cnn")
    doc["nodes"][1]["params"]["out_channels"] = -3  # bad parameter on conv1
    doc["nodes"][5]["type"] = "Dense"  # unknown type on fc1
    doc["edges"].append({"source": "out", "target": "nowhere"})  # dangling edge
    doc["nodes"].append(node("extra", "ReLU"))  # missing input, and a second output
    codes = {(e.code, e.node) for e in errors_of(doc)}
    assert {("bad_param", "conv1"), ("unknown_type", "fc1"), ("dangling_edge", "out"),
            ("missing_input", "extra"), ("multiple_outputs", "extra")} <= codes


def test_limits_on_nodes_and_parameters_are_configurable():
    doc = example("seed_cnn")
    [error] = errors_of(doc, max_nodes=5)
    assert error.code == "too_large" and "limit is 5 nodes" in error.message
    [error] = errors_of(doc, max_params=1000)
    assert error.code == "too_many_params" and "693,962 parameters" in error.message
    assert analyze(doc, Limits()).valid


@pytest.mark.parametrize("mutate, words", [
    (lambda d: d.pop("nodes"), "'nodes' is a required property"),
    (lambda d: d.update(format="keras"), "'netgraph' was expected"),
    (lambda d: d["nodes"][2].update(position={"x": "left"}), "node 'act1': position"),
    (lambda d: d["edges"][0].update(port=-1), "edge 0: port"),
])
def test_structural_errors_say_where_they_are(mutate, words):
    doc = example("seed_cnn")
    mutate(doc)
    errors = only(errors_of(doc), "schema")
    assert any(words in e.message for e in errors), [e.message for e in errors]


def test_duplicate_node_ids_and_ports_are_rejected():
    doc = example("seed_cnn")
    doc["nodes"].append(node("conv1", "ReLU"))
    [error] = only(errors_of(doc), "duplicate_id")
    assert error.node == "conv1"
    cat = graph([node("in", "Input", shape=[4]), node("cat", "Concat")], [("in", "cat"), ("in", "cat")])
    for edge in cat["edges"]:
        edge["port"] = 0
    assert only(errors_of(cat), "duplicate_port")[0].node == "cat"


def test_a_newer_format_version_is_refused_and_an_older_graph_still_opens():
    doc = example("seed_cnn")
    doc["version"] = 99
    [error] = errors_of(doc)
    assert error.code == "unsupported_version" and "99" in error.message


@pytest.mark.parametrize("text, words", [
    ("{not json", "not valid JSON"),
    ('{"format": NaN}', "NaN"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
])
def test_text_that_is_not_a_graph_gets_a_clear_error(text, words):
    doc, errors = parse_json(text)
    assert doc is None and words in errors[0].message


def test_inputs_of_multi_input_nodes_follow_ports_then_edge_order():
    doc = graph([node("in", "Input", shape=[4]), node("a", "Linear", out_features=2),
                 node("b", "Linear", out_features=3), node("cat", "Concat")],
                [("in", "a"), ("in", "b"), ("a", "cat"), ("b", "cat")])
    assert analyze(doc, Limits()).inputs["cat"] == [("a", 0), ("b", 0)]
    doc["edges"][2]["port"], doc["edges"][3]["port"] = 1, 0
    analysis = analyze(doc, Limits())
    assert analysis.inputs["cat"] == [("b", 0), ("a", 0)] and analysis.shapes["cat"].shape == (5,)


def test_the_memory_estimate_grows_with_the_batch():
    summary = analyze(example("seed_cnn"), Limits()).summary(batch_size=64)
    memory = summary["memory"]
    assert memory["parameters"] == 693_962 * 4
    assert memory["total"] == memory["parameters"] * 4 + memory["activations"]
    assert analyze(example("seed_cnn"), Limits()).memory(128)["activations"] == 2 * memory["activations"]
    json.dumps(summary)  # the summary is plain JSON


def test_a_dimension_out_of_range_is_an_error_not_a_crash_at_training():
    doc = chain(node("in", "Input", shape=[4]), node("soft", "Softmax", dim=1))
    [error] = only(errors_of(doc), "shape")
    assert error.node == "soft" and "dim 1 is out of range" in error.message
