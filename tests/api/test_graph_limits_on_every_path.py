"""The graph limits hold on every path (save, validate, fit check, run creation, worker, CLI), and each path
refuses with the same message, which names the limit and the node that breaches it."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from builder.models import Network
from training.models import Run

from tests.graphs import example
from tests.http import post

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


@pytest.fixture
def small_limits(settings):
    settings.GRAPH_LIMITS = replace(settings.GRAPH_LIMITS, max_params=1000)
    return settings.GRAPH_LIMITS


def limit_message(client) -> str:
    body = post(client, "/api/graphs/validate", example("digits_cnn")).json()
    [error] = [e for e in body["errors"] if e["code"] == "too_many_params"]
    assert error["node"], "the error names the node responsible"
    assert "GRAPH_MAX_PARAMS" in error["message"] and "1,000" in error["message"]
    return error["message"]


def test_saving_validating_fitting_and_training_refuse_with_one_message(ada, user, small_limits):
    message = limit_message(ada)
    saved = post(ada, "/api/networks", {"name": "cnn", "graph": example("digits_cnn")})
    assert saved.status_code == 400 and saved.json()["detail"] == message
    fit = post(ada, "/api/datasets/digits/fit", example("digits_cnn")).json()
    assert not fit["fits"] and message in " ".join(fit["problems"])

    network = Network.create(user, "saved before the limit was lowered", example("digits_cnn"))
    run = post(ada, "/api/runs", {"network_id": network.pk, "dataset": "digits"})
    assert run.status_code == 400 and message in run.json()["detail"]
    assert not Run.objects.exists()


def test_a_graph_over_the_node_limit_cannot_be_saved(ada, settings):
    settings.GRAPH_LIMITS = replace(settings.GRAPH_LIMITS, max_nodes=5)
    response = post(ada, "/api/networks", {"name": "cnn", "graph": example("digits_cnn")})
    assert response.status_code == 400 and "limit is 5 nodes" in response.json()["detail"]
    network = post(ada, "/api/networks", {"name": "tiny", "graph": _tiny()}).json()
    grown = ada.patch(f"/api/networks/{network['id']}", json.dumps({"graph": example("digits_cnn")}),
                                   content_type="application/json")
    assert grown.status_code == 400 and "limit is 5 nodes" in grown.json()["detail"]
    assert Network.objects.get(pk=network["id"]).version == 1  # nothing saved over the limit


def _tiny() -> dict:
    return {"format": "netgraph", "version": 1, "name": "tiny",
            "nodes": [{"id": "in", "type": "Input", "params": {"shape": [4]}},
                      {"id": "out", "type": "Linear", "params": {"out_features": 2}}],
            "edges": [{"source": "in", "target": "out"}]}


def test_the_train_command_refuses_a_graph_over_the_parameter_limit(tmp_path, small_limits):
    graph = tmp_path / "cnn.json"
    graph.write_text(json.dumps(example("digits_cnn")))
    env = {**os.environ, "GRAPH_MAX_PARAMS": "1000"}
    done = subprocess.run([sys.executable, "manage.py", "train", str(graph), "--dataset", "digits", "--epochs", "1",
                           "--out", str(tmp_path / "bundle")], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode != 0 and not (tmp_path / "bundle").exists()
    assert "GRAPH_MAX_PARAMS" in done.stderr and "1,000" in done.stderr
