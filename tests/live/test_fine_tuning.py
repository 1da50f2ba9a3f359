"""Fine-tuning end to end, with a real worker: an ONNX model imported with its weights, a run that starts from
them with its convolution frozen, and a run that starts from what an earlier run trained."""

import io
import json

import pytest
from safetensors.torch import load as load_safetensors

from builder.models import Network
from training.models import RunEvent

from tests.graphs import example
from tests.live.runs import post, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ada(ada, worker):
    return ada


def import_onnx(client, data, name="trained.onnx"):
    upload = io.BytesIO(data)
    upload.name = name
    return client.post("/api/networks/import", {"file": upload})


def test_an_imported_onnx_model_fine_tunes_from_its_weights_with_a_frozen_layer(ada):
    trained = wait_for(ada, start(ada, epochs=8)["id"], ["succeeded"], timeout=240)
    onnx_file = ada.get(f"/api/runs/{trained['id']}/files/model.onnx")
    assert onnx_file.status_code == 200
    imported = import_onnx(ada, b"".join(onnx_file.streaming_content))
    assert imported.status_code == 201, imported.content
    network = imported.json()
    assert network["analysis"]["valid"] and network["analysis"]["total_params"] == 33_802
    [version] = ada.get(f"/api/networks/{network['id']}/versions").json()
    assert version["has_weights"] and version["message"] == "Imported from trained.onnx"
    stored = Network.objects.get(pk=network["id"]).current_version()
    assert len(load_safetensors(stored.weights.read())) == 6  # three layers: weights and biases

    graph = network["graph"]
    conv = next(n for n in graph["nodes"] if n["type"] == "Conv2d")
    conv["trainable"] = False
    saved = ada.patch(f"/api/networks/{network['id']}", json.dumps({"graph": graph, "message": "freeze"}),
                      content_type="application/json").json()
    assert saved["version"] == 2 and saved["analysis"]["frozen_params"] == conv_params(saved, conv["id"])

    run = post(ada, "/api/runs", {"network_id": network["id"], "dataset": "digits", "start_from": {"version": 1},
                                  "config": {"epochs": 1, "lr": 1e-4}})
    assert run.status_code == 201, run.content
    tuned = wait_for(ada, run.json()["id"], ["succeeded"], timeout=240)
    assert tuned["init_version"] == 1
    # It starts where the trained model was: one gentle epoch keeps its accuracy.
    assert tuned["final_metrics"]["val_accuracy"] >= trained["final_metrics"]["val_accuracy"] - 0.05
    log = RunEvent.objects.filter(run_id=tuned["id"], kind="log").values_list("data", flat=True)
    assert any(entry["message"].startswith("started from the imported weights of version 1: 6 tensors")
               for entry in log)


def conv_params(network, node_id):
    return network["analysis"]["nodes"][node_id]["params"]


def test_a_run_starts_from_what_an_earlier_run_trained(ada):
    first = wait_for(ada, start(ada, epochs=6)["id"], ["succeeded"], timeout=240)
    run = post(ada, "/api/runs", {"network_id": first["network_id"], "dataset": "digits",
                                  "start_from": {"run": first["id"]}, "config": {"epochs": 1, "lr": 1e-4}})
    assert run.status_code == 201, run.content
    second = wait_for(ada, run.json()["id"], ["succeeded"], timeout=240)
    assert second["init_run_id"] == first["id"]
    assert second["final_metrics"]["val_accuracy"] >= first["final_metrics"]["val_accuracy"] - 0.05


def test_starting_from_weights_that_are_not_there_is_refused_by_name(ada, mallory):
    network = post(ada, "/api/networks", {"name": "plain", "graph": example("digits_cnn")}).json()
    body = {"network_id": network["id"], "dataset": "digits", "start_from": {"version": 1}}
    refused = post(ada, "/api/runs", body)
    assert refused.status_code == 400 and refused.json()["detail"] == "version 1 has no imported weights to start from"
    both = post(ada, "/api/runs", {**body, "start_from": {"version": 1, "run": 1}})
    assert both.status_code == 400 and "either a version or a run" in both.json()["detail"]
    theirs = post(mallory, "/api/runs", {"network_id": network["id"], "dataset": "digits"})
    assert theirs.status_code == 404
