"""Helpers of the live tier: start runs through the API and wait for their states, with deadlines."""


from tests.graphs import example
from tests.http import post
from tests.services import wait_until


def start(client, epochs=5, dataset="digits", slug="digits_cnn", **config):
    network = post(client, "/api/networks", {"name": slug, "graph": example(slug)}).json()
    response = post(client, "/api/runs", {"network_id": network["id"], "dataset": dataset,
                                          "config": {"epochs": epochs, "lr": 3e-3, **config}})
    assert response.status_code == 201, response.content
    return response.json()


def run_state(client, run_id):
    return client.get(f"/api/runs/{run_id}").json()


def wait_for(client, run_id, statuses, timeout=120):
    return wait_until(lambda: (r := run_state(client, run_id))["status"] in statuses and r, timeout,
                      f"run {run_id} to be {' or '.join(statuses)}")
