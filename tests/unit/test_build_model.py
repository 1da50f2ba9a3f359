"""build_model compiles an analysis the caller already made, with seeded weights."""

import pytest
import torch

from builder.graph import Limits, analyze
from training.engine import build_model

from tests.graphs import mlp, node


def test_a_seed_gives_the_same_weights_and_the_analysis_is_not_redone():
    analysis = analyze(mlp(), Limits())
    first, second = build_model(analysis, 7), build_model(analysis, 7)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    assert not torch.equal(build_model(analysis, 8).fc.weight, first.fc.weight)


def test_an_invalid_analysis_raises_a_value_error_with_its_messages():
    doc = mlp()
    doc["nodes"].append(node("ghost", "Nope"))
    analysis = analyze(doc, Limits(max_params=10))
    with pytest.raises(ValueError) as error:
        build_model(analysis, 0)
    assert str(error.value) == "; ".join(e.message for e in analysis.errors)
    assert "unknown layer type 'Nope'" in str(error.value) and "GRAPH_MAX_PARAMS" in str(error.value)
