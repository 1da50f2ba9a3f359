"""Inputs that used to end in a 500 (a traceback under DEBUG) now get a 4xx that says what is wrong:
ids written with non-ASCII digits, numbers too large for a float, integers too large for a tensor, and
samples of a run whose upload is gone."""

import json

import pytest
from websockets.sync.client import connect

from builder.models import Network
from training.config import check_config
from training.models import Run

from tests.graphs import example
from tests.live.runs import post, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_ids_with_non_ascii_digits_are_not_found(ada, user):
    assert ada.get("/api/datasets/upload-²").status_code == 404
    network = Network.create(user, "cnn", example("digits_cnn"))
    response = post(ada, "/api/runs", {"network_id": network.pk, "dataset": "upload-²"})
    assert response.status_code == 404 and "upload-²" in response.json()["detail"]
    assert ada.delete("/api/datasets/upload-²").status_code == 404


@pytest.mark.parametrize("where", ["param", "position"])
def test_a_number_too_large_for_a_float_is_refused(ada, where):
    graph = json.dumps(example("digits_cnn"))
    text = graph.replace('"out_features": 10', '"out_features": 1e999') if where == "param" else \
        graph.replace('"nodes": [{', '"nodes": [{"position": {"x": 1e999, "y": 0}, ', 1)
    assert "1e999" in text
    for url, body in (("/api/graphs/validate", text), ("/api/networks", f'{{"name": "n", "graph": {text}}}')):
        response = ada.post(url, body, content_type="application/json")
        assert response.status_code == 400 and "1e999 is too large" in response.json()["detail"]


def test_samples_of_a_run_whose_upload_is_gone_are_not_found(ada, user):
    network = Network.create(user, "cnn", example("digits_cnn"))
    run = Run.objects.create(owner=user, network=network, version=network.current_version(), dataset="upload-999",
                             config=check_config({}), status="succeeded", artifacts={"files": {"state_dict.pt": 1}})
    response = ada.get(f"/api/runs/{run.pk}/samples")
    assert response.status_code == 404 and "upload-999" in response.json()["detail"]


def test_a_huge_integer_input_and_a_non_ascii_replay_point_get_clear_answers(ada, worker, server):
    run = wait_for(ada, start(ada, epochs=1)["id"], ["succeeded"])
    sample = [[[10 ** 400] + [0] * 7] + [[0] * 8] * 7]
    response = post(ada, f"/api/runs/{run['id']}/predict", {"x": sample})
    assert response.status_code == 400 and "nested list of numbers" in response.json()["detail"]

    cookie = f"sessionid={ada.cookies['sessionid'].value}"
    with connect(f"ws://127.0.0.1:{server.port}/ws/runs/{run['id']}/?after=%C2%B2", open_timeout=20,
                 additional_headers={"Cookie": cookie, "Origin": server.url}) as ws:
        assert json.loads(ws.recv(timeout=20))["seq"] == 1  # replayed from the start
