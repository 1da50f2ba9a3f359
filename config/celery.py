"""The Celery app. Workers: `celery -A config worker -Q cpu,gpu` (see scripts/run.py, docker-compose.yml)."""

import logging
import os

from celery import Celery
from celery.signals import worker_init, worker_ready

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
    import torch  # noqa: F401


@worker_ready.connect
def reap_lost_runs(**_kwargs):
    """Runs left running by a worker that died are marked failed (and resumable) when a worker starts."""
    from training.runs import reap_lost_runs

    try:
        reap_lost_runs()
    except Exception:  # a database not migrated yet must not keep the worker from serving
        logging.getLogger(__name__).exception("could not check for lost runs")
