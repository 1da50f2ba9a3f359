"""Every save of a network is an immutable version with its time and message; runs point at the version
they trained; the number of versions is limited; and the migration gives existing runs their versions."""

import json

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
