"""The graph limits: one definition read from the environment, and one wording for every limit error."""

import json

import pytest

from builder.graph import ErrorCode, GraphError, Limits, analyze, check_size

from tests.graphs import chain, example, graph, node


def test_the_defaults_apply_where_no_variable_is_set():
    assert Limits.from_env({}) == Limits() == Limits(max_nodes=500, max_edges=2000, max_params=200_000_000,
                                                     max_bytes=1_000_000)


def test_each_variable_overrides_its_limit():
    environ = {"GRAPH_MAX_NODES": "7", "GRAPH_MAX_EDGES": "8", "GRAPH_MAX_PARAMS": "9", "GRAPH_MAX_BYTES": "10",
               "UNRELATED": "x"}
    assert Limits.from_env(environ) == Limits(max_nodes=7, max_edges=8, max_params=9, max_bytes=10)


@pytest.mark.parametrize("value", ["many", "1.5", "", "0", "-3"])
def test_a_bad_value_names_its_variable(value):
    with pytest.raises(ValueError, match=r"GRAPH_MAX_PARAMS must be a positive integer"):
        Limits.from_env({"GRAPH_MAX_PARAMS": value})


def test_the_analysis_keeps_its_document_and_limits():
    doc, limits = example("seed_cnn"), Limits(max_nodes=50)
    analysis = analyze(doc, limits)
    assert analysis.doc is doc and analysis.limits is limits and analysis.limit_errors == []


def test_too_many_nodes_or_edges_names_each_limit_and_its_variable():
    doc = example("seed_cnn")  # 8 nodes, 7 edges
    errors = analyze(doc, Limits(max_nodes=5, max_edges=6)).errors
    assert [(e.code, e.message) for e in errors] == [
        (ErrorCode.TOO_LARGE, "the graph has 8 nodes; the limit is 5 nodes (GRAPH_MAX_NODES)"),
        (ErrorCode.TOO_LARGE, "the graph has 7 edges; the limit is 6 edges (GRAPH_MAX_EDGES)")]
    [error] = analyze(doc, Limits(max_edges=6)).errors
    assert "GRAPH_MAX_EDGES" in error.message


def test_too_many_parameters_names_the_largest_layer():
    analysis = analyze(example("seed_cnn"), Limits(max_params=1000))
    [error] = analysis.errors
    assert error.code == ErrorCode.TOO_MANY_PARAMS and error.node == "fc1"
    assert error.message == ("the model has 693,962 parameters; the limit is 1,000 parameters (GRAPH_MAX_PARAMS). "
                             "The largest layer is node 'fc1' (Dense) with 692,352")
    assert analysis.limit_errors == [error]


def test_limit_errors_leave_out_the_other_errors():
    doc = chain(node("in", "Input", shape=[64]), node("fc", "Linear", out_features=64), node("bad", "Nope"))
    analysis = analyze(doc, Limits(max_params=100))
    assert {e.code for e in analysis.errors} == {ErrorCode.UNKNOWN_TYPE, ErrorCode.TOO_MANY_PARAMS}
    assert [e.node for e in analysis.limit_errors] == ["fc"]


@pytest.mark.parametrize("as_given", [json.dumps, lambda d: json.dumps(d).encode(), lambda d: d])
def test_the_size_check_takes_text_bytes_or_a_document(as_given):
    doc = example("seed_cnn")
    size = len(json.dumps(doc))
    assert check_size(as_given(doc), Limits(max_bytes=size)) is None
    error = check_size(as_given(doc), Limits(max_bytes=size - 1))
    assert isinstance(error, GraphError) and error.code == ErrorCode.TOO_LARGE
    assert error.message == f"the graph document is {size:,} bytes; the limit is {size - 1:,} bytes (GRAPH_MAX_BYTES)"


def test_text_is_measured_in_utf8_bytes():
    assert check_size('"é"', Limits(max_bytes=4)) is None
    assert check_size('"é"', Limits(max_bytes=3)) is not None


def test_analyze_refuses_a_document_over_the_byte_limit_before_anything_else():
    doc = example("seed_cnn")
    doc["nodes"][1]["type"] = "Nope"
    analysis = analyze(doc, Limits(max_bytes=100))
    assert [e.code for e in analysis.errors] == [ErrorCode.TOO_LARGE] == [e.code for e in analysis.limit_errors]
    assert "GRAPH_MAX_BYTES" in analysis.errors[0].message and analysis.graph is None


def test_error_codes_are_enum_members_that_serialize_as_strings():
    doc = graph([node("in", "Input", shape=[4]), node("a", "Linear")], [("in", "a"), ("a", "ghost")])
    errors = analyze(doc, Limits()).errors
    assert errors and all(type(e.code) is ErrorCode for e in errors)
    assert all(type(e.as_dict()["code"]) is str for e in errors)
    assert json.loads(json.dumps(errors[0].as_dict()))["code"] == "dangling_edge"
