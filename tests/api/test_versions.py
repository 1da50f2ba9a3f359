"""Every save of a network is an immutable version with its time and message; runs point at the version
they trained; the number of versions is limited; and the migration gives existing runs their versions."""

import json
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from builder.models import Network, NetworkVersion
from training.models import Run

from tests.graphs import example

pytestmark = pytest.mark.django_db


def patch(client, network_id, body):
    return client.patch(f"/api/networks/{network_id}", json.dumps(body), content_type="application/json")


def wider(graph: dict, units: int) -> dict:
    changed = json.loads(json.dumps(graph))
    next(n for n in changed["nodes"] if n["id"] == "fc1")["params"]["out_features"] = units
    return changed


def test_each_save_keeps_an_immutable_version_with_its_message(ada, user):
    graph = example("digits_cnn")
    created = ada.post("/api/networks", json.dumps({"name": "cnn", "graph": graph, "message": "first try"}),
                       content_type="application/json").json()
    assert patch(ada, created["id"], {"graph": wider(graph, 48), "message": "wider"}).json()["version"] == 2
    versions = ada.get(f"/api/networks/{created['id']}/versions").json()
    assert [(v["number"], v["message"]) for v in versions] == [(1, "first try"), (2, "wider")]
    assert all(v["created"] for v in versions)
    first = ada.get(f"/api/networks/{created['id']}/versions/1").json()
    assert first["graph"] == graph  # the later save changed nothing of version 1


def test_a_run_trains_the_version_it_was_created_from(ada, user):
    network = Network.create(user, "cnn", example("digits_cnn"))
    network.save_graph(wider(example("digits_cnn"), 48), "wider")
    body = ada.post("/api/runs", json.dumps({"network_id": network.pk, "version": 1, "dataset": "digits",
                                             "config": {"epochs": 1}}), content_type="application/json").json()
    run = Run.objects.get(pk=body["id"])
    assert body["network_version"] == 1 and run.version.number == 1 and run.graph == example("digits_cnn")
    network.save_graph(wider(example("digits_cnn"), 32))
    run.refresh_from_db()
    assert run.graph == example("digits_cnn")  # later saves never change what a run trained


def test_a_network_has_a_limited_number_of_versions(ada, user, settings):
    settings.NETWORK_MAX_VERSIONS = 2
    network = Network.create(user, "cnn", example("digits_cnn"))
    assert patch(ada, network.pk, {"graph": wider(example("digits_cnn"), 48)}).status_code == 200
    refused = patch(ada, network.pk, {"graph": wider(example("digits_cnn"), 32)})
    assert refused.status_code == 400 and "NETWORK_MAX_VERSIONS" in refused.json()["detail"]
    network.refresh_from_db()
    assert network.version == 2 and network.versions.count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_runs_their_versions():
    before = [("builder", "0001_initial"), ("training", "0003_fair_queue_and_workers")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="ada")
    OldNetwork, OldVersion, OldRun = (old.get_model("builder", "Network"), old.get_model("builder", "NetworkVersion"),
                                      old.get_model("training", "Run"))
    g1, g2, lost = example("digits_cnn"), wider(example("digits_cnn"), 48), wider(example("digits_cnn"), 16)
    kept = OldNetwork.objects.create(owner=user, name="kept", graph=g2, version=2)
    OldVersion.objects.create(network=kept, number=1, graph=g1)
    OldVersion.objects.create(network=kept, number=2, graph=g2)
    bare = OldNetwork.objects.create(owner=user, name="no version rows", graph=g1, version=3)
    common = {"owner": user, "dataset": "digits", "config": {}, "status": "succeeded"}
    on_v1 = OldRun.objects.create(network=kept, network_version=1, graph=g1, **common).pk
    unstored = OldRun.objects.create(network=kept, network_version=2, graph=lost, **common).pk
    on_bare = OldRun.objects.create(network=bare, network_version=3, graph=g1, **common).pk

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert Run.objects.get(pk=on_v1).version == NetworkVersion.objects.get(network_id=kept.pk, number=1)
    recovered = Run.objects.get(pk=unstored).version
    assert recovered.graph == lost and recovered.number == 3 and "trained" in recovered.message
    assert Run.objects.get(pk=on_bare).version.number == 3 and Run.objects.get(pk=on_bare).graph == g1


def test_a_graph_saved_in_format_version_1_opens_upgraded_and_stays_stored_as_saved(ada, user):
    stored = json.loads((Path(__file__).resolve().parents[1] / "data" / "v1" / "text_classifier.json").read_text())
    network = Network.create(user, "old", stored)
    opened = ada.get(f"/api/networks/{network.pk}").json()
    assert opened["graph"] == example("text_classifier") and opened["analysis"]["valid"]
    assert ada.get(f"/api/networks/{network.pk}/versions/1").json()["graph"]["version"] == 2
    assert NetworkVersion.objects.get(network=network).graph == stored  # a version is never rewritten


def test_the_diff_between_two_versions_names_nodes_added_removed_and_changed(ada, user, conforms):
    network = Network.create(user, "cnn", example("seed_cnn"))
    changed = wider(example("seed_cnn"), 64)
    changed["nodes"] = [n for n in changed["nodes"] if n["id"] != "act2"]
    changed["nodes"].append({"id": "drop", "type": "Dropout", "params": {"p": 0.25}})
    changed["edges"] = [e for e in changed["edges"] if "act2" not in (e["source"], e["target"])]
    changed["edges"] += [{"source": "fc1", "target": "drop"}, {"source": "drop", "target": "out"}]
    network.save_graph(changed, "wider, dropout")
    response = ada.get(f"/api/networks/{network.pk}/diff?a=1&b=2")
    assert response.status_code == 200
    diff = conforms(response, "/api/networks/{network_id}/diff", "get")
    assert (diff["a"], diff["b"]) == (1, 2)
    assert diff["added"] == [{"id": "drop", "type": "Dropout"}] and diff["removed"] == [{"id": "act2", "type": "ReLU"}]
    assert diff["changed"] == [{"id": "fc1", "type": None,
                                "params": [{"name": "out_features", "before": 128, "after": 64}]}]
    assert {"source": "fc1", "target": "drop"} in diff["edges_added"]
    assert {"source": "act2", "target": "out"} in diff["edges_removed"]


def test_a_diff_with_a_version_that_does_not_exist_says_which(ada, user):
    network = Network.create(user, "cnn", example("seed_cnn"))
    response = ada.get(f"/api/networks/{network.pk}/diff?a=1&b=7")
    assert response.status_code == 404 and response.json()["detail"] == (
        f"network {network.pk} has no version 7; its newest is version 1")
    for query, bad in (("a=1&b=two", "b"), ("a=99999999999999999999&b=1", "a"), ("a=0&b=1", "a"), ("a=1", "b")):
        refused = ada.get(f"/api/networks/{network.pk}/diff?{query}")
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["query", bad]


def test_the_diff_of_another_users_network_is_not_found(mallory, user):
    network = Network.create(user, "cnn", example("seed_cnn"))
    response = mallory.get(f"/api/networks/{network.pk}/diff?a=1&b=1")
    assert response.status_code == 404 and "version" not in response.json()["detail"]
