"""Layer statistics while a network trains: every node's output, gradient and update, recorded without
changing the training; a loss that stops being finite names its node; each epoch has a confusion matrix."""

import pytest
import torch

from builder.graph import Limits, analyze
from training.config import check_config
from training.datasets import load_dataset
from training.engine import Hooks, NonFiniteLoss, Trainer, build_model
from training.insight import BINS, LayerStats, warnings

from tests.graphs import chain, node


class Recorder(Hooks):
    def __init__(self):
        self.events = []

    def emit(self, kind, data):
        self.events.append((kind, data))

    def of(self, kind):
        return [data for k, data in self.events if k == kind]


def small_cnn():
    return chain(node("in", "Input", shape=[1, 8, 8]), node("conv", "Conv2d", out_channels=8, padding=1),
                 node("bn", "BatchNorm2d"), node("relu", "ReLU"), node("drop", "Dropout", p=0.3),
                 node("flat", "Flatten"), node("fc", "Linear", out_features=10))


def train(doc, epochs=2, **config):
    analysis = analyze(doc, Limits())
    model = build_model(analysis, 0)
    hooks = Recorder()
    config = check_config({"epochs": epochs, "batch_size": 32, **config})
    result = Trainer(model, load_dataset("digits"), config, hooks, LayerStats(model, analysis)).run()
    return result, hooks


def test_each_record_describes_every_node_its_gradients_and_its_updates():
    result, hooks = train(small_cnn())
    records = hooks.of("layer_stats")
    assert len(records) >= 2 and [r["step"] for r in records] == sorted(r["step"] for r in records)
    nodes = records[-1]["nodes"]
    assert set(nodes) == {"in", "conv", "bn", "relu", "drop", "flat", "fc"}
    for stats in nodes.values():
        assert len(stats["histogram"]) == BINS and stats["min"] <= stats["mean"] <= stats["max"]
        assert stats["std"] >= 0
    assert nodes["in"]["min"] == 0 and nodes["relu"]["min"] == 0  # digits scaled to [0, 1]; a ReLU's output
    assert 0 <= nodes["relu"]["dead"] <= 1 and "dead" not in nodes["conv"]
    for trained in ("conv", "bn", "fc"):
        assert nodes[trained]["grad_norm"] > 0 and 0 < nodes[trained]["update_ratio"] < 1
    assert "grad_norm" not in nodes["relu"]


def test_recording_statistics_changes_nothing_of_the_training():
    with_stats, _ = train(small_cnn(), layer_stats=True)
    without, hooks = train(small_cnn(), layer_stats=False)
    assert hooks.of("layer_stats") == []
    assert [e["train_loss"] for e in with_stats.history] == [e["train_loss"] for e in without.history]
    assert [e["val_loss"] for e in with_stats.history] == [e["val_loss"] for e in without.history]


def test_a_loss_that_is_not_finite_stops_the_run_naming_the_first_node_whose_output_is_not():
    doc = chain(node("in", "Input", shape=[1, 8, 8]), node("flat", "Flatten"),
                node("hidden", "Linear", out_features=16), node("act", "Tanh"), node("fc", "Linear", out_features=10))
    analysis = analyze(doc, Limits())
    model = build_model(analysis, 0)
    with torch.no_grad():
        model.hidden.weight[3, 5] = float("inf")
    config = check_config({"epochs": 1, "batch_size": 32})
    with pytest.raises(NonFiniteLoss) as error:
        Trainer(model, load_dataset("digits"), config, Recorder(), LayerStats(model, analysis)).run()
    assert "node 'hidden' is the first whose output is not finite" in str(error.value)
    assert "at epoch 1, step" in str(error.value)


def test_each_epoch_has_a_confusion_matrix_that_agrees_with_the_accuracy():
    result, hooks = train(small_cnn(), epochs=1, layer_stats=False)
    [epoch] = hooks.of("epoch")
    matrix = torch.tensor(epoch["confusion"])
    assert matrix.shape == (10, 10)
    assert matrix.trace().item() / matrix.sum().item() == pytest.approx(epoch["val_accuracy"])
    assert matrix.sum().item() == round(len(load_dataset("digits").X) * 0.2)


def test_mostly_dead_relus_and_vanishing_gradients_are_warned_about_on_their_node():
    found = warnings({"relu": {"dead": 0.75}, "conv": {"grad_norm": 1e-9}, "fc": {"grad_norm": 0.1},
                      "blowup": {"grad_norm": 1e5}})
    assert set(found) == {"relu", "conv", "blowup"}
    assert "75% of its units" in found["relu"] and "vanishes" in found["conv"] and "explodes" in found["blowup"]
