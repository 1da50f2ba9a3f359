"""Format version 2: every graph saved in version 1 opens, validates and trains unchanged."""

import copy
import json
from pathlib import Path

import pytest
import torch

from builder.graph import CURRENT_VERSION, Limits, analyze, compile_graph, generate_source, upgrade
from builder.graph.errors import ErrorCode
from builder.graph.examples import EXAMPLES

from tests.graphs import node

STORED = Path(__file__).resolve().parents[1] / "data" / "v1"  # the examples as version 1 saved them


def stored(slug):
    doc = json.loads((STORED / f"{slug}.json").read_text())
    assert doc["version"] == 1
    return doc


def v1(nodes, edges):
    return {"format": "netgraph", "version": 1, "name": "old", "nodes": nodes,
            "edges": [{"source": s, "target": t} for s, t in edges]}


def outputs_of(doc, x):
    analysis = analyze(doc, Limits())
    torch.manual_seed(0)
    model = compile_graph(analysis).eval()
    with torch.no_grad():
        return analysis, model, model(x)


@pytest.mark.parametrize("slug", sorted(EXAMPLES))
def test_every_stored_version_1_example_validates_and_computes_as_the_current_example(slug):
    old, current = analyze(stored(slug), Limits()), analyze(copy.deepcopy(EXAMPLES[slug]["graph"]), Limits())
    assert old.valid and old.warnings == [], old.errors
    assert old.doc["version"] == CURRENT_VERSION
    assert old.total_params == current.total_params
    assert old.shapes[old.output_node].shape == current.shapes[current.output_node].shape
    assert generate_source(old) == generate_source(current)  # the same model, line for line


def test_a_version_1_lstm_classifier_still_classifies_from_its_final_state():
    doc = stored("lstm_classifier")
    analysis = analyze(doc, Limits())
    assert analysis.total_params == 895_498
    torch.manual_seed(0)
    model = compile_graph(analysis).eval()
    x = torch.randn(3, 28, 100)
    with torch.no_grad():
        assert torch.equal(model(x), model.out(model.lstm(x)[1][0][-1]))


def test_a_version_1_sequence_output_stays_the_sequence():
    doc = v1([node("in", "Input", shape=[6, 4]), node("rnn", "GRU", hidden_size=5, output="sequence"),
              node("fc", "Linear", out_features=2)], [("in", "rnn"), ("rnn", "fc")])
    analysis, model, y = outputs_of(doc, torch.randn(2, 6, 4))
    assert analysis.valid and "output" not in analysis.doc["nodes"][1]["params"]
    assert analysis.doc["edges"][1] == {"source": "rnn", "target": "fc"}
    assert y.shape == (2, 6, 2)


def test_a_version_1_recurrent_layer_that_ended_the_graph_gets_an_identity_on_its_state():
    doc = v1([node("in", "Input", shape=[6, 4]), node("lstm", "LSTM", hidden_size=5),
              {"id": "lstm_state", "type": "ReLU"}],  # the id the migration would take is in use
             [("in", "lstm")])
    doc["nodes"] = doc["nodes"][:2]
    doc["nodes"][1]["position"] = {"x": 10, "y": 20}
    analysis, model, y = outputs_of(doc, torch.randn(2, 6, 4))
    assert analysis.valid, analysis.errors
    added = analysis.doc["nodes"][-1]
    assert added == {"id": "lstm_state", "type": "Identity", "position": {"x": 10, "y": 120}}
    assert analysis.doc["edges"][-1] == {"source": "lstm", "target": "lstm_state", "output": 1}
    assert y.shape == (2, 5)
    clash = v1([node("in", "Input", shape=[6, 4]), node("lstm", "LSTM", hidden_size=5),
                node("lstm_state", "ReLU")], [("in", "lstm"), ("in", "lstm_state")])
    names = [n["id"] for n in analyze(clash, Limits()).doc["nodes"]]
    assert names == ["in", "lstm", "lstm_state", "lstm_state2"]


def test_the_migration_leaves_the_document_it_was_given_unchanged():
    doc = stored("text_classifier")
    before = copy.deepcopy(doc)
    upgraded = upgrade(doc)
    assert doc == before and upgraded is not doc and upgraded["version"] == 2
    assert upgrade(upgraded) is upgraded  # a current document is returned as it is


@pytest.mark.parametrize("broken", [
    {"format": "netgraph", "version": 1, "nodes": "many", "edges": []},
    {"format": "netgraph", "version": 1, "nodes": [7, None, {"type": "LSTM"}, {"id": "x", "type": "LSTM", "params": 3}],
     "edges": ["e", {"source": 1}]},
    {"format": "netgraph", "version": 1, "nodes": [{"id": "r", "type": "RNN", "params": {"output": 5},
                                                    "position": {"x": "a", "y": []}}], "edges": []},
    {"format": "netgraph", "version": 1, "nodes": [{"id": "r", "type": "RNN", "position": {"x": "a", "y": 1}}],
     "edges": [{"source": "r", "target": "r", "output": "x"}]},
    {"format": "netgraph", "version": 1, "nodes": [{"id": ["x"], "type": ["LSTM"], "params": {}}],
     "edges": [{"source": {"a": 1}, "target": "x"}]},  # ids that are not strings (the API fuzz found a 500)
])
def test_a_malformed_version_1_document_gets_errors_not_a_crash(broken):
    analysis = analyze(broken, Limits())
    assert not analysis.valid and all(e.message for e in analysis.errors)


@pytest.mark.parametrize("version, says", [(3, "version 3 is newer"), (0, "version 0 does not exist"),
                                           (-5, "version -5 does not exist")])
def test_a_version_that_is_not_one_of_ours_is_refused_by_name(version, says):
    analysis = analyze({"format": "netgraph", "version": version, "nodes": [], "edges": []}, Limits())
    [error] = analysis.errors
    assert error.code == ErrorCode.UNSUPPORTED_VERSION and says in error.message
