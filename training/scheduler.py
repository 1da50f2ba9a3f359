"""The fair queue: runs wait in the database and are handed to Celery only when a worker has a free slot,
choosing first the users with the fewest runs in progress, then the oldest run.

Celery and Redis still move and execute the work; this only decides the order, so one user's twenty runs do
not make everyone else wait behind them. Dispatching takes a Redis lock, so any number of web servers and
workers may call it at once.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import redis
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import Run, WorkerInfo

WORKER_TIMEOUT_SECONDS = 30  # a worker not heard from for this long offers no slots


def live_workers():
    return WorkerInfo.objects.filter(heartbeat__gte=timezone.now() - timedelta(seconds=WORKER_TIMEOUT_SECONDS))


def capacity(queue: str) -> int:
    """Runs the live workers consuming `queue` can take at once (a worker counts for each queue it serves)."""
    return sum(w.concurrency for w in live_workers() if queue in w.queues)


def _in_progress(queue: str):
    return Run.objects.filter(queue=queue).filter(Q(status=Run.Status.RUNNING) |
                                                  Q(status=Run.Status.QUEUED, dispatched=True))


def fair_order(queue: str) -> list[Run]:
    """Undispatched runs in the order they will start: fewest runs in progress for their user first."""
    waiting = list(Run.objects.filter(queue=queue, status=Run.Status.QUEUED, dispatched=False).order_by("created"))
    busy = Counter(_in_progress(queue).values_list("owner_id", flat=True))
    order = []
    while waiting:
        chosen = min(waiting, key=lambda run: (busy[run.owner_id], run.created))
        waiting.remove(chosen)
        busy[chosen.owner_id] += 1
        order.append(chosen)
    return order


def queue_order(queue: str) -> list[int]:
    """Ids of the queued runs of a queue, next to start first."""
    handed = Run.objects.filter(queue=queue, status=Run.Status.QUEUED, dispatched=True).order_by("created")
    return list(handed.values_list("pk", flat=True)) + [run.pk for run in fair_order(queue)]


def dispatch() -> int:
    """Hand as many waiting runs to Celery as the workers have free slots for; returns how many."""
    from .tasks import train_run

    lock = redis.Redis.from_url(settings.REDIS_URL).lock("netbuilder:dispatch", timeout=30, blocking_timeout=10)
    if not lock.acquire():
        return 0
    sent = 0
    try:
        queues = Run.objects.filter(status=Run.Status.QUEUED, dispatched=False).values_list("queue", flat=True)
        for queue in sorted(set(queues)):
            free = capacity(queue) - _in_progress(queue).count()
            for run in fair_order(queue)[:max(free, 0)]:
                if Run.objects.filter(pk=run.pk, status=Run.Status.QUEUED, dispatched=False).update(dispatched=True):
                    train_run.apply_async((run.pk, run.attempt), queue=queue)
                    sent += 1
    finally:
        lock.release()
    return sent

