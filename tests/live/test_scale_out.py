"""Scale-out: two worker processes on one queue train two runs at once, the third waits with its position,
and the queue is fair between users."""

import json

import pytest

from tests.graphs import example
from tests.services import Worker, stop_leftover_runs, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def second_worker(worker, service_env):
    extra = Worker(service_env)
    extra.start()
    yield extra
    stop_leftover_runs()
    extra.stop()


@pytest.fixture
def newcomer(make_user, client_of):
    """newcomer(name): a new user's logged-in client, and the id of the digits network they saved."""
    def sign_up(name):
        client = client_of(make_user(name))
        network = client.post("/api/networks", json.dumps({"name": "d", "graph": example("digits_cnn")}),
                              content_type="application/json").json()
        return client, network["id"]

    return sign_up


def start(client, network_id):
    response = client.post("/api/runs", json.dumps({"network_id": network_id, "dataset": "digits",
                                                    "config": {"epochs": 1000}}), content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def state(client, run_id):
    return client.get(f"/api/runs/{run_id}").json()


def test_two_workers_train_in_parallel_and_the_queue_is_fair(second_worker, newcomer):
    ada, ada_net = newcomer("ada")
    workers = wait_until(lambda: len(w := ada.get("/api/workers").json()) == 2 and w, 20, "both workers advertised")
    assert len(workers) == 2 and all(w["queues"] == ["cpu", "gpu-8g"] for w in workers)
    assert all(w["device"]["kind"] == "cpu" for w in workers)

    first, second, third = (start(ada, ada_net) for _ in range(3))
    wait_until(lambda: all(state(ada, r)["status"] == "running" for r in (first, second)), 60, "two runs at once")
    assert {state(ada, r)["worker"] for r in (first, second)} == {w["name"] for w in workers}
    assert state(ada, third)["status"] == "queued" and state(ada, third)["queue_position"] == 1

    bob, bob_net = newcomer("bob")
    theirs = start(bob, bob_net)
    # Bob has nothing in progress and Ada has two runs: Bob's run goes ahead of Ada's third.
    assert state(bob, theirs)["queue_position"] == 1 and state(ada, third)["queue_position"] == 2

    ada.post(f"/api/runs/{first}/cancel")
    wait_until(lambda: state(bob, theirs)["status"] == "running", 60, "Bob's run to start")
    assert state(ada, third)["status"] == "queued" and state(ada, third)["queue_position"] == 1
