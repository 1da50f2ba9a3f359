from django.apps import AppConfig


class BuilderConfig(AppConfig):
    """Graphs and their editing: the layer registry API, validation, networks and code export."""

    name = "builder"
    default_auto_field = "django.db.models.BigAutoField"
