"""Training runs end to end: a real Celery worker process, a real Redis, a real Daphne and websocket."""

import io
import json
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnxruntime
import pytest
import torch
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from builder.graph import Limits, analyze, compile_graph
from training.datasets import load_dataset
from training.events import publish
from training.models import Run, RunEvent
from training.storage import read_checkpoint

from tests.graphs import example
from tests.live.runs import post, run_state, start, wait_for
from tests.services import ROOT, own_connection, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

TIMING = {"samples_per_s", "epoch_time_s", "eta_s"}


@pytest.fixture
def ada(ada, worker):
    """Ada's client, with a worker to run what she starts (tests/conftest.py stops what is left)."""
    return ada


def socket(server, client, run_id, after=0):
    cookie = f"sessionid={client.cookies['sessionid'].value}" if client else ""
    return connect(f"ws://127.0.0.1:{server.port}/ws/runs/{run_id}/?after={after}", open_timeout=20,
                   additional_headers={"Cookie": cookie, "Origin": server.url})


def receive_until_done(ws, timeout=120):
    events = []
    while not events or events[-1]["type"] != "done":
        events.append(json.loads(ws.recv(timeout=timeout)))
    return events


def epochs_of(events):
    return [e["epoch"] for e in events if e["type"] == "epoch"]


def test_a_digits_run_streams_every_event_in_order_over_a_websocket(ada, server):
    run = start(ada, epochs=6)
    assert run["status"] == "queued" and run["queue"] == "cpu"
    with socket(server, ada, run["id"]) as ws:
        events = receive_until_done(ws)

    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["run"] == run["id"] for e in events)
    statuses = [e["status"] for e in events if e["type"] == "status"]
    assert statuses[0] == "queued" and statuses[1] == "running" and statuses[-1] == "succeeded"
    assert epochs_of(events) == [1, 2, 3, 4, 5, 6]
    assert any(e["type"] == "step" and e["losses"] for e in events)
    stored = [e.message() for e in RunEvent.objects.filter(run_id=run["id"])]
    assert stored == events

    finished = run_state(ada, run["id"])
    assert finished["status"] == "succeeded" and finished["epochs_done"] == 6
    assert finished["final_metrics"]["val_accuracy"] >= 0.95
    assert set(finished["downloads"]) == {"bundle.zip", "weights.safetensors", "state_dict.pt", "model.onnx",
                                          "model.py"}
    assert finished["device"] == "cpu" and finished["worker"]


def test_a_client_that_reconnects_gets_exactly_what_it_missed(ada, server):
    run = start(ada, epochs=2)
    with socket(server, ada, run["id"]) as ws:
        events = receive_until_done(ws)
    with socket(server, ada, run["id"], after=3) as ws:
        missed = receive_until_done(ws)
    assert missed == events[3:]


