"""Shape inference is cached by what can change a shape: editing an eps or a dropout rate infers nothing again,
and no parameter marked so can change a shape or a parameter count."""

import pytest

from builder.graph import LAYERS, Limits, analyze
from builder.graph.infer import infer_node

from tests.graphs import example, graph, node

UNSHAPING = [(spec.type, param) for spec in LAYERS.values() for param in spec.params if not param.shaping]
SAMPLE = {1: [12], 2: [6, 12], 3: [4, 12, 12]}


def test_the_registry_marks_the_rates_epsilons_and_starting_scales_as_not_shaping():
    assert {param.name for _, param in UNSHAPING} == {"eps", "momentum", "p", "dropout", "negative_slope", "init"}
    assert [t for t, param in UNSHAPING if param.name == "init"] == ["LayerScale"]


@pytest.mark.parametrize("layer_type, param", UNSHAPING, ids=[f"{t}.{p.name}" for t, p in UNSHAPING])
def test_a_parameter_marked_not_shaping_changes_no_shape_and_no_parameter_count(layer_type, param):
    spec = LAYERS[layer_type]
    shape = SAMPLE[spec.ranks[0] if spec.ranks else 1]
    inputs = max(spec.min_inputs, 1)
    other = param.maximum if param.default != param.maximum else param.minimum

    def analysed(value):
        doc = graph([node("in", "Input", shape=shape), node("layer", layer_type, **{param.name: value}),
                     node("end", "Identity")], [("in", "layer")] * inputs + [("layer", "end")])
        infer_node.cache_clear()  # inferred for real, not taken from the cache this test is about
        analysis = analyze(doc, Limits())
        assert analysis.valid, analysis.errors
        return analysis.shapes["layer"]

    assert analysed(param.default) == analysed(other)


def test_editing_an_eps_reuses_every_inferred_shape():
    doc = example("residual_cnn")
    analyze(doc, Limits())
    before = infer_node.cache_info()
    for n in doc["nodes"]:
        if n["type"].startswith("BatchNorm"):
            n.setdefault("params", {})["eps"] = 0.001
    analyze(doc, Limits())
    assert infer_node.cache_info().misses == before.misses
