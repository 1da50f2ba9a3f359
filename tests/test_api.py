"""The JSON API: registry, validation, networks and export, owner-scoped, and true to its OpenAPI document."""

import json

import jsonschema
import pytest
from django.contrib.auth.models import User
from django.test import Client
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from builder.models import Network

from .graphs import example, mlp

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return User.objects.create_user("ada", password="correct horse battery")


@pytest.fixture
def api(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def other():
    client = Client()
    client.force_login(User.objects.create_user("mallory", password="correct horse battery"))
    return client


@pytest.fixture(scope="module")
def openapi():
    return Client().get("/api/openapi.json").json()


def conforms(openapi, response, path, method):
    """Assert the response body matches what the OpenAPI document declares for it."""
    pointer = "/".join(["#/paths", path.replace("/", "~1"), method, "responses", str(response.status_code),
                        "content", "application~1json", "schema"])
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(openapi, DRAFT202012))
    validator = jsonschema.Draft202012Validator({"$ref": "urn:openapi" + pointer}, registry=registry)
    validator.validate(response.json())
    return response.json()


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def test_the_layer_registry_is_served_for_the_palette(api):
    layers = {layer["type"]: layer for layer in api.get("/api/layers").json()["layers"]}
    conv = layers["Conv2d"]
    assert conv["category"] == "Convolution" and conv["input_shape"] == "C×H×W"
    assert {p["name"] for p in conv["params"]} >= {"out_channels", "kernel_size", "stride", "padding"}
    assert "in_channels" not in {p["name"] for p in conv["params"]}


def test_validate_gives_each_nodes_shape_and_parameters(api, openapi):
    body = conforms(openapi, post(api, "/api/graphs/validate", example("seed_cnn")), "/api/graphs/validate",
                    "post")
    assert body["valid"] and body["errors"] == []
    assert body["nodes"]["conv1"] == {"type": "Conv2d", "output_shape": [32, 26, 26], "dtype": "float32",
                                      "params": 320}
    assert body["total_params"] == 693_962 and body["output_shape"] == [10]
    assert body["memory"]["batch_size"] == 32


def test_validate_reports_errors_keyed_by_node(api, openapi):
    doc = example("seed_cnn")
    doc["nodes"][1]["params"]["kernel_size"] = 40
    response = post(api, "/api/graphs/validate?batch_size=8", doc)
    body = conforms(openapi, response, "/api/graphs/validate", "post")
    assert response.status_code == 200 and not body["valid"]
    [error] = body["errors"]
    assert error["node"] == "conv1" and error["code"] == "shape" and "[1, 28, 28]" in error["message"]
    assert body["nodes"]["conv1"]["output_shape"] is None and body["nodes"]["in"]["output_shape"] == [1, 28, 28]


@pytest.mark.parametrize("body, words", [
    (b'{"format": "netgraph", "version": 1, "nodes": [], "edges": [], "name": NaN}', "NaN"),
    (b"{oops", "not valid JSON"),
])
def test_unreadable_bodies_get_a_400_that_says_why(api, body, words):
    response = api.post("/api/graphs/validate", body, content_type="application/json")
    assert response.status_code == 400 and words in response.json()["detail"]


def test_every_api_route_needs_a_login():
    anonymous = Client()
    for url in ("/api/layers", "/api/examples", "/api/networks", "/api/networks/1", "/api/graphs/schema"):
        assert anonymous.get(url).status_code == 401, url
    assert post(anonymous, "/api/graphs/validate", mlp()).status_code == 401
    assert anonymous.get("/").status_code == 302  # pages send you to log in


