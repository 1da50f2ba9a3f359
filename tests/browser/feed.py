"""Runs that no worker trains, fed with the events a worker would send: for pages that show a run's curves."""

import threading

from training.config import check_config
from training.datasets import load_dataset
from training.events import publish
from training.models import Run

from tests.services import own_connection


def flood(run, epochs, steps, losses_per_step=5):
    """Step and epoch events as a worker sends them, only as fast as they can be stored and sent."""
    for epoch in range(1, epochs + 1):
        for step in range(1, steps + 1):
            first = ((epoch - 1) * steps + step - 1) * losses_per_step + 1
            publish(run, "step", {"epoch": epoch, "step": step, "steps_per_epoch": steps, "samples_per_s": 9e3,
                                  "losses": [[first + i, 2 / (first + i)] for i in range(losses_per_step)]})
        publish(run, "epoch", {"epoch": epoch, "train_loss": 1 / epoch, "train_accuracy": 1 - 1 / (epoch + 1),
                               "val_loss": 1.1 / epoch, "val_accuracy": 1 - 1.1 / (epoch + 1), "lr": 1e-3,
                               "samples_per_s": 9e3, "epoch_time_s": 0.1, "eta_s": epochs - epoch,
                               "best": True})  # the loss falls every epoch


def fed_run(user, net, epochs):
    """A run marked running that no worker trains: the test feeds its events (see `flood`)."""
    return Run.objects.create(owner=user, network=net, version=net.current_version(),
                              dataset="digits", dataset_info=load_dataset("digits").info(),
                              config=check_config({"epochs": epochs}), status="running")


def in_thread(target, *args):
    """Run `target` in another thread: Playwright's event loop in this one forbids the publisher's async_to_sync."""
    thread = threading.Thread(target=own_connection(target), args=args)
    thread.start()
    return thread
