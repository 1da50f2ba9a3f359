from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """API tokens for programmatic use, on top of Django's own users and sessions."""

    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
