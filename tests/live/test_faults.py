"""Faults survived with nothing lost: Redis restarting mid-run, the database refusing writes for a while.

These tests run their own stack (Redis, worker, Daphne) so that they can break it without harming the rest.
"""

import json
import threading

import pytest
from celery import Celery
from django.db import connection
from django.test import Client
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from builder.models import Network
from config.embedded_redis import EmbeddedRedis, free_port
from training.config import check_config
from training.datasets import load_dataset
from training.models import Run, RunEvent

from tests.graphs import example
from tests.services import Server, Worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stack(service_env):
    """A Redis on a fixed port (so it can restart in place), a worker and a Daphne that use it."""
    redis = EmbeddedRedis(port=free_port()).start()
    env = {**service_env, "REDIS_URL": redis.url}
    worker, server = Worker(env), Server(env)
    try:
        worker.start()
        server.start()
        yield redis, worker, server
    finally:
        server.stop()
        worker.stop()
        redis.stop()


def queue_run(user, redis_url, epochs):
    network = Network.create(user, "digits", example("digits_cnn"))
    run = Run.objects.create(owner=user, network=network, version=network.current_version(), dataset="digits",
                             dataset_info=load_dataset("digits").info(), config=check_config({"epochs": epochs}))
    app = Celery(broker=redis_url, set_as_current=False)  # leave the session's own app current
    app.send_task("training.tasks.train_run", args=(run.pk, run.attempt), queue="cpu")
    app.close()
    client = Client()
    client.force_login(user)
    return run, client.cookies["sessionid"].value


class Watcher:
    """A browser-like client: reconnects with its last sequence number whenever the socket drops."""

    def __init__(self, server, run_id, session):
        self.url = f"ws://127.0.0.1:{server.port}/ws/runs/{run_id}/"
        self.headers = {"Cookie": f"sessionid={session}", "Origin": server.url}
        self.events, self.reconnects = [], 0

    def watch_until(self, condition, timeout=120):
        def done():
            last = self.events[-1]["seq"] if self.events else 0
            try:
                with connect(f"{self.url}?after={last}", additional_headers=self.headers, open_timeout=5) as ws:
                    while not condition(self.events):
                        self.events.append(json.loads(ws.recv(timeout=timeout)))
                    return True
            except (ConnectionClosed, InvalidStatus, OSError, TimeoutError):
                self.reconnects += 1
                return False
        wait_until(done, timeout, "the run's events", interval=0.2)


def epochs_seen(events):
    return sum(e["type"] == "epoch" for e in events)


def test_a_redis_restart_mid_run_loses_no_metric_and_the_feed_recovers(stack, user):
    redis, _, server = stack
    run, session = queue_run(user, redis.url, epochs=60)
    watcher = Watcher(server, run.pk, session)
    watcher.watch_until(lambda events: epochs_seen(events) >= 3)
    redis.stop()  # everything Redis held is gone: queued messages, channel groups
    redis.start()
    watcher.watch_until(lambda events: events and events[-1]["type"] == "done")

    run.refresh_from_db()
    assert run.status == "succeeded" and run.epochs_done == 60
    assert [e["seq"] for e in watcher.events] == list(range(1, len(watcher.events) + 1))
    assert watcher.events == [e.message() for e in RunEvent.objects.filter(run=run)]
    assert epochs_seen(watcher.events) == 60


def test_the_worker_waits_out_a_database_that_refuses_writes(stack, user):
    redis, _, server = stack
    run, session = queue_run(user, redis.url, epochs=40)
    wait_until(lambda: RunEvent.objects.filter(run=run, kind="epoch").count() >= 2, 60, "two epochs")
    release = threading.Event()
    with connection.cursor() as cursor:  # this test's own connection survives the outage
        cursor.execute("SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT 0")
        spared = cursor.fetchone()[0]
    holder = threading.Thread(target=lock_database, args=(release, spared))
    holder.start()
    threading.Timer(3, release.set).start()  # the outage lasts three seconds
    holder.join()
    wait_until(lambda: Run.objects.get(pk=run.pk).status == "succeeded", 120, "the run to finish")
    seqs = list(RunEvent.objects.filter(run=run).values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert RunEvent.objects.filter(run=run, kind="epoch").count() == 40


def lock_database(release: threading.Event, spared: int) -> None:
    """Refuse the worker's writes until `release`: an exclusive lock (SQLite) or killed connections
    and a locked table (PostgreSQL)."""
    from django.db import connections

    with connections["default"].cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("BEGIN EXCLUSIVE")
            release.wait()
            cursor.execute("ROLLBACK")
        else:
            cursor.execute("BEGIN")
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND pid <> pg_backend_pid() AND pid <> %s", [spared])
            cursor.execute("LOCK TABLE training_runevent IN ACCESS EXCLUSIVE MODE")
            release.wait()
            cursor.execute("ROLLBACK")
    connections["default"].close()
