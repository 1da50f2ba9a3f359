"""Runs in trouble, with a real worker: a run deleted under its worker stops it at once, users take turns
for one worker slot, the per-user cap holds under concurrent requests, and a run whose worker process dies
is taken up again by the redelivered task and finishes from its last checkpoint."""

from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest
from django.core.files.storage import default_storage

from builder.models import Network
from training.models import Run, RunEvent

from tests.graphs import example
from tests.live.runs import post, start, wait_for
from tests.services import own_connection, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ada(ada, worker):
    return ada


def test_a_worker_whose_run_is_deleted_stops_within_seconds_and_keeps_no_files(ada):
    doomed = start(ada, epochs=500)
    wait_until(lambda: RunEvent.objects.filter(run_id=doomed["id"], kind="epoch").exists(), 60, "a first epoch")
    Run.objects.filter(pk=doomed["id"]).delete()  # as when its owner's account is deleted
    following = start(ada, epochs=1)
    wait_for(ada, following["id"], ["running", "succeeded"], timeout=20)  # the one worker slot was freed
    wait_until(lambda: not default_storage.exists(f"runs/{doomed['id']}"), 20, "the deleted run's files to go")


def test_users_take_turns_for_one_worker_slot(ada, mallory):
    first = start(ada, epochs=500)
    wait_for(ada, first["id"], ["running"], timeout=60)
    adas = [start(ada, epochs=1) for _ in range(3)]
    malloys = start(mallory, epochs=1)
    assert ada.get(f"/api/runs/{adas[0]['id']}").json()["queue_position"] == 2
    assert mallory.get(f"/api/runs/{malloys['id']}").json()["queue_position"] == 1  # Ada just had her turn
    post(ada, f"/api/runs/{first['id']}/cancel")
    wait_for(mallory, malloys["id"], ["running", "succeeded"], timeout=30)
    assert all(ada.get(f"/api/runs/{r['id']}").json()["status"] == "queued" for r in adas[1:])


def test_the_per_user_cap_holds_under_fifty_concurrent_requests(user, client_of, settings):
    network = Network.create(user, "cnn", example("digits_cnn"))
    clients = [client_of(user) for _ in range(50)]

    @own_connection
    def create(client):
        return post(client, "/api/runs", {"network_id": network.pk, "dataset": "digits",
                                           "config": {"epochs": 500}}).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(create, clients))
    assert answers.count(201) == settings.RUNS_MAX_ACTIVE_PER_USER
    assert set(answers) == {201, 429}
    assert Run.objects.filter(owner=user).count() == settings.RUNS_MAX_ACTIVE_PER_USER


def test_a_run_whose_worker_process_dies_is_taken_up_again_from_its_checkpoint(ada, worker):
    run = start(ada, epochs=30, optimizer="sgd", lr=0.05)
    # A generous deadline: the one worker may first have to let go of a run an earlier test left behind.
    wait_until(lambda: Run.objects.get(pk=run["id"]).epochs_done >= 3, 180, "three epochs")
    pool = psutil.Process(worker.proc.pid).children(recursive=True)
    assert pool, "the worker has a pool process"
    for child in pool:
        child.kill()  # the pool process dies; Celery requeues its late-acked task
    wait_for(ada, run["id"], ["succeeded"], timeout=180)
    epochs = [e.data["epoch"] for e in RunEvent.objects.filter(run_id=run["id"], kind="epoch")]
    assert epochs[-1] == 30 and sorted(set(epochs)) == list(range(1, 31))
    assert epochs.count(1) == 1  # it continued from a checkpoint, not from the start
