"""The worker holds the graph limits too: a run queued under looser limits fails, with the same message
the API gives, instead of training a network over today's limit."""

from dataclasses import replace

import pytest

from builder.models import Network
from training import job
from training.config import check_config
from training.datasets import load_dataset
from training.models import Run

from tests.graphs import example

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_run_over_the_parameter_limit_fails_in_the_worker_with_the_limit_named(user, settings):
    network = Network.create(user, "cnn", example("digits_cnn"))
    # Stored, not dispatched: the session's worker process must not take it (its limits are the defaults).
    run = Run.objects.create(owner=user, network=network, version=network.current_version(), dataset="digits",
                             dataset_info=load_dataset("digits").info(), config=check_config({"epochs": 1}))
    settings.GRAPH_LIMITS = replace(settings.GRAPH_LIMITS, max_params=1000)

    job.train(run.pk, run.attempt, worker="in-process")

    run.refresh_from_db()
    assert run.status == Run.Status.FAILED and run.epochs_done == 0
    assert "GRAPH_MAX_PARAMS" in run.error and "'fc1'" in run.error
    assert run.events.filter(kind="error", data__message=run.error).exists()
