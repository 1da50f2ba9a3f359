"""Fine-tuning: a node marked "trainable": false keeps its weights while the rest of the network trains."""

import torch

from builder.graph import Limits, analyze
from training.config import check_config
from training.datasets import load_dataset
from training.engine import Trainer, build_model

from tests.graphs import chain, node


def test_a_frozen_node_keeps_its_weights_and_the_counts_say_so():
    conv = {**node("conv", "Conv2d", out_channels=4, padding=1), "trainable": False}
    doc = chain(node("in", "Input", shape=[1, 8, 8]), conv, node("relu", "ReLU"), node("flat", "Flatten"),
                node("fc", "Linear", out_features=10))
    analysis = analyze(doc, Limits())
    summary = analysis.summary()
    assert summary["frozen_params"] == 40 and summary["trainable_params"] == 2_570
    assert summary["total_params"] == 2_610
    model = build_model(analysis, 0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = check_config({"epochs": 2, "optimizer": "adamw", "weight_decay": 0.1})
    Trainer(model, load_dataset("digits"), config).run()
    after = model.state_dict()
    assert all(torch.equal(after[k], before[k]) for k in ("conv.weight", "conv.bias"))
    assert not torch.equal(after["fc.weight"], before["fc.weight"])


def test_a_node_without_weights_is_not_counted_as_frozen():
    relu = {**node("relu", "ReLU"), "trainable": False}
    analysis = analyze(chain(node("in", "Input", shape=[4]), relu, node("fc", "Linear", out_features=2)), Limits())
    assert analysis.frozen == [] and analysis.summary()["frozen_params"] == 0
