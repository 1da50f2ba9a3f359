"""Share links: a read-only page of one network version or one finished run, for anyone with the link, that
shows nothing else of its owner's; made, listed and revoked only by the owner."""

import json
import re

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from builder.models import Network
from training.models import Run, RunEvent, ShareLink, UploadedDataset

from tests.graphs import example
from tests.http import post

pytestmark = pytest.mark.django_db


@pytest.fixture
def net(user):
    network = Network.create(user, "Ada's digits net", example("digits_cnn"), message="first try")
    network.save_graph(example("digits_cnn"), "second try")
    return network


@pytest.fixture
def run(user, net):
    run = Run.objects.create(owner=user, network=net, version=net.current_version(), dataset="upload-7",
                             dataset_info={"title": "ada-private-scans.csv", "task": "classification",
                                           "classes": ["a", "b"], "num_classes": 2, "input_shape": [1, 8, 8]},
                             config={"epochs": 2, "lr": 0.003}, status="succeeded", epochs_done=2,
                             best_metrics={"val_accuracy": 0.9}, error="worker ada-laptop: /home/ada/x")
    run.add_event("step", {"losses": [[1, 2.3], [2, 2.1]], "epoch": 1, "step": 2, "steps_per_epoch": 2})
    run.add_event("epoch", {"epoch": 1, "train_loss": 2.0, "train_accuracy": 0.5, "val_accuracy": 0.6})
    run.add_event("log", {"message": "on worker ada-laptop"})
    return run


def share(client, **target):
    response = post(client, "/api/shares", target)
    assert response.status_code == 201, response.content
    return response.json()


def path_of(link):
    return re.sub(r"^https?://[^/]+", "", link["url"])


def test_it_shares_a_version_read_only_with_anyone(ada, net, conforms):
    link = conforms(post(ada, "/api/shares", {"network_id": net.pk, "version": 1}), "/api/shares", "post")
    assert link["kind"] == "version" and link["version"] == 1 and link["run_id"] is None
    page = Client().get(path_of(link))
    assert page.status_code == 200
    shown = page.context["share"]
    assert (shown["name"], shown["version"], shown["message"]) == ("Ada's digits net", 1, "first try")
    assert shown["graph"] == net.versions.get(number=1).graph
    assert "class " in shown["code"]["source"] and shown["run"] is None
    assert page["Referrer-Policy"] == "no-referrer"


def test_it_shares_the_current_version_when_none_is_named(ada, net):
    assert share(ada, network_id=net.pk)["version"] == 2


def test_it_shares_a_finished_run_with_its_curves_and_settings(ada, run):
    link = share(ada, run_id=run.pk)
    assert link["kind"] == "run" and link["run_id"] == run.pk
    shown = Client().get(path_of(link)).context["share"]["run"]
    assert shown["config"] == {"epochs": 2, "lr": 0.003} and shown["best_metrics"] == {"val_accuracy": 0.9}
    assert [e["type"] for e in shown["events"]] == ["step", "epoch"]


def test_a_run_in_progress_cannot_be_shared_yet(ada, run):
    Run.objects.filter(pk=run.pk).update(status="running")
    response = post(ada, "/api/shares", {"run_id": run.pk})
    assert response.status_code == 409 and "finished" in response.json()["detail"]


def test_it_names_what_is_missing_from_a_request(ada, net, run):
    for body in ({}, {"network_id": net.pk, "run_id": run.pk}):
        response = post(ada, "/api/shares", body)
        assert response.status_code == 400 and "network_id" in response.json()["detail"]
    assert post(ada, "/api/shares", {"network_id": net.pk, "version": 9}).status_code == 404


def test_the_shared_page_reveals_nothing_else_of_the_owners(ada, user, net, run):
    other = Network.create(user, "secret-other-network", example("seed_cnn"))
    UploadedDataset.objects.create(owner=user, name="secret-upload", kind="csv", info={},
                                   file=ContentFile(b"a,b\n1,2\n", name="secret.csv"))
    user.email = "ada@example.org"
    user.save()
    page = Client().get(path_of(share(ada, run_id=run.pk)))
    text = page.content.decode()
    for secret in ("ada@example.org", "secret-other-network", "secret-upload", "ada-private-scans",
                   "ada-laptop", "/home/ada", f"/networks/{net.pk}/", f"/networks/{other.pk}/", "/api/", "ws/"):
        assert secret not in text, secret
    assert not re.search(r"\bada\b", text), "the owner's username"
    assert "an uploaded dataset" in text


def test_a_revoked_link_is_a_404_like_a_wrong_one(ada, net):
    link = share(ada, network_id=net.pk)
    assert ada.delete(f"/api/shares/{link['id']}").status_code == 204
    revoked, wrong = Client().get(path_of(link)), Client().get("/s/" + "x" * 43 + "/")
    assert revoked.status_code == wrong.status_code == 404
    assert revoked.content == wrong.content
    assert ada.get("/api/shares").json() == []
    assert ada.delete(f"/api/shares/{link['id']}").status_code == 404


def test_the_token_cannot_be_guessed_and_is_stored_only_as_a_digest(ada, net):
    links = [share(ada, network_id=net.pk) for _ in range(3)]
    tokens = [path_of(link).strip("/").split("/")[-1] for link in links]
    assert len(set(tokens)) == 3 and all(len(token) >= 43 for token in tokens)  # 32 random bytes
    stored = json.dumps(list(ShareLink.objects.values()), default=str)
    assert not any(token in stored for token in tokens)
    assert Client().get(f"/s/{tokens[0][:-1]}/").status_code == 404


def test_it_lists_links_by_network_or_run(ada, net, run):
    by_version, by_run = share(ada, network_id=net.pk), share(ada, run_id=run.pk)
    listed = ada.get(f"/api/shares?network_id={net.pk}").json()
    assert {s["id"] for s in listed} == {by_version["id"], by_run["id"]}
    assert "url" not in listed[0]
    assert [s["id"] for s in ada.get(f"/api/shares?run_id={run.pk}").json()] == [by_run["id"]]


def test_it_validates_ownership_of_what_is_shared(ada, mallory, net, run):
    assert post(mallory, "/api/shares", {"network_id": net.pk}).status_code == 404
    assert post(mallory, "/api/shares", {"run_id": run.pk}).status_code == 404
    link = share(ada, network_id=net.pk)
    assert mallory.get("/api/shares").json() == []
    assert mallory.delete(f"/api/shares/{link['id']}").status_code == 404
    assert Client().get(path_of(link)).status_code == 200


def test_a_disabled_owners_links_open_nothing(ada, user, net):
    link = share(ada, network_id=net.pk)
    user.is_active = False
    user.save()
    assert Client().get(path_of(link)).status_code == 404


def test_the_link_goes_with_what_it_shares(ada, net, run):
    share(ada, run_id=run.pk)
    RunEvent.objects.all().delete()
    run.delete()
    assert not ShareLink.objects.exists()


def test_an_id_too_large_for_the_database_is_refused_plainly(ada):
    huge = 10**30
    for response in (post(ada, "/api/shares", {"network_id": huge}), ada.get(f"/api/shares?run_id={huge}"),
                     ada.delete(f"/api/shares/{huge}")):
        assert response.status_code == 422 and "less than or equal to" in response.content.decode()
