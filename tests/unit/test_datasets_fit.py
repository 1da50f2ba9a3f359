"""Whether a network fits a dataset, and fixes that make it fit."""

import json

import numpy as np
import pytest

from builder.graph import Limits, analyze
from training.datasets import Dataset, check_fit, load_builtin
from training.datasets.fit import apply_fixes

from tests.graphs import chain, example, node


def fit(doc, dataset_info, limits=Limits()):
    return check_fit(analyze(doc, limits), dataset_info)


def info(name, **options):
    return load_builtin(name, **options).info()


def flat_mlp(shape=(4,), classes=3):
    return chain(node("in", "Input", shape=list(shape)), node("flat", "Flatten"),
                 node("fc", "Linear", out_features=16), node("act", "ReLU"),
                 node("out", "Linear", out_features=classes))


def tokens_info():
    return Dataset("tokens", "Token ids", "", np.zeros((4, 6), np.int64), np.array([0, 1, 0, 1]),
                   "classification", ["neg", "pos"], "tokens").info()


def test_a_network_that_fits_has_no_problems_or_fixes():
    assert fit(flat_mlp(), info("iris")) == {"fits": True, "problems": [], "fixes": []}


def test_a_wrong_input_shape_and_class_count_are_fixed():
    result = fit(flat_mlp(), info("digits"))
    assert not result["fits"]
    assert result["problems"] == [
        "the Input 'in' has shape [4], but the samples of Digits (8×8) have shape [1, 8, 8]",
        "with the Input changed, the output node 'out' (Linear) gives shape [3], but Digits (8×8) needs [10]: "
        "one score for each of its 10 classes"]
    assert result["fixes"] == [
        {"node": "in", "param": "shape", "value": [1, 8, 8], "description": "set the Input's shape to [1, 8, 8]"},
        {"node": "out", "param": "out_features", "value": 10, "description": "set out_features of 'out' to 10"}]


def test_a_regression_target_needs_its_own_shape():
    result = fit(flat_mlp(shape=(32, 1)), info("sine"))
    assert result["problems"] == ["the output node 'out' (Linear) gives shape [3], but Sine forecasting needs [1]: "
                                  "the shape of its targets"]
    assert result["fixes"] == [{"node": "out", "param": "out_features", "value": 1,
                                "description": "set out_features of 'out' to 1"}]


@pytest.mark.parametrize("graph, name", [
    (flat_mlp(), "digits"), (flat_mlp(), "sine"), (flat_mlp(shape=(3, 3), classes=7), "spirals"),
    (flat_mlp(), "breast_cancer"), (example("seed_cnn"), "digits"), (example("lstm_classifier"), "sine"),
])
def test_applying_every_fix_makes_the_network_fit(graph, name):
    result = fit(graph, info(name))
    assert not result["fits"] and result["fixes"]
    assert fit(apply_fixes(graph, result["fixes"]), info(name)) == {"fits": True, "problems": [], "fixes": []}


def test_applying_fixes_leaves_the_original_graph_alone():
    graph = flat_mlp()
    apply_fixes(graph, fit(graph, info("digits"))["fixes"])
    assert graph == flat_mlp()


def test_a_token_dataset_needs_an_int64_input():
    graph = chain(node("in", "Input", shape=[6]), node("embed", "Embedding", num_embeddings=100, embedding_dim=8),
                  node("flat", "Flatten"), node("out", "Linear", out_features=2))
    assert not fit(graph, tokens_info())["fits"]  # an Embedding refuses float32, so the graph is invalid
    token_graph = apply_fixes(graph, [{"node": "in", "param": "dtype", "value": "int64"}])
    assert fit(token_graph, tokens_info())["fits"]
    result = fit(flat_mlp(shape=(6,), classes=2), tokens_info())
    assert "the Input 'in' takes float32, but Token ids holds int64 token ids" in result["problems"]
    assert {"node": "in", "param": "dtype", "value": "int64", "description": "set the Input's dtype to int64"} \
        in result["fixes"]


def test_a_float_dataset_needs_a_float32_input():
    result = fit(example("text_classifier"), info("iris"))
    assert "the Input 'tokens' takes int64, but Iris holds float32 values" in result["problems"]
    assert {"node": "tokens", "param": "dtype", "value": "float32",
            "description": "set the Input's dtype to float32"} in result["fixes"]


def test_a_fix_that_breaks_the_network_says_where():
    result = fit(example("seed_cnn"), info("spirals", samples=20))
    assert result["fixes"] == [{"node": "in", "param": "shape", "value": [2],
                                "description": "set the Input's shape to [2]"}]
    assert result["problems"][-1].startswith("with the Input changed to fit Spirals, the network has errors: "
                                             "node 'conv1' (Conv2d)")


def test_an_output_that_is_not_linear_is_a_problem_without_a_fix():
    graph = chain(node("in", "Input", shape=[4]), node("fc", "Linear", out_features=5), node("act", "Softmax"))
    result = fit(graph, info("iris"))
    assert result == {"fits": False, "fixes": [], "problems": [
        "the output node 'act' (Softmax) gives shape [5], but Iris needs [3]: one score for each of its 3 classes"]}


def test_a_linear_output_of_the_wrong_rank_is_not_fixed_by_its_width():
    graph = chain(node("in", "Input", shape=[1, 8, 8]), node("out", "Linear", out_features=10))
    result = fit(graph, info("digits"))
    assert result["fixes"] == [] and "gives shape [1, 8, 10], but Digits (8×8) needs [10]" in result["problems"][0]


def test_an_invalid_network_cannot_fit():
    graph = chain(node("in", "Input", shape=[4]), node("out", "Dense", out_features=3))
    result = fit(graph, info("iris"))
    assert result["fits"] is False and result["fixes"] == []
    assert result["problems"][0].startswith("the network has errors, so its fit to Iris can't be checked: node 'out'")


def test_many_errors_are_summarised():
    graph = chain(node("in", "Input", shape=[4]), *(node(f"n{i}", "Nope") for i in range(5)))
    assert fit(graph, info("iris"))["problems"][0].endswith("; and 2 more")


def test_the_result_is_json():
    result = fit(flat_mlp(), info("digits"))
    assert json.loads(json.dumps(result)) == result


def test_the_graph_is_judged_with_its_input_fixed_under_the_same_limits():
    analysis = analyze(flat_mlp(), Limits(max_params=200))  # 4 → 16 → 3: 131 parameters
    assert analysis.valid
    result = check_fit(analysis, info("digits"))  # an Input of [1, 8, 8] feeds fc 64 values: 1,091 parameters in all
    assert result["fixes"][0]["value"] == [1, 8, 8]
    assert "the network has errors: the model has 1,091 parameters; the limit is 200 parameters " \
           "(GRAPH_MAX_PARAMS)" in result["problems"][-1]
