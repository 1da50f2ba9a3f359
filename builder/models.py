from django.conf import settings
from django.db import models, transaction


class Network(models.Model):
    """A user's network: its current graph, and every saved version of it in `versions`."""

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
    def create(cls, owner, name: str, graph: dict) -> "Network":
        network = cls.objects.create(owner=owner, name=name, graph=graph, version=1)
        network.versions.create(number=1, graph=graph)
        return network

    @transaction.atomic
    def save_graph(self, graph: dict) -> None:
        """Keep the graph as a new version; earlier versions stay as they were."""
        self.version += 1
        self.graph = graph
        self.save()
        self.versions.create(number=self.version, graph=graph)


class NetworkVersion(models.Model):
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    graph = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["network", "number"], name="one_version_number")]
