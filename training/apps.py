from django.apps import AppConfig


class TrainingConfig(AppConfig):
    """Training runs: the Celery tasks that train compiled graphs and the websocket that streams their metrics."""

    name = "training"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals  # noqa: F401 (connects the receivers)
