"""Deleting a network or an upload that a run in progress uses is refused with the run named; a run's files
go with it; and a finished run whose upload is gone can be neither resumed nor forked."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from builder.models import Network
from training.config import check_config
from training.models import Run, UploadedDataset

from tests.graphs import example

pytestmark = pytest.mark.django_db

CSV = "a,b,label\n" + "".join(f"{i % 7},{i % 3},{'x' if i % 2 else 'y'}\n" for i in range(40))


def a_run(user, status, dataset="digits", network=None):
    network = network or Network.create(user, "cnn", example("digits_cnn"))
    return Run.objects.create(owner=user, network=network, version=network.current_version(), dataset=dataset,
                              config=check_config({"epochs": 2}), status=status)


def an_upload(client) -> str:
    response = client.post("/api/datasets", {"file": SimpleUploadedFile("points.csv", CSV.encode()),
                                             "target": "label"})
    assert response.status_code == 201, response.content
    return response.json()["key"]


@pytest.mark.parametrize("status", ["queued", "running"])
def test_a_network_with_a_run_in_progress_is_not_deleted(ada, user, status):
    run = a_run(user, status)
    response = ada.delete(f"/api/networks/{run.network_id}")
    assert response.status_code == 409 and f"run {run.pk}" in response.json()["detail"]
    assert Network.objects.filter(pk=run.network_id).exists() and Run.objects.filter(pk=run.pk).exists()


def test_a_deleted_network_takes_its_runs_and_their_files(ada, user):
    run = a_run(user, "succeeded")
    checkpoint = default_storage.save(run.checkpoint_path(1), ContentFile(b"weights"))
    assert ada.delete(f"/api/networks/{run.network_id}").status_code == 204
    assert not Run.objects.filter(pk=run.pk).exists()
    assert not default_storage.exists(checkpoint) and not default_storage.exists(run.storage_path(""))


def test_an_upload_a_run_trains_on_is_not_deleted(ada, user):
    key = an_upload(ada)
    run = a_run(user, "running", dataset=key)
    response = ada.delete(f"/api/datasets/{key}")
    assert response.status_code == 409 and f"run {run.pk}" in response.json()["detail"]
    assert UploadedDataset.objects.filter(pk=int(key.removeprefix("upload-"))).exists()


def test_a_run_whose_upload_is_gone_is_neither_resumed_nor_forked(ada, user):
    key = an_upload(ada)
    stored = UploadedDataset.objects.get(pk=int(key.removeprefix("upload-"))).file.name
    run = a_run(user, "failed", dataset=key)
    assert ada.delete(f"/api/datasets/{key}").status_code == 204
    assert not default_storage.exists(stored)  # the file goes with its row
    for action in ("resume", "fork"):
        response = ada.post(f"/api/runs/{run.pk}/{action}", "{}", content_type="application/json")
        assert response.status_code == 400, response.content
        assert f"'{key}', which was deleted" in response.json()["detail"]
    assert Run.objects.get(pk=run.pk).status == "failed"
