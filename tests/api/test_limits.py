"""Configurable limits on graphs and runs, each refused with a message that names the limit."""

from dataclasses import replace

import pytest
from django.contrib.auth.models import User

from builder.models import Network
from training.models import Run

from tests.graphs import example
from tests.http import post

pytestmark = pytest.mark.django_db


def test_graph_limits_come_from_the_settings(ada, settings):
    settings.GRAPH_LIMITS = replace(settings.GRAPH_LIMITS, max_nodes=5)
    body = post(ada, "/api/graphs/validate", example("digits_cnn")).json()
    assert body["errors"][0]["code"] == "too_large" and "limit is 5 nodes" in body["errors"][0]["message"]
    settings.GRAPH_LIMITS = replace(settings.GRAPH_LIMITS, max_nodes=500, max_params=1000)
    body = post(ada, "/api/graphs/validate", example("digits_cnn")).json()
    assert body["errors"][0]["code"] == "too_many_params"
    settings.GRAPH_LIMITS = replace(settings.GRAPH_LIMITS, max_params=10**9, max_bytes=100)
    response = post(ada, "/api/networks", {"name": "big", "graph": example("digits_cnn")})
    assert response.status_code == 413 and "100 bytes" in response.json()["detail"]


@pytest.mark.parametrize("config, setting, words", [
    ({"epochs": 50}, {"RUN_MAX_EPOCHS": 20}, "limited to 20 epochs"),
    ({"batch_size": 4096}, {"RUN_MAX_MEMORY_BYTES": 2**20}, "the limit is 1.0 MiB"),
])
def test_runs_beyond_the_limits_are_refused(ada, settings, config, setting, words):
    for key, value in setting.items():
        setattr(settings, key, value)
    network = Network.create(User.objects.get(username="ada"), "d", example("digits_cnn"))
    response = post(ada, "/api/runs", {"network_id": network.pk, "dataset": "digits", "config": config})
    assert response.status_code == 400 and words in response.json()["detail"]
    assert not Run.objects.exists()


def test_concurrent_runs_per_user_are_limited(ada, settings):
    settings.RUNS_MAX_ACTIVE_PER_USER = 1
    user = User.objects.get(username="ada")
    network = Network.create(user, "d", example("digits_cnn"))
    Run.objects.create(owner=user, network=network, version=network.current_version(), dataset="digits",
                       config={}, status="running")
    response = post(ada, "/api/runs", {"network_id": network.pk, "dataset": "digits"})
    assert response.status_code == 429 and "the limit is 1" in response.json()["detail"]
