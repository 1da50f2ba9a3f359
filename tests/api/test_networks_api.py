"""Saved networks through the API: a version per save, owner-scoped, exported as code, true to the OpenAPI document."""

import json

import pytest

from builder.models import Network

from tests.graphs import example, mlp
from tests.http import post

pytestmark = pytest.mark.django_db


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def test_a_network_is_saved_with_a_version_per_save(ada, conforms):
    created = conforms(post(ada, "/api/networks", {"name": "Seed", "graph": example("seed_cnn")}),
                       "/api/networks", "post")
    assert created["version"] == 1 and created["analysis"]["total_params"] == 693_962
    url = f"/api/networks/{created['id']}"
    edited = example("seed_cnn")
    edited["nodes"][5]["params"]["out_features"] = 64
    saved = conforms(patch(ada, url, {"graph": edited, "base_version": 1}), "/api/networks/{network_id}", "patch")
    assert saved["version"] == 2 and saved["analysis"]["nodes"]["fc1"]["output_shape"] == [64]
    renamed = patch(ada, url, {"name": "Seed, smaller"}).json()
    assert renamed["name"] == "Seed, smaller" and renamed["version"] == 2

    versions = conforms(ada.get(f"{url}/versions"), "/api/networks/{network_id}/versions", "get")
    assert [v["number"] for v in versions] == [1, 2]
    first = conforms(ada.get(f"{url}/versions/1"), "/api/networks/{network_id}/versions/{number}", "get")
    assert first["graph"] == example("seed_cnn")
    listed = conforms(ada.get("/api/networks"), "/api/networks", "get")
    assert [n["name"] for n in listed] == ["Seed, smaller"]

    assert ada.delete(url).status_code == 204
    assert ada.get(url).status_code == 404


def test_a_graph_with_errors_can_be_saved_while_work_is_in_progress(ada):
    doc = mlp()
    doc["nodes"].append({"id": "dangling", "type": "ReLU"})
    body = post(ada, "/api/networks", {"name": "wip", "graph": doc}).json()
    assert body["version"] == 1 and not body["analysis"]["valid"]


def test_a_document_that_is_not_a_graph_is_refused_and_the_saved_one_stays(ada, conforms):
    network = post(ada, "/api/networks", {"name": "keep", "graph": mlp()}).json()
    url = f"/api/networks/{network['id']}"
    response = patch(ada, url, {"graph": {"format": "keras", "layers": []}})
    body = conforms(response, "/api/networks/{network_id}", "patch")
    assert response.status_code == 400 and any("'nodes' is a required property" in e["message"]
                                                for e in body["errors"])
    assert ada.get(url).json()["graph"] == mlp() and Network.objects.get().version == 1


def test_saving_over_a_newer_version_is_refused(ada, conforms):
    network = post(ada, "/api/networks", {"name": "n", "graph": mlp()}).json()
    url = f"/api/networks/{network['id']}"
    patch(ada, url, {"graph": mlp(width=8), "base_version": 1})
    response = patch(ada, url, {"graph": mlp(width=4), "base_version": 1})
    assert response.status_code == 409 and "version 2" in response.json()["detail"]
    assert ada.get(url).json()["graph"] == mlp(width=8)


def test_it_validates_ownership(ada, mallory):
    network = post(ada, "/api/networks", {"name": "mine", "graph": mlp()}).json()
    url = f"/api/networks/{network['id']}"
    for response in (mallory.get(url), mallory.get(f"{url}/versions"), mallory.get(f"{url}/versions/1"),
                     mallory.get(f"{url}/export"), patch(mallory, url, {"name": "stolen"}), mallory.delete(url)):
        assert response.status_code == 404
    missing = mallory.get("/api/networks/999999")
    assert missing.status_code == 404 and missing.json() == mallory.get(url).json()  # no hint it exists
    assert mallory.get("/api/networks").json() == []
    assert ada.get(url).json()["name"] == "mine"


def test_code_is_exported_for_a_saved_network_and_for_a_posted_graph(ada, conforms):
    network = post(ada, "/api/networks", {"name": "Seed CNN", "graph": example("seed_cnn")}).json()
    exported = conforms(ada.get(f"/api/networks/{network['id']}/export"), "/api/networks/{network_id}/export", "get")
    assert exported["filename"] == "seed_cnn.py" and exported["class_name"] == "SeedCNN"
    assert "self.conv1 = nn.Conv2d(1, 32, kernel_size=3)" in exported["source"]
    assert post(ada, "/api/graphs/export", example("seed_cnn")).json()["source"] == exported["source"]

    broken = example("seed_cnn")
    broken["nodes"][5]["type"] = "Dense"
    response = post(ada, "/api/graphs/export", broken)
    body = conforms(response, "/api/graphs/export", "post")
    assert response.status_code == 400 and body["errors"][0]["node"] == "fc1"
