# Import the Celery app whenever Django starts, so that `@shared_task` and `.delay()` use it
# (without this, .delay() silently targets Celery's default AMQP broker).
from .celery import app as celery_app

__all__ = ("celery_app",)
