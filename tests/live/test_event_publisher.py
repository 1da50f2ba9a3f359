"""The worker's event publisher: a checkpoint is recorded only once its epoch's events are stored, so a run that
a dead worker's successor takes up from that checkpoint has every epoch in its record."""

import pytest

from builder.models import Network
from training.config import check_config
from training.datasets import load_dataset
from training.events import Publisher
from training.job import RunHooks
from training.models import Run, RunEvent

from tests.graphs import example

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def run(user, service_env):
    network = Network.create(user, "cnn", example("digits_cnn"))
    return Run.objects.create(owner=user, network=network, version=network.current_version(), dataset="digits",
                              dataset_info=load_dataset("digits").info(), config=check_config({"epochs": 3}),
                              status="running")


def test_a_checkpoint_is_saved_only_after_its_epochs_events_are_stored(run):
    stored_at_checkpoint = []
    publisher = Publisher(run, beat=lambda: False).start()
    hooks = RunHooks(run, publisher)
    try:
        for epoch in range(1, 4):
            for step in range(20):  # the events of an epoch are queued faster than they are stored
                hooks.emit("step", {"step": epoch * 100 + step, "loss": 1.0})
            hooks.emit("epoch", {"epoch": epoch, "train_loss": 1.0})
            hooks.save_checkpoint(epoch, {"epoch": epoch})
            stored_at_checkpoint.append(list(RunEvent.objects.filter(run=run, kind="epoch")
                                             .values_list("data__epoch", flat=True)))
    finally:
        publisher.close()
    assert stored_at_checkpoint == [[1], [1, 2], [1, 2, 3]]
    run.refresh_from_db()
    assert run.epochs_done == 3


def test_an_event_that_cannot_be_stored_is_skipped_and_the_rest_still_are(run):
    publisher = Publisher(run, beat=lambda: False).start()
    hooks = RunHooks(run, publisher)
    try:
        hooks.emit("epoch", {"epoch": 1, "train_loss": object()})  # not JSON
        hooks.emit("epoch", {"epoch": 2, "train_loss": 0.5})
        hooks.save_checkpoint(2, {"epoch": 2})
    finally:
        publisher.close()
    assert list(RunEvent.objects.filter(run=run, kind="epoch").values_list("data__epoch", flat=True)) == [2]
