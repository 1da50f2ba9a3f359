"""With Redis down, a run's websocket is told to try again later (close code 4503), not failed with a 500.

Daphne cannot answer a websocket handshake with an HTTP status of the application's choosing (it has no
`websocket.http.response`): the consumer accepts and closes at once with 4503 (503 in the application's
range of close codes), which the page reads as "reconnecting" (tests/browser/test_live_feed_down.py).
"""

import pytest
from django.test import Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from builder.models import Network
from config.embedded_redis import free_port
from training.config import check_config
from training.datasets import load_dataset
from training.models import Run

from tests.graphs import example
from tests.services import Server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server_without_redis(service_env):
    """A Daphne whose Redis is gone: nothing listens on its REDIS_URL's port."""
    server = Server({**service_env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_a_websocket_is_told_to_try_again_later_while_redis_is_down(server_without_redis, user):
    network = Network.create(user, "digits", example("digits_cnn"))
    run = Run.objects.create(owner=user, network=network, version=network.current_version(), dataset="digits",
                             dataset_info=load_dataset("digits").info(), config=check_config({"epochs": 1}))
    client = Client()
    client.force_login(user)
    server = server_without_redis
    headers = {"Cookie": f"sessionid={client.cookies['sessionid'].value}", "Origin": server.url}

    for _ in range(2):  # and again on the next try, with nothing left behind by the first
        # Before: the handshake failed with HTTP 500 (websockets raised InvalidStatus here).
        with connect(f"ws://127.0.0.1:{server.port}/ws/runs/{run.pk}/?after=0", additional_headers=headers,
                     open_timeout=10) as ws, pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4503, server.log()

    assert "live feed unavailable" in server.log()
    assert "Exception inside application" not in server.log()  # a warning, not a traceback
