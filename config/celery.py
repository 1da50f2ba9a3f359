"""The Celery app. Workers: `celery -A config worker -Q cpu,gpu` (see scripts/run.py, docker-compose.yml)."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("netbuilder")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def import_torch_at_worker_start(**_kwargs):
    """Pay torch's multi-second import when a worker process starts, not inside its first task."""
    import torch  # noqa: F401
