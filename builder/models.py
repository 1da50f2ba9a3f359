from django.conf import settings
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver


class TooManyVersions(ValueError):
    """A save that would take a network past NETWORK_MAX_VERSIONS."""


class InUse(Exception):
    """Something in progress (a training run) still uses the object a request would delete."""


class Network(models.Model):
    """A user's network: its current graph, and every saved version of it in `versions`.

    `graph` and `version` mirror the newest version row, so listing and opening a network read one row.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="networks")
    name = models.CharField(max_length=200)
    graph = models.JSONField()
    version = models.PositiveIntegerField(default=1)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    @transaction.atomic
    def create(cls, owner, name: str, graph: dict, message: str = "") -> "Network":
        network = cls.objects.create(owner=owner, name=name, graph=graph, version=1)
        network.versions.create(number=1, graph=graph, message=message)
        return network

    @transaction.atomic
    def save_graph(self, graph: dict, message: str = "") -> "NetworkVersion":
        """Keep the graph as a new, immutable version; earlier versions stay as they were."""
        latest = self.versions.aggregate(models.Max("number"))["number__max"] or 0
        if self.versions.count() >= settings.NETWORK_MAX_VERSIONS:
            raise TooManyVersions(f"network '{self.name}' has {settings.NETWORK_MAX_VERSIONS} saved versions, "
                                  f"the limit (NETWORK_MAX_VERSIONS); save it as a new network to keep editing")
        self.version, self.graph = latest + 1, graph
        self.save()
        return self.versions.create(number=self.version, graph=graph, message=message)

    def current_version(self) -> "NetworkVersion":
        return self.versions.get(number=self.version)

    @classmethod
    @transaction.atomic
    def create_imported(cls, owner, name: str, graph: dict, weights: bytes, message: str) -> "Network":
        """A network whose first version carries imported weights (safetensors), to fine-tune from."""
        network = cls.create(owner, name, graph, message)
        network.current_version().weights.save("weights.safetensors", ContentFile(weights))
        return network


def _weights_path(version: "NetworkVersion", filename: str) -> str:
    return f"networks/{version.network_id}/versions/{version.number}/{filename}"


class NetworkVersion(models.Model):
    """One saved graph of a network. Never changed after it is written: runs point at it."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    graph = models.JSONField()
    message = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    # Imported weights (safetensors, named as the exported model.py names them): a run may start from them.
    weights = models.FileField(upload_to=_weights_path, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["network", "number"], name="one_version_number")]

    def __str__(self) -> str:
        return f"{self.network} v{self.number}"


@receiver(post_delete, sender=NetworkVersion)
def _delete_weights(sender, instance: NetworkVersion, **kwargs) -> None:
    if instance.weights:
        instance.weights.delete(save=False)  # a version's file goes with it
