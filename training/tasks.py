from celery import shared_task
from django.conf import settings

from . import job


@shared_task
def ping():
    """A no-op round trip through the broker, to prove a worker is consuming the queues."""
    return "pong"


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, soft_time_limit=settings.RUN_TIME_LIMIT,
             time_limit=settings.RUN_TIME_LIMIT + 60)
def train_run(self, run_id: int, attempt: int) -> None:
    """Train one run. Acked late and requeued if its process dies, so a lost run is picked up again."""
    job.train(run_id, attempt, worker=self.request.hostname or "")
