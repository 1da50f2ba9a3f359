"""Looking inside a run's model through the API: what each node outputs for a sample or an input, the
validation samples it gets wrong, a regressor's predictions; a clear 4xx for what cannot be answered."""

import pytest

from builder.graph import Limits, analyze
from builder.models import Network
from training import storage
from training.config import check_config
from training.datasets import load_dataset
from training.engine import build_model
from training.models import Run

from tests.graphs import chain, example, node

pytestmark = pytest.mark.django_db
SINE_WINDOW = list(load_dataset("sine").X.shape[1:])


def run_of(user, doc, dataset, *, final=True, epoch=None, status="succeeded"):
    net = Network.create(user, doc["name"], doc)
    run = Run.objects.create(owner=user, network=net, version=net.current_version(), dataset=dataset,
                             dataset_info=load_dataset(dataset).info(), config=check_config({"epochs": 2}),
                             status=status)
    storage.delete_run_files(run)  # the test database gives ids again: not another test's files
    weights = build_model(analyze(doc, Limits()), 0).state_dict()
    if final:
        storage.write_state(run.storage_path("artifacts/state_dict.pt"), weights)
        run.artifacts = {"files": {"state_dict.pt": 1}}
        run.save(update_fields=["artifacts"])
    if epoch:
        storage.write_state(run.checkpoint_path(epoch), {"model": weights})
    return run


def test_a_validation_sample_is_inspected_node_by_node(ada, user, conforms):
    run = run_of(user, example("digits_cnn"), "digits")
    answer = conforms(ada.post(f"/api/runs/{run.pk}/inspect", {"sample": 3}, content_type="application/json"),
                      "/api/runs/{run_id}/inspect", "post")
    assert answer["model"] == "final" and answer["label"] in answer["classes"]
    assert {"in", "conv1"} <= set(answer["nodes"]) and answer["nodes"]["conv1"]["kind"] == "maps"
    assert len(answer["probabilities"]) == 10 and answer["filters"]["node"] == "conv1"
    drawn = ada.post(f"/api/runs/{run.pk}/inspect", {"x": [[[0.5] * 8] * 8]}, content_type="application/json")
    assert drawn.status_code == 200 and "label" not in drawn.json()


def test_a_running_run_is_inspected_with_its_latest_checkpoint(ada, user):
    run = run_of(user, example("digits_cnn"), "digits", final=False, epoch=2, status="running")
    answer = ada.post(f"/api/runs/{run.pk}/inspect", {"sample": 0}, content_type="application/json").json()
    assert answer["model"] == "epoch-2"


@pytest.mark.parametrize("body, says", [
    ({}, "give either x"), ({"x": [[[0.5] * 8] * 8], "sample": 0}, "give either x"),
    ({"sample": 100000}, "sample 100000 does not exist"), ({"x": [1, 2]}, "this model takes [1, 8, 8]"),
    ({"x": [[["a"] * 8] * 8]}, "nested list of numbers"), ({"x": [[[10 ** 400] * 8] * 8]}, "nested list of numbers"),
    ({"x": [[[float("nan")] * 8] * 8]}, "NaN")])
def test_a_bad_inspection_names_the_problem(ada, user, body, says):
    run = run_of(user, example("digits_cnn"), "digits")
    response = ada.post(f"/api/runs/{run.pk}/inspect", body, content_type="application/json")
    assert response.status_code in (400, 422) and says in response.content.decode()


def test_a_run_without_weights_or_checkpoint_is_refused_with_409(ada, user):
    run = run_of(user, example("digits_cnn"), "digits", final=False, status="queued")
    response = ada.post(f"/api/runs/{run.pk}/inspect", {"sample": 0}, content_type="application/json")
    assert response.status_code == 409 and "no trained model or checkpoint" in response.json()["detail"]
    assert ada.get(f"/api/runs/{run.pk}/misclassified").status_code == 409


def test_misclassified_samples_say_predicted_true_and_confidence(ada, user, conforms):
    run = run_of(user, example("digits_cnn"), "digits")  # untrained: most are wrong
    answer = conforms(ada.get(f"/api/runs/{run.pk}/misclassified?limit=5"), "/api/runs/{run_id}/misclassified",
                      "get")
    assert len(answer["samples"]) == 5 and answer["wrong"] >= 5 and answer["validation"] > answer["wrong"] / 2
    first = answer["samples"][0]
    assert first["true"] != first["predicted"] and 0 < first["confidence"] <= 1 and len(first["x"]) == 1
    confidences = [s["confidence"] for s in answer["samples"]]
    assert confidences == sorted(confidences, reverse=True)
    assert ada.get(f"/api/runs/{run.pk}/misclassified?limit=0").status_code == 400
    assert "limit must be between 1 and 100" in ada.get(f"/api/runs/{run.pk}/misclassified?limit=101").json()["detail"]
    assert "only a classifier" not in ada.get(f"/api/runs/{run.pk}/predictions").json()["detail"]


def test_a_regressor_gives_its_predictions_against_the_truth(ada, user, conforms):
    doc = chain(node("in", "Input", shape=SINE_WINDOW), node("flat", "Flatten"), node("fc", "Linear", out_features=1),
                name="forecaster")
    run = run_of(user, doc, "sine")
    answer = conforms(ada.get(f"/api/runs/{run.pk}/predictions?limit=50"), "/api/runs/{run_id}/predictions", "get")
    assert len(answer["true"]) == len(answer["predicted"]) == 50
    assert "only a classifier" in ada.get(f"/api/runs/{run.pk}/misclassified").json()["detail"]


def test_a_token_past_the_vocabulary_is_refused_not_a_server_error(ada, user):
    doc = example("text_classifier")
    run = run_of(user, doc, "digits")  # the dataset only names the task here: the input is given
    length = next(n for n in doc["nodes"] if n["type"] == "Input")["params"]["shape"][0]
    response = ada.post(f"/api/runs/{run.pk}/inspect", {"x": [10 ** 9] * length}, content_type="application/json")
    assert response.status_code == 400 and "cannot compute this input" in response.json()["detail"]


def test_each_unit_of_a_small_point_classifier_is_drawn_over_the_plane(ada, user, conforms):
    doc = chain(node("in", "Input", shape=[2]), node("fc", "Linear", out_features=6), node("act", "Tanh"),
                node("out", "Linear", out_features=2), name="moons")
    run = run_of(user, doc, "moons")
    answer = conforms(ada.get(f"/api/runs/{run.pk}/units"), "/api/runs/{run_id}/units", "get")
    assert set(answer["nodes"]) == {"fc", "act", "out"} and len(answer["x"]) == len(answer["y"]) == 20
    assert len(answer["nodes"]["fc"]) == 6 and len(answer["nodes"]["fc"][0]) == 20
    digits = run_of(user, example("digits_cnn"), "digits")
    response = ada.get(f"/api/runs/{digits.pk}/units")
    assert response.status_code == 400 and "does not take two numbers" in response.json()["detail"]
