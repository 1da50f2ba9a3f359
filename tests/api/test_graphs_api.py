"""The graph API behind the editor: the layer registry, and validation that answers for every node."""


import pytest

from tests.graphs import example
from tests.http import post

pytestmark = pytest.mark.django_db


def test_the_layer_registry_is_served_for_the_palette(ada):
    layers = {layer["type"]: layer for layer in ada.get("/api/layers").json()["layers"]}
    conv = layers["Conv2d"]
    assert conv["category"] == "Convolution" and conv["input_shape"] == "C×H×W"
    assert {p["name"] for p in conv["params"]} >= {"out_channels", "kernel_size", "stride", "padding"}
    assert "in_channels" not in {p["name"] for p in conv["params"]}


def test_validate_gives_each_nodes_shape_and_parameters(ada, conforms):
    body = conforms(post(ada, "/api/graphs/validate", example("seed_cnn")), "/api/graphs/validate", "post")
    assert body["valid"] and body["errors"] == []
    assert body["nodes"]["conv1"] == {"type": "Conv2d", "output_shape": [32, 26, 26], "dtype": "float32",
                                      "params": 320, "layout": "CHW", "outputs": None}
    assert body["total_params"] == 693_962 and body["output_shape"] == [10] and body["upgraded"] is None
    assert body["memory"]["batch_size"] == 32


def test_validate_reports_errors_keyed_by_node(ada, conforms):
    doc = example("seed_cnn")
    doc["nodes"][1]["params"]["kernel_size"] = 40
    response = post(ada, "/api/graphs/validate?batch_size=8", doc)
    body = conforms(response, "/api/graphs/validate", "post")
    assert response.status_code == 200 and not body["valid"]
    [error] = body["errors"]
    assert error["node"] == "conv1" and error["code"] == "shape" and "[1, 28, 28]" in error["message"]
    assert body["nodes"]["conv1"]["output_shape"] is None and body["nodes"]["in"]["output_shape"] == [1, 28, 28]


@pytest.mark.parametrize("body, words", [
    (b'{"format": "netgraph", "version": 1, "nodes": [], "edges": [], "name": NaN}', "NaN"),
    (b"{oops", "not valid JSON"),
])
def test_unreadable_bodies_get_a_400_that_says_why(ada, body, words):
    response = ada.post("/api/graphs/validate", body, content_type="application/json")
    assert response.status_code == 400 and words in response.json()["detail"]


def test_validate_names_each_output_of_a_multi_output_node_and_upgrades_an_old_document(ada, conforms):
    old = example("lstm_classifier")
    old["version"] = 1
    old["nodes"][1]["params"]["output"] = "last"
    del old["edges"][1]["output"]
    body = conforms(post(ada, "/api/graphs/validate", old), "/api/graphs/validate", "post")
    assert body["valid"], body["errors"]
    assert [(o["name"], o["shape"]) for o in body["nodes"]["lstm"]["outputs"]] == [("sequence", [28, 256]),
                                                                                   ("state", [256])]
    assert body["upgraded"] == example("lstm_classifier")