def publish_from_a_thread(run, kind, data):
    """publish() in a thread of its own: once a browser test has run in this session, Playwright's event loop
    lives in this thread, where async_to_sync refuses to work."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(own_connection(publish), run, kind, data).result()


def test_an_idle_websocket_stays_open_and_still_delivers(ada, server):
    run = start(ada, epochs=1)
    with socket(server, ada, run["id"]) as ws:
        receive_until_done(ws)
        with pytest.raises(TimeoutError):
            ws.recv(timeout=11)  # longer than redis-py's and channels-redis's 5 s timeouts
        sent = publish_from_a_thread(Run.objects.get(pk=run["id"]), "log", {"message": "still here"})
        assert json.loads(ws.recv(timeout=10)) == sent


def test_only_the_owner_can_open_a_runs_websocket(ada, mallory, server):
    run = start(ada, epochs=1)
    for client in (mallory, None):
        with pytest.raises(InvalidStatus) as refused:
            socket(server, client, run["id"])
        assert refused.value.response.status_code == 403
    wait_for(ada, run["id"], ["succeeded"])


def test_stopping_a_run_cancels_it_within_seconds(ada):
    run = start(ada, epochs=500)
    wait_until(lambda: RunEvent.objects.filter(run_id=run["id"], kind="epoch").exists(), 60, "a first epoch")
    assert post(ada, f"/api/runs/{run['id']}/cancel").json()["status"] == "running"
    stopped = wait_for(ada, run["id"], ["cancelled"], timeout=10)
    assert stopped["epochs_done"] < 500
    assert post(ada, f"/api/runs/{run['id']}/cancel").status_code == 409


def test_a_queued_run_shows_its_position_and_can_be_cancelled_before_it_starts(ada):
    first = start(ada, epochs=500)
    wait_for(ada, first["id"], ["running"], timeout=60)
    second, third = start(ada, epochs=1), start(ada, epochs=1)
    assert (run_state(ada, second["id"])["queue_position"], run_state(ada, third["id"])["queue_position"]) == (1, 2)
    assert post(ada, f"/api/runs/{second['id']}/cancel").json()["status"] == "cancelled"
    assert run_state(ada, third["id"])["queue_position"] == 1
    post(ada, f"/api/runs/{first['id']}/cancel")
    wait_for(ada, third["id"], ["succeeded"])
    assert run_state(ada, second["id"])["status"] == "cancelled"  # never started


def test_a_run_whose_worker_dies_fails_and_resumes_to_the_same_result(ada, worker):
    settings = {"epochs": 30, "optimizer": "sgd", "lr": 0.05}
    reference = start(ada, **settings)
    reference = wait_for(ada, reference["id"], ["succeeded"])

    run = start(ada, **settings)
    wait_until(lambda: Run.objects.get(pk=run["id"]).epochs_done >= 3, 60, "three epochs")
    worker.kill()
    try:
        failed = wait_for(ada, run["id"], ["failed"], timeout=30)
        assert "worker stopped responding" in failed["error"]
    finally:
        worker.start()
    resumed = post(ada, f"/api/runs/{run['id']}/resume").json()
    assert resumed["status"] == "queued"
    done = wait_for(ada, run["id"], ["succeeded"])

    def steady(metrics):
        return {k: v for k, v in metrics.items() if k not in TIMING}

    assert steady(done["final_metrics"]) == steady(reference["final_metrics"])
    restarted = [e.data["epoch"] for e in RunEvent.objects.filter(run_id=run["id"], kind="epoch")]
    assert restarted[-1] == 30 and sorted(set(restarted)) == list(range(1, 31))


def test_a_run_forks_from_a_checkpoint_with_new_settings(ada):
    parent = start(ada, epochs=3)
    wait_for(ada, parent["id"], ["succeeded"])
    assert ada.get(f"/api/runs/{parent['id']}/checkpoints").json() == [1, 2, 3]
    response = post(ada, f"/api/runs/{parent['id']}/fork", {"epoch": 1, "config": {"lr": 1e-4, "epochs": 2}})
    assert response.status_code == 201
    fork = wait_for(ada, response.json()["id"], ["succeeded"])
    assert (fork["parent_id"], fork["parent_epoch"], fork["config"]["lr"]) == (parent["id"], 1, 1e-4)
    assert fork["final_metrics"]["val_accuracy"] > 0.8  # it started from trained weights, at a tiny rate
    missing = post(ada, f"/api/runs/{parent['id']}/fork", {"epoch": 9})
    assert missing.status_code == 400 and "no checkpoint of epoch 9" in missing.json()["detail"]


PLAIN_TORCH = """
import sys, torch
from safetensors.torch import load_file
sys.path.insert(0, sys.argv[1])
import model as exported
assert not any(m.split('.')[0] in ('builder', 'training', 'config', 'django') for m in sys.modules)
cls = next(v for v in vars(exported).values() if isinstance(v, type) and issubclass(v, torch.nn.Module))
net = cls()
net.load_state_dict(load_file(sys.argv[1] + '/weights.safetensors'))
net.eval()
with torch.no_grad():
    torch.save(net(torch.load(sys.argv[2], weights_only=True)), sys.argv[3])
