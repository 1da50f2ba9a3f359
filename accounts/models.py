import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

PREFIX = "nb_"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """A revocable bearer token. Only its SHA-256 is stored; the key is shown once, when it is made."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12)  # the key's first characters, to tell tokens apart
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    @classmethod
    def issue(cls, owner, name: str) -> tuple["ApiToken", str]:
        key = PREFIX + secrets.token_urlsafe(32)
        return cls.objects.create(owner=owner, name=name, digest=digest(key), hint=key[:10]), key

    @classmethod
    def user_for(cls, key: str):
        """The active token's owner, or None; marks the token used."""
        token = cls.objects.select_related("owner").filter(digest=digest(key), revoked__isnull=True).first()
        if token is None or not token.owner.is_active:
            return None
        cls.objects.filter(pk=token.pk).update(last_used=timezone.now())
        return token.owner