def test_session_writes_need_the_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert post(client, "/api/networks", {"name": "n", "graph": mlp()}).status_code == 403
    client.get("/accounts/login/")  # sets the CSRF cookie, as a page load does
    token = client.cookies["csrftoken"].value
    response = client.post("/api/networks", json.dumps({"name": "n", "graph": mlp()}),
                           content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 201


def test_a_network_is_saved_with_a_version_per_save(api, openapi):
    created = conforms(openapi, post(api, "/api/networks", {"name": "Seed", "graph": example("seed_cnn")}),
                       "/api/networks", "post")
    assert created["version"] == 1 and created["analysis"]["total_params"] == 693_962
    url = f"/api/networks/{created['id']}"
    edited = example("seed_cnn")
    edited["nodes"][5]["params"]["out_features"] = 64
    saved = conforms(openapi, patch(api, url, {"graph": edited, "base_version": 1}),
                     "/api/networks/{network_id}", "patch")
    assert saved["version"] == 2 and saved["analysis"]["nodes"]["fc1"]["output_shape"] == [64]
    renamed = patch(api, url, {"name": "Seed, smaller"}).json()
    assert renamed["name"] == "Seed, smaller" and renamed["version"] == 2

    versions = conforms(openapi, api.get(f"{url}/versions"), "/api/networks/{network_id}/versions", "get")
    assert [v["number"] for v in versions] == [1, 2]
    first = conforms(openapi, api.get(f"{url}/versions/1"), "/api/networks/{network_id}/versions/{number}", "get")
    assert first["graph"] == example("seed_cnn")
    listed = conforms(openapi, api.get("/api/networks"), "/api/networks", "get")
    assert [n["name"] for n in listed] == ["Seed, smaller"]

    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_a_graph_with_errors_can_be_saved_while_work_is_in_progress(api):
    doc = mlp()
    doc["nodes"].append({"id": "dangling", "type": "ReLU"})
    body = post(api, "/api/networks", {"name": "wip", "graph": doc}).json()
    assert body["version"] == 1 and not body["analysis"]["valid"]


def test_a_document_that_is_not_a_graph_is_refused_and_the_saved_one_stays(api, openapi):
    network = post(api, "/api/networks", {"name": "keep", "graph": mlp()}).json()
    url = f"/api/networks/{network['id']}"
    response = patch(api, url, {"graph": {"format": "keras", "layers": []}})
    body = conforms(openapi, response, "/api/networks/{network_id}", "patch")
    assert response.status_code == 400 and any("'nodes' is a required property" in e["message"]
                                                for e in body["errors"])
    assert api.get(url).json()["graph"] == mlp() and Network.objects.get().version == 1


def test_saving_over_a_newer_version_is_refused(api, openapi):
    network = post(api, "/api/networks", {"name": "n", "graph": mlp()}).json()
    url = f"/api/networks/{network['id']}"
    patch(api, url, {"graph": mlp(width=8), "base_version": 1})
    response = patch(api, url, {"graph": mlp(width=4), "base_version": 1})
    assert response.status_code == 409 and "version 2" in response.json()["detail"]
    assert api.get(url).json()["graph"] == mlp(width=8)


def test_it_validates_ownership(api, other):
    network = post(api, "/api/networks", {"name": "mine", "graph": mlp()}).json()
    url = f"/api/networks/{network['id']}"
    for response in (other.get(url), other.get(f"{url}/versions"), other.get(f"{url}/versions/1"),
                     other.get(f"{url}/export"), patch(other, url, {"name": "stolen"}), other.delete(url)):
        assert response.status_code == 404
    missing = other.get("/api/networks/999999")
    assert missing.status_code == 404 and missing.json() == other.get(url).json()  # no hint it exists
    assert other.get("/api/networks").json() == []
    assert api.get(url).json()["name"] == "mine"


def test_code_is_exported_for_a_saved_network_and_for_a_posted_graph(api, openapi):
    network = post(api, "/api/networks", {"name": "Seed CNN", "graph": example("seed_cnn")}).json()
    exported = conforms(openapi, api.get(f"/api/networks/{network['id']}/export"),
                        "/api/networks/{network_id}/export", "get")
    assert exported["filename"] == "seed_cnn.py" and exported["class_name"] == "SeedCNN"
    assert "self.conv1 = nn.Conv2d(1, 32, kernel_size=3)" in exported["source"]
    assert post(api, "/api/graphs/export", example("seed_cnn")).json()["source"] == exported["source"]

    broken = example("seed_cnn")
    broken["nodes"][5]["type"] = "Dense"
    response = post(api, "/api/graphs/export", broken)
    body = conforms(openapi, response, "/api/graphs/export", "post")
    assert response.status_code == 400 and body["errors"][0]["node"] == "fc1"


def test_the_openapi_document_describes_every_route(openapi, api):
    documented = {(path, method) for path, ops in openapi["paths"].items() for method in ops}
    expected = {("/api/layers", "get"), ("/api/graphs/schema", "get"), ("/api/examples", "get"),
                ("/api/graphs/validate", "post"), ("/api/graphs/export", "post"), ("/api/networks", "get"),
                ("/api/networks", "post"), ("/api/networks/{network_id}", "get"),
                ("/api/networks/{network_id}", "patch"), ("/api/networks/{network_id}", "delete"),
                ("/api/networks/{network_id}/versions", "get"),
                ("/api/networks/{network_id}/versions/{number}", "get"),
                ("/api/networks/{network_id}/export", "get"),
                ("/api/datasets", "get"), ("/api/datasets", "post"), ("/api/datasets/{key}", "get"),
                ("/api/datasets/{key}", "delete"), ("/api/datasets/{key}/fit", "post"),
                ("/api/training/config", "get"), ("/api/runs", "get"), ("/api/runs", "post"),
                ("/api/runs/{run_id}", "get"), ("/api/runs/{run_id}/events", "get"),
                ("/api/runs/{run_id}/cancel", "post"), ("/api/runs/{run_id}/resume", "post"),
                ("/api/runs/{run_id}/checkpoints", "get"), ("/api/runs/{run_id}/fork", "post"),
                ("/api/runs/{run_id}/files/{name}", "get"), ("/api/runs/{run_id}/samples", "get"),
                ("/api/runs/{run_id}/predict", "post"), ("/api/tokens", "get"), ("/api/tokens", "post"),
                ("/api/tokens/{token_id}", "delete"), ("/api/workers", "get")}
    assert documented == expected
    components = openapi["components"]["schemas"]
    assert components["NetGraphParamsConv2d"]["properties"]["out_channels"]["minimum"] == 1
    published = api.get("/api/graphs/schema").json()
    assert published["$defs"]["params"]["LSTM"]["properties"] == components["NetGraphParamsLSTM"]["properties"]
    # The same document: valid against one exactly when valid against the other.
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(openapi, DRAFT202012))
    in_openapi = jsonschema.Draft202012Validator({"$ref": "urn:openapi#/components/schemas/NetGraph"},
                                                 registry=registry)
    bad = example("seed_cnn")
    bad["nodes"][1]["params"]["kernel_size"] = 0
    for doc in (example("seed_cnn"), bad, {"format": "netgraph"}):
        assert in_openapi.is_valid(doc) == jsonschema.Draft202012Validator(published).is_valid(doc)
    examples = conforms(openapi, api.get("/api/examples"), "/api/examples", "get")
    assert [e["slug"] for e in examples] == ["seed_cnn", "lstm_classifier", "residual_cnn", "text_classifier",
                                            "digits_cnn"]


def test_the_api_docs_page_loads_nothing_from_other_hosts(api):
    page = api.get("/api/docs").content.decode()
    assert "/api/openapi.json" in page and "https://" not in page and "http://" not in page
