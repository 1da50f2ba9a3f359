"""Looking inside a model: each node's output drawn small enough to send, the first convolution's filters, the
mistakes a classifier makes, and a classifier of points in the plane telling its decision with every epoch."""

import torch

from builder.graph import Limits, analyze
from training.config import check_config
from training.datasets import load_dataset
from training.engine import Hooks, Trainer, build_model
from training.probing import GRID, MAX_CHANNELS, MAX_SIDE, Inspector, misclassified, rounded

from tests.graphs import chain, example, node


class Recorder(Hooks):
    def __init__(self):
        self.events = []

    def emit(self, kind, data):
        self.events.append((kind, data))


def test_every_node_of_the_seed_cnn_is_drawn_capped_with_its_filters_and_probabilities():
    analysis = analyze(example("seed_cnn"), Limits())
    inspector = Inspector(build_model(analysis, 0), analysis)
    answer = inspector.outputs(torch.rand(1, 28, 28), classification=True)
    nodes = answer["nodes"]
    assert set(nodes) == set(analysis.graph.nodes)
    conv = nodes["conv1"]
    assert conv["kind"] == "maps" and conv["shape"] == [32, 26, 26] and conv["channels"] == 32
    assert len(conv["values"]) == MAX_CHANNELS and len(conv["values"][0]) <= MAX_SIDE
    assert nodes["fc1"]["kind"] == "vector" and len(nodes["fc1"]["values"]) == 128
    assert abs(sum(answer["probabilities"]) - 1) < 1e-3 and len(answer["output"]) == 10
    filters = answer["filters"]
    assert filters["node"] == "conv1" and filters["count"] == 32 and len(filters["values"]) == 16
    assert len(filters["values"][0]) == 3


def test_a_sequence_is_a_heat_map_and_values_are_rounded_and_json_safe():
    analysis = analyze(chain(node("in", "Input", shape=[5, 3]), node("lstm", "LSTM", hidden_size=4)), Limits())
    answer = Inspector(build_model(analysis, 0), analysis).outputs(torch.rand(5, 3), classification=False)
    assert answer["nodes"]["lstm"]["kind"] == "sequence" and answer["nodes"]["lstm"]["shape"] == [5, 4]
    assert "probabilities" not in answer
    assert rounded([1.23456789, float("nan"), float("inf"), 0.0]) == [1.235, None, None, 0.0]


def test_mistakes_come_most_confident_first_and_are_counted():
    model = torch.nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
        model.bias.zero_()
    x = torch.tensor([[3.0, 0.0], [0.0, 1.0], [0.5, 0.0], [0.0, 5.0]])
    y = torch.tensor([1, 1, 1, 0])  # the first, third and fourth are wrong
    wrong, count = misclassified(model, x, y, limit=2)
    assert count == 3 and [w["index"] for w in wrong] == [3, 0]
    assert wrong[0]["predicted"] == 1 and wrong[0]["true"] == 0 and wrong[0]["confidence"] > 0.9


def test_a_classifier_of_points_sends_its_decision_over_the_plane_every_epoch_and_trains_the_same():
    doc = chain(node("in", "Input", shape=[2]), node("fc", "Linear", out_features=16), node("act", "ReLU"),
                node("out", "Linear", out_features=2))
    analysis = analyze(doc, Limits())
    data = load_dataset("moons")
    hooks = Recorder()
    result = Trainer(build_model(analysis, 0), data, check_config({"epochs": 2}), hooks).run()
    epochs = [d for k, d in hooks.events if k == "epoch"]
    boundary = epochs[-1]["boundary"]
    assert len(boundary["x"]) == len(boundary["y"]) == GRID
    assert len(boundary["predicted"]) == GRID and set(sum(boundary["predicted"], [])) <= {0, 1}
    assert min(boundary["x"]) < data.X[:, 0].min() and max(boundary["y"]) > data.X[:, 1].max()
    assert "boundary" not in result.history[-1]  # sent, not kept in the checkpoint's history
    again = Trainer(build_model(analysis, 0), data, check_config({"epochs": 2}), Recorder()).run()
    assert again.history[-1]["train_loss"] == result.history[-1]["train_loss"]


def test_only_a_classifier_of_two_features_gets_a_boundary():
    analysis = analyze(example("digits_cnn"), Limits())
    hooks = Recorder()
    Trainer(build_model(analysis, 0), load_dataset("digits"), check_config({"epochs": 1}), hooks).run()
    assert all("boundary" not in d for k, d in hooks.events if k == "epoch")
