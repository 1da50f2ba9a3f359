"""The Celery app. Workers: `celery -A config worker -Q cpu,gpu` (see scripts/run.py, docker-compose.yml)."""

import os

from celery import Celery
from celery.signals import worker_init, worker_ready, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("netbuilder")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def import_torch_at_worker_start(**_kwargs):
    """Pay torch's multi-second import once when the worker starts, not inside its first task.

    worker_init runs in the main process before the pool forks, so every pool process inherits the
    imported module (a pool process that spends more than 4 s in worker_process_init is killed).
    """
    import torch  # noqa: F401 (imported for its side effect: loaded once, before the pool forks)


@worker_ready.connect
def advertise(sender, **_kwargs):
    """Say what this worker is (device, queues, slots) every few seconds, and offer waiting runs to the
    workers; the first time, also mark failed the runs a dead worker left running."""
    from training.worker import Advertiser

    Advertiser(name=sender.hostname, queues=sorted(sender.app.amqp.queues.consume_from),
               concurrency=sender.controller.concurrency).start()


@worker_shutdown.connect
def withdraw(sender, **_kwargs):
    """A worker that stops cleanly takes its slots away at once (a killed one ages out)."""
    from training.models import WorkerInfo

    WorkerInfo.objects.filter(name=sender.hostname).delete()
