"""The fair queue's order: runs wait in the database and are handed to Celery only when a worker has a free
slot, and users take turns (round robin), so one user's twenty runs do not make everyone else wait.

Read-only: it decides the order and counts slots; training.lifecycle.dispatch acts on it.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Max, Q
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
    """Undispatched runs in the order they will start: users take turns, the one whose run was dispatched
    longest ago (or never) first, and each user's runs go oldest first."""
    waiting = Run.objects.filter(queue=queue, status=Run.Status.QUEUED, dispatched=False).order_by("created")
    by_owner: dict[int, list[Run]] = {}
    for run in waiting:
        by_owner.setdefault(run.owner_id, []).append(run)
    last = dict(Run.objects.filter(queue=queue, owner_id__in=by_owner, dispatched_at__isnull=False)
                .values("owner_id").annotate(Max("dispatched_at")).values_list("owner_id", "dispatched_at__max"))
    # A user's turn: when their last run was dispatched; after each pick it moves behind every earlier turn.
    turn = {owner: last[owner].timestamp() if owner in last else float("-inf") for owner in by_owner}
    later = max((t for t in turn.values() if t != float("-inf")), default=0.0)
    order = []
    while by_owner:
        owner = min(by_owner, key=lambda o: (turn[o], by_owner[o][0].created))
        order.append(by_owner[owner].pop(0))
        later += 1
        turn[owner] = later
        if not by_owner[owner]:
            del by_owner[owner]
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
