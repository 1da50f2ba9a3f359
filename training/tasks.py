from celery import shared_task


@shared_task
def ping():
    """A no-op round trip through the broker, to prove a worker is consuming the queues."""
    return "pong"