"""


def test_the_downloaded_bundle_reproduces_the_apps_predictions(ada, tmp_path):
    run = start(ada, epochs=3)
    wait_for(ada, run["id"], ["succeeded"])
    response = ada.get(f"/api/runs/{run['id']}/files/bundle.zip")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).extractall(tmp_path)
    [folder] = [p for p in tmp_path.iterdir() if p.is_dir()]

    record = Run.objects.get(pk=run["id"])
    app = compile_graph(analyze(record.graph, Limits()))
    app.load_state_dict(read_checkpoint(record.checkpoint_path(3))["model"])
    app.eval()
    x = torch.from_numpy(load_dataset("digits").X[:32])
    with torch.no_grad():
        expected = app(x)
    torch.save(x, tmp_path / "x.pt")
    subprocess.run([sys.executable, "-I", "-c", PLAIN_TORCH, str(folder), str(tmp_path / "x.pt"),
                    str(tmp_path / "out.pt")], check=True, timeout=120)
    assert torch.equal(torch.load(tmp_path / "out.pt", weights_only=True), expected)

    session = onnxruntime.InferenceSession(str(folder / "model.onnx"))
    onnx_out = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    assert np.allclose(onnx_out, expected.numpy(), atol=1e-4)


def test_downloads_and_run_data_are_owner_only(ada, mallory):
    run = start(ada, epochs=1)
    wait_for(ada, run["id"], ["succeeded"])
    for url in (f"/api/runs/{run['id']}", f"/api/runs/{run['id']}/events", f"/api/runs/{run['id']}/checkpoints",
                f"/api/runs/{run['id']}/files/bundle.zip"):
        assert mallory.get(url).status_code == 404, url
    for url in ("cancel", "resume", "fork"):
        assert post(mallory, f"/api/runs/{run['id']}/{url}").status_code == 404, url
    assert mallory.get("/api/runs").json() == []
    assert ada.get(f"/api/runs/{run['id']}/files/secrets.txt").status_code == 404


def test_a_graph_that_does_not_fit_the_dataset_is_refused_before_queueing(ada):
    network = post(ada, "/api/networks", {"name": "seed", "graph": example("lstm_classifier")}).json()
    response = post(ada, "/api/runs", {"network_id": network["id"], "dataset": "digits"})
    assert response.status_code == 400 and "does not fit" in response.json()["detail"]
    bad = post(ada, "/api/runs", {"network_id": network["id"], "dataset": "digits", "config": {"epochs": -1}})
    assert bad.status_code == 400 and "epochs must be at least 1" in bad.json()["detail"]
    assert not Run.objects.exists()


def test_the_train_command_prints_epochs_and_writes_the_bundle(tmp_path):
    graph = tmp_path / "digits.json"
    graph.write_text(json.dumps(example("digits_cnn")))
    result = subprocess.run([sys.executable, "manage.py", "train", str(graph), "--dataset", "digits", "--epochs", "3",
                             "--batch-size", "64", "--lr", "0.003", "--device", "cpu", "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3]
    assert {"train_loss", "val_loss", "val_accuracy", "samples_per_s"} <= set(lines[0])
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {"bundle.zip", "model.py", "weights.safetensors"}


def test_the_train_command_with_stats_also_prints_each_layers_statistics(tmp_path):
    graph = tmp_path / "digits.json"
    graph.write_text(json.dumps(example("digits_cnn")))
    result = subprocess.run([sys.executable, "manage.py", "train", str(graph), "--dataset", "digits", "--epochs", "2",
                             "--stats", "--device", "cpu", "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    stats = [line for line in lines if line.get("event") == "layer_stats"]
    assert [line["epoch"] for line in lines if "train_loss" in line] == [1, 2] and len(stats) >= 2
    assert set(stats[0]) == {"event", "epoch", "step", "nodes"}
    assert set(stats[0]["nodes"]) == {n["id"] for n in example("digits_cnn")["nodes"]}
    assert stats[0]["nodes"]["conv1"]["grad_norm"] > 0 and len(stats[0]["nodes"]["conv1"]["histogram"]) == 16
    assert all("confusion" in line for line in lines if "train_loss" in line)


def test_a_finished_model_can_be_tried_on_a_validation_sample_or_a_typed_input(ada, mallory):
    run = start(ada, epochs=4)
    wait_for(ada, run["id"], ["succeeded"])
    samples = ada.get(f"/api/runs/{run['id']}/samples?n=5").json()
    assert len(samples) == 5 and np.array(samples[0]["x"]).shape == (1, 8, 8)
    right = 0
    for sample in samples:
        answer = post(ada, f"/api/runs/{run['id']}/predict", {"x": sample["x"]}).json()
        assert answer["classes"] == [str(d) for d in range(10)] and abs(sum(answer["probabilities"]) - 1) < 1e-5
        right += answer["predicted"] == sample["label"]
    assert right >= 4
    wrong = post(ada, f"/api/runs/{run['id']}/predict", {"x": [[1, 2, 3]]})
    assert wrong.status_code == 400 and "this model takes [1, 8, 8]" in wrong.json()["detail"]
    assert post(mallory, f"/api/runs/{run['id']}/predict", {"x": samples[0]["x"]}).status_code == 404


def test_a_model_is_not_tried_before_it_has_trained(ada):
    run = start(ada, epochs=500)
    response = post(ada, f"/api/runs/{run['id']}/predict", {"x": [[[0] * 8] * 8]})
    assert response.status_code == 409 and "no trained model yet" in response.json()["detail"]
