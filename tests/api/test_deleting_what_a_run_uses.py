"""Deleting a network or an upload that a run in progress uses is refused with the run named; a run's files
go with it, and a new run finds none under its id; and a finished run whose upload is gone can be neither resumed
nor forked."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction

from builder.models import Network
from training import storage
from training.config import check_config
from training.models import Run, RunEvent, UploadedDataset

from tests.graphs import example
from tests.http import post
from tests.services import wait_until

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


def test_a_new_run_finds_no_files_that_were_left_under_its_id(ada, user):
    """As after a database restored from a backup: the storage still holds files of ids the database gives again."""
    network = Network.create(user, "cnn", example("digits_cnn"))
    first = post(ada, "/api/runs", {"network_id": network.pk, "dataset": "digits"}).json()["id"]
    for stale in range(first + 1, first + 4):
        default_storage.save(f"runs/{stale}/checkpoints/epoch-0003.pt", ContentFile(b"another run's checkpoint"))
    second = Run.objects.get(pk=post(ada, "/api/runs", {"network_id": network.pk, "dataset": "digits"}).json()["id"])
    assert second.pk in range(first + 1, first + 4)
    assert storage.checkpoint_epochs(second) == [] and storage.resume_point(second) is None



PAUSE_AFTER_EVENTS_GO = """
CREATE FUNCTION pause_after_events_go() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN PERFORM pg_advisory_xact_lock(4242); RETURN NULL; END $$;
CREATE TRIGGER pause_after_events_go AFTER DELETE ON training_runevent
    FOR EACH STATEMENT EXECUTE FUNCTION pause_after_events_go();
"""


@pytest.mark.django_db(transaction=True)
def test_a_run_is_deleted_even_when_its_worker_stores_an_event_meanwhile(user):
    """As when an account is deleted under a training run. The worker's event, stored after the deletion of the
    run's events but before the deletion of the run, made PostgreSQL refuse the whole deletion at commit."""
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL lets the worker's write and the deletion run at once")
    run = a_run(user, "running")
    stored, go_on = threading.Event(), threading.Event()

    def store_an_event():
        try:
            with transaction.atomic():
                RunEvent.objects.create(run=run, seq=1, kind="epoch", data={"epoch": 1})
                stored.set()
                assert go_on.wait(30)
            return "stored"
        except IntegrityError:
            return "refused"  # the worker takes this as its run being gone
        finally:
            connection.close()

    def delete_the_run():
        try:
            return Run.objects.filter(pk=run.pk).delete()[0]
        finally:
            connection.close()

    def waiting_on(event: str) -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND wait_event = %s", [event])
            return cursor.fetchone()[0] > 0

    with connection.cursor() as cursor:
        cursor.execute(PAUSE_AFTER_EVENTS_GO)  # the deletion pauses between the run's events and the run
        cursor.execute("SELECT pg_advisory_lock(4242)")
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            writer = pool.submit(store_an_event)
            assert stored.wait(30)
            deletion = pool.submit(delete_the_run)
            wait_until(lambda: waiting_on("advisory"), 30, "the deletion to pause after the run's events went")
            go_on.set()  # the worker commits its event now
            wait_until(lambda: writer.done() or waiting_on("transactionid"), 30, "the worker's commit")
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(4242)")
            assert deletion.result(timeout=30) >= 1
            assert writer.result(timeout=30) == "refused"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all(); DROP TRIGGER pause_after_events_go ON training_runevent; "
                           "DROP FUNCTION pause_after_events_go()")
    assert not Run.objects.filter(pk=run.pk).exists() and not RunEvent.objects.filter(run_id=run.pk).exists()
