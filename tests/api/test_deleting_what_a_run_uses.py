"""Deleting a network or an upload that a run in progress uses is refused with the run named; a run's files
go with it, and a new run finds none under its id; a finished run whose upload is gone can be neither resumed
nor forked; and a deletion that meets a write at the same moment (a worker's event, a run being started) is
answered clearly on both sides."""

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

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
from tests.services import own_connection, wait_until

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



@contextmanager
def paused_after(operation: str, table: str):
    """Until `go_on()` is called, a transaction that does `operation` on `table` waits before it commits: its
    row locks are held, so another request can be run against it."""
    with connection.cursor() as cursor:
        cursor.execute(f"""
            CREATE FUNCTION pause() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN PERFORM pg_advisory_xact_lock(4242); RETURN NULL; END $$;
            CREATE TRIGGER pause AFTER {operation} ON {table} FOR EACH STATEMENT EXECUTE FUNCTION pause();
            SELECT pg_advisory_lock(4242)""")

    def go_on():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(4242)")
    try:
        yield go_on
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_advisory_unlock_all(); DROP TRIGGER pause ON {table}; DROP FUNCTION pause()")


def waiting_on(*events: str) -> bool:
    """Whether a session of the test database waits on a lock of one of these kinds (pg_stat_activity's)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event = ANY(%s)", [list(events)])
        return cursor.fetchone()[0] > 0


def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL lets these writes run at once")


@pytest.mark.django_db(transaction=True)
def test_a_run_is_deleted_even_when_its_worker_stores_an_event_meanwhile(user):
    """As when an account is deleted under a training run. The worker's event, stored after the deletion of the
    run's events but before the deletion of the run, made PostgreSQL refuse the whole deletion at commit."""
    postgresql_only()
    run = a_run(user, "running")
    stored, commit = threading.Event(), threading.Event()

    def store_an_event():
        try:
            with transaction.atomic():
                RunEvent.objects.create(run=run, seq=1, kind="epoch", data={"epoch": 1})
                stored.set()
                assert commit.wait(30)
            return "stored"
        except IntegrityError:
            return "refused"  # the worker takes this as its run being gone

    with paused_after("DELETE", "training_runevent") as go_on, ThreadPoolExecutor(max_workers=2) as pool:
        writer = pool.submit(own_connection(store_an_event))
        assert stored.wait(30)
        deletion = pool.submit(own_connection(lambda: Run.objects.filter(pk=run.pk).delete()[0]))
        wait_until(lambda: waiting_on("advisory"), 30, "the deletion to pause after the run's events went")
        commit.set()
        wait_until(lambda: writer.done() or waiting_on("transactionid"), 30, "the worker's commit")
        go_on()
        assert deletion.result(timeout=30) >= 1
        assert writer.result(timeout=30) == "refused"
    assert not Run.objects.filter(pk=run.pk).exists() and not RunEvent.objects.filter(run_id=run.pk).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["deletion", "run"])
def test_a_run_started_while_its_network_is_deleted_gets_a_clear_answer(user, client_of, first):
    """Whichever comes first, the other is refused with a reason, never a 500: a network in training is not
    deleted, and a deleted network starts no run."""
    postgresql_only()
    network = Network.create(user, "cnn", example("digits_cnn"))
    deleting, starting = client_of(user), client_of(user)

    def delete():
        return deleting.delete(f"/api/networks/{network.pk}")

    def start():
        return post(starting, "/api/runs", {"network_id": network.pk, "dataset": "digits"})

    paused, then = (delete, start) if first == "deletion" else (start, delete)
    table, operation = ("builder_network", "DELETE") if first == "deletion" else ("training_run", "INSERT")
    with paused_after(operation, table) as go_on, ThreadPoolExecutor(max_workers=2) as pool:
        earlier = pool.submit(own_connection(paused))
        wait_until(lambda: waiting_on("advisory"), 30, f"the {first} to pause before its commit")
        later = pool.submit(own_connection(then))
        wait_until(lambda: later.done() or waiting_on("transactionid", "tuple"), 30, "the second request")
        go_on()
        earlier, later = earlier.result(timeout=30), later.result(timeout=30)
    assert earlier.status_code in (201, 204), earlier.content
    if first == "deletion":
        assert later.status_code == 404 and later.json()["detail"] == "the network was deleted meanwhile"
        assert not Network.objects.filter(pk=network.pk).exists() and not Run.objects.exists()
    else:
        assert later.status_code == 409 and f"run {earlier.json()['id']} of network" in later.json()["detail"]
        assert Run.objects.filter(network=network).count() == 1
