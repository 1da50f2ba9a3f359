"""Nodes with several outputs: each edge names the output it leaves from, the analysis describes every
output, and the exported code computes only the outputs that are used."""

import torch

from builder.graph import Limits, analyze, compile_graph, generate_source
from builder.graph.errors import ErrorCode

from tests.graphs import graph, node

SEQUENCE = node("in", "Input", shape=[6, 8])


def test_an_lstm_passes_on_its_sequence_and_its_state_with_their_layouts():
    doc = graph([SEQUENCE, node("lstm", "LSTM", hidden_size=4), node("fc", "Linear", out_features=3)],
                [("in", "lstm"), ("lstm", "fc", 1)])
    summary = analyze(doc, Limits()).summary()
    assert summary["nodes"]["lstm"]["outputs"] == [
        {"name": "sequence", "shape": [6, 4], "dtype": "float32", "layout": "TF"},
        {"name": "state", "shape": [4], "dtype": "float32", "layout": "F"}]
    assert summary["output_shape"] == [3] and "outputs" not in summary["nodes"]["fc"]


def test_an_edge_from_an_output_its_source_lacks_is_an_error_naming_the_edge_and_node():
    doc = graph([SEQUENCE, node("lstm", "LSTM"), node("fc", "Linear"), node("relu", "ReLU"), node("add", "Add")],
                [("in", "lstm"), ("lstm", "fc", 2), ("in", "relu"), ("relu", "add", 1), ("fc", "add")])
    errors = analyze(doc, Limits()).errors
    assert {(e.code, e.node, e.edge) for e in errors} == {(ErrorCode.NO_SUCH_OUTPUT, "lstm", 1),
                                                         (ErrorCode.NO_SUCH_OUTPUT, "relu", 3)}
    messages = sorted(e.message for e in errors)
    assert "edge 1 (lstm → fc) leaves output 2 of node 'lstm' (LSTM), which has 2 outputs (0 sequence, 1 state)" \
        in messages
    assert "edge 3 (relu → add) leaves output 1 of node 'relu' (ReLU), which has one output" in messages


def test_split_and_chunk_check_their_parts_against_the_axis():
    bad_split = graph([SEQUENCE, node("s", "Split", sizes=[3, 4], dim=-1), node("t", "Tanh")],
                      [("in", "s"), ("s", "t")])
    assert "sizes [3, 4] add up to 7, but dim -1 has size 8" in analyze(bad_split, Limits()).errors[0].message
    bad_chunk = graph([SEQUENCE, node("c", "Chunk", chunks=4), node("t", "Tanh")], [("in", "c"), ("c", "t")])
    assert "chunks (4) must divide the size of dim 0 (6)" in analyze(bad_chunk, Limits()).errors[0].message
    one = graph([SEQUENCE, node("s", "Split", sizes=[6]), node("t", "Tanh")], [("in", "s"), ("s", "t")])
    assert "give at least two" in analyze(one, Limits()).errors[0].message


def test_the_exported_code_computes_only_the_outputs_that_are_used():
    weights = graph([SEQUENCE, node("attn", "MultiheadAttention", num_heads=2), node("w", "Flatten")],
                    [("in", "attn"), ("attn", "w", 1)])
    source = generate_source(analyze(weights, Limits()))
    assert "        _, attn_weights = self.attn(in_, in_, in_)  # [6, 6]" in source
    plain = graph([SEQUENCE, node("attn", "MultiheadAttention", num_heads=2)], [("in", "attn")])
    source = generate_source(analyze(plain, Limits()))
    assert "attn = self.attn(in_, in_, in_, need_weights=False)[0]  # [6, 8]" in source
    state = graph([SEQUENCE, node("gru", "GRU", hidden_size=4), node("fc", "Linear")],
                  [("in", "gru"), ("gru", "fc", 1)])
    source = generate_source(analyze(state, Limits()))
    assert "        _, gru_state = self.gru(in_)\n        gru_state = gru_state[-1]  # [4]\n" in source


def test_output_variables_never_take_another_nodes_name():
    doc = graph([SEQUENCE, node("split", "Split", sizes=[2, 4]), node("split_1", "Tanh"), node("cat", "Concat")],
                [("in", "split"), ("split", "split_1", 1), ("split", "cat", 0), ("split_1", "cat")])
    analysis = analyze(doc, Limits())
    source = generate_source(analysis)
    assert "split, split_1_2 = in_.split([2, 4], dim=1)" in source
    model = compile_graph(analysis)
    x = torch.randn(2, 6, 8)
    assert torch.equal(model(x), torch.cat([x[:, :2], torch.tanh(x[:, 2:])], dim=1))


def test_a_split_with_an_unused_part_still_runs():
    doc = graph([SEQUENCE, node("c", "Chunk", chunks=3), node("t", "Tanh")], [("in", "c"), ("c", "t", 2)])
    source = generate_source(analyze(doc, Limits()))
    assert "_, _, c_2 = in_.chunk(3, dim=1)" in source
