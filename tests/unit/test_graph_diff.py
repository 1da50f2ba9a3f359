"""The architecture diff between two graph documents: nodes matched by id, parameters compared with their
defaults filled in, edges compared field by field."""

from builder.graph.diff import diff_graphs

from tests.graphs import chain, example, graph, node


def test_it_finds_nothing_between_a_graph_and_itself_moved_and_relabelled():
    before = example("seed_cnn")
    after = example("seed_cnn")
    for i, item in enumerate(after["nodes"]):
        item["position"] = {"x": i, "y": 3 * i}
        item["label"] = f"layer {i}"
    assert diff_graphs(before, after) == {"added": [], "removed": [], "changed": [], "edges_added": [],
                                          "edges_removed": []}


def test_it_lists_added_and_removed_nodes_and_their_edges():
    before = chain(node("in", "Input", shape=[4]), node("fc", "Linear"), node("out", "Linear"))
    after = chain(node("in", "Input", shape=[4]), node("fc", "Linear"), node("act", "ReLU"), node("out", "Linear"))
    diff = diff_graphs(before, after)
    assert diff["added"] == [{"id": "act", "type": "ReLU"}] and diff["removed"] == [] and diff["changed"] == []
    assert diff["edges_added"] == [{"source": "fc", "target": "act"}, {"source": "act", "target": "out"}]
    assert diff["edges_removed"] == [{"source": "fc", "target": "out"}]
    backwards = diff_graphs(after, before)
    assert backwards["removed"] == [{"id": "act", "type": "ReLU"}] and backwards["added"] == []


def test_it_names_each_changed_parameter_with_both_values():
    before = chain(node("in", "Input", shape=[4]), node("fc", "Linear", out_features=64, bias=False))
    after = chain(node("in", "Input", shape=[4]), node("fc", "Linear", out_features=32))
    assert diff_graphs(before, after)["changed"] == [{"id": "fc", "type": None, "params": [
        {"name": "out_features", "before": 64, "after": 32}, {"name": "bias", "before": False, "after": True}]}]


def test_it_sees_no_change_in_a_parameter_written_out_at_its_default():
    before = chain(node("in", "Input", shape=[4]), node("drop", "Dropout"))
    after = chain(node("in", "Input", shape=[4]), node("drop", "Dropout", p=0.5))
    assert diff_graphs(before, after)["changed"] == []


def test_it_reports_a_changed_type_with_the_parameters_that_differ():
    before = chain(node("in", "Input", shape=[4]), node("act", "ReLU"))
    after = chain(node("in", "Input", shape=[4]), node("act", "LeakyReLU"))
    [change] = diff_graphs(before, after)["changed"]
    assert change["id"] == "act" and change["type"] == ["ReLU", "LeakyReLU"]
    assert {param["name"] for param in change["params"]} == {"negative_slope"}


def test_it_counts_an_edge_moved_to_another_port_as_removed_and_added():
    nodes = [node("in", "Input", shape=[4]), node("a", "ReLU"), node("cat", "Concat")]
    before = graph(nodes, [("in", "a"), ("in", "cat"), ("a", "cat")])
    after = graph(nodes, [("in", "a"), ("in", "cat"), ("a", "cat")])
    after["edges"][2]["port"] = 0
    diff = diff_graphs(before, after)
    assert diff["edges_removed"] == [{"source": "a", "target": "cat"}]
    assert diff["edges_added"] == [{"source": "a", "target": "cat", "port": 0}]


def test_it_skips_malformed_nodes_and_edges_of_a_draft():
    draft = {"format": "netgraph", "version": 1, "nodes": [{"id": "in", "type": "Input"}, {"type": "ReLU"}, 7],
             "edges": [{"source": "in"}, "x"]}
    diff = diff_graphs(draft, example("seed_cnn"))
    assert [node["id"] for node in diff["added"]] == ["conv1", "act1", "pool1", "flat", "fc1", "act2", "out"]
    assert diff["removed"] == [] and diff_graphs(None, draft)["added"] == [{"id": "in", "type": "Input"}]
