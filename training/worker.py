"""The worker's advertisement: a thread in the Celery worker's main process that keeps its WorkerInfo row
fresh, so the scheduler knows its slots, and dispatches waiting runs when slots free up."""

from __future__ import annotations

import json
import logging
import os
import threading

from django.db import close_old_connections
from django.utils import timezone

from . import lifecycle
from .models import WorkerInfo

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 2.0


class Advertiser(threading.Thread):
    def __init__(self, name: str, queues: list[str], concurrency: int):
        super().__init__(name="advertiser", daemon=True)
        self.fields = {"queues": queues, "concurrency": concurrency,
                       # Described by `manage.py worker` before it started Celery: asking CUDA here, in the
                       # process that forks the pool, would make CUDA unusable in the pool's processes.
                       "device": json.loads(os.environ.get("NETBUILDER_DEVICE", '{"kind": "cpu", "name": "CPU"}'))}
        self.worker_name = name
        self.stopped = threading.Event()

    def run(self) -> None:
        first = True
        while not self.stopped.wait(0 if first else INTERVAL_SECONDS):
            try:
                if first:
                    lifecycle.reap_lost_runs()
                    first = False
                WorkerInfo.objects.update_or_create(name=self.worker_name,
                                                    defaults={**self.fields, "heartbeat": timezone.now()})
                lifecycle.dispatch()
            except Exception:  # a database or Redis outage: try again next time
                log.exception("could not advertise worker %s", self.worker_name)
            finally:
                close_old_connections()
