"""Validation errors repeat little of the document: long ids and values are shortened in messages, lists of
nodes are cut to a few names, and a flood of malformed items gives a bounded list of errors. Before, a 300 kB
id came back four times (1.2 MB) and a 0.9 MB document of bad parameters gave 12 MB of errors.
"""

import json

from builder.graph import Limits, analyze
from builder.graph.schema import ID_MAX_LENGTH
from builder.graph.validate import LISTED_IDS

from tests.graphs import chain, graph, node


def summary_bytes(doc) -> int:
    return len(json.dumps(analyze(doc, Limits()).summary()))


def test_a_huge_id_is_not_echoed_back():
    huge = "x" * 300_000
    doc = graph([node(huge, "Input", shape=[3]), node("d", "Linear", out_features=2)], [(huge, "d")])
    errors = analyze(doc, Limits()).errors

    assert summary_bytes(doc) < 3_000
    [too_long] = [e for e in errors if e.node is None and e.edge is None and "id:" in e.message]
    # A clear error: how long the id is and the limit, with the id cut to 40 characters and an ellipsis.
    assert f"'{'x' * 39}…' is 300,000 characters long; at most {ID_MAX_LENGTH} are allowed" in too_long.message
    assert all(len(e.message) < 200 for e in errors)
    assert all(e.node in (None, "d") for e in errors)  # no error carries the huge id as its node


def test_an_id_of_normal_length_is_still_named_in_full_by_the_node_field():
    long_id = "a_rather_long_but_allowed_layer_name_" + "z" * 20  # 57 characters, under the limit
    doc = chain(node("in", "Input", shape=[4]), node(long_id, "Linear", out_features=0))
    [error] = analyze(doc, Limits()).errors
    assert error.node == long_id  # the editor finds the node by this
    assert long_id not in error.message and long_id[:39] + "…" in error.message


def test_an_id_just_over_the_limit_still_lets_the_editor_find_its_node():
    typed = "n" * (ID_MAX_LENGTH + 10)  # as someone renaming a node in the editor might type
    errors = analyze(chain(node(typed, "Input", shape=[4]), node("fc", "Linear", out_features=2)), Limits()).errors
    [error] = [e for e in errors if e.node == typed]  # the others: its edge, and what follows from both
    assert "74 characters long; at most 64 are allowed" in error.message


def test_a_huge_parameter_value_or_key_is_shortened():
    value, key = "v" * 900_000, "k" * 50_000
    doc = chain(node("in", "Input", shape=[4]), node("fc", "Linear", out_features=value))
    assert summary_bytes(doc) < 3_000
    doc = chain(node("in", "Input", shape=[4]), node("fc", "Linear", out_features=2, **{key: 1}))
    [error] = analyze(doc, Limits()).errors
    assert error.param is None and len(error.message) < 200


def test_many_unknown_parameters_give_a_few_errors_not_one_each():
    params = {f"k{i}": 0 for i in range(70_000)}  # a 0.9 MB document
    doc = chain(node("in", "Input", shape=[4]), node("fc", "Linear", out_features=2, **params))
    errors = analyze(doc, Limits()).errors
    assert len(errors) == LISTED_IDS + 1
    assert f"{70_000 - LISTED_IDS:,} more keys are not parameters of Linear" in errors[-1].message
    assert summary_bytes(doc) < 3_000


def test_a_flood_of_malformed_nodes_gives_a_bounded_list_of_errors():
    doc = {"format": "netgraph", "version": 1, "nodes": [{"id": i} for i in range(60_000)], "edges": []}
    errors = analyze(doc, Limits()).errors
    assert len(errors) == 101
    assert "more than 100 places" in errors[-1].message
    assert summary_bytes(doc) < 20_000


def test_lists_of_nodes_in_a_message_name_a_few_and_count_the_rest():
    inputs = [node(f"input_{i}", "Input", shape=[4]) for i in range(400)]
    errors = analyze(graph(inputs, []), Limits()).errors
    multiple = [e for e in errors if e.code == "multiple_inputs"]
    assert len(multiple) == 399
    listed = ", ".join(f"input_{i}" for i in range(LISTED_IDS))
    assert f"({listed} and {400 - LISTED_IDS} more)" in multiple[0].message
    assert all(len(e.message) < 300 for e in errors)
