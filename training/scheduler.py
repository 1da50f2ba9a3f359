"""The fair queue's order: runs wait in the database and are handed to Celery only when a worker has a free
slot, choosing first the users with the fewest runs in progress, then the oldest run.

Read-only: it decides the order and counts slots; training.lifecycle.dispatch acts on it.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from .models import Run, WorkerInfo

WORKER_TIMEOUT_SECONDS = 30  # a worker not heard from for this long offers no slots


def live_workers():
    return WorkerInfo.objects.filter(heartbeat__gte=timezone.now() - timedelta(seconds=WORKER_TIMEOUT_SECONDS))


def capacity(queue: str) -> int:
    """Runs the live workers consuming `queue` can take at once (a worker counts for each queue it serves)."""
    return sum(w.concurrency for w in live_workers() if queue in w.queues)


def in_progress(queue: str):
    return Run.objects.filter(queue=queue).filter(Q(status=Run.Status.RUNNING) |
                                                  Q(status=Run.Status.QUEUED, dispatched=True))


def fair_order(queue: str) -> list[Run]:
    """Undispatched runs in the order they will start: fewest runs in progress for their user first."""
    waiting = list(Run.objects.filter(queue=queue, status=Run.Status.QUEUED, dispatched=False).order_by("created"))
    busy = Counter(in_progress(queue).values_list("owner_id", flat=True))
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


def queue_position(run: Run) -> int | None:
    """1 for the next run to start in its queue: runs already handed to a worker, then the fair order."""
    if run.status != Run.Status.QUEUED:
        return None
    order = queue_order(run.queue)
    return order.index(run.pk) + 1 if run.pk in order else None  # it may have started meanwhile
