import hashlib
import secrets

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from .datasets.store import ARRAYS
from .protocol import FINISHED, RunStatus


class UploadedDataset(models.Model):
    """A user's own data file (CSV, NPZ or a ZIP of images), parsed once, on upload, into arrays in storage that
    every later use maps (training.data)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10)
    file = models.FileField(upload_to="datasets/")
    options = models.JSONField(default=dict)
    info = models.JSONField(default=dict)  # Dataset.info() at upload time
    # The folder in storage holding the parsed arrays, X.npy and y.npy; empty for an upload older than them,
    # which is parsed once more, on its first use, to write them.
    arrays = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    @property
    def key(self) -> str:
        return f"upload-{self.pk}"

    def array_names(self) -> list[str]:
        """The stored arrays' names in storage: X first, then y; none before they are written."""
        return [f"{self.arrays}{name}.npy" for name in ARRAYS] if self.arrays else []

    def delete_files(self) -> None:
        """The uploaded file and its parsed arrays, out of storage (the row stays)."""
        self.file.delete(save=False)
        for name in self.array_names():
            default_storage.delete(name)


class Run(models.Model):
    """One training of one network version. Its status is written only by training.lifecycle."""

    Status = RunStatus
    FINISHED = FINISHED

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="runs")
    network = models.ForeignKey("builder.Network", on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey("builder.NetworkVersion", on_delete=models.CASCADE, related_name="runs")
    dataset = models.CharField(max_length=100)  # a built-in name, or "upload-<id>"
    dataset_info = models.JSONField(default=dict)  # Dataset.info(): task, classes, kind, shapes
    config = models.JSONField()
    queue = models.CharField(max_length=20, default="cpu")
    dispatched = models.BooleanField(default=False)  # handed to Celery; runs wait undispatched in a fair order
    dispatched_at = models.DateTimeField(null=True, blank=True)  # the fair order takes turns by this
    status = models.CharField(max_length=10, choices=[(s.value, s.value.capitalize()) for s in RunStatus],
                              default=RunStatus.QUEUED)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    attempt = models.PositiveIntegerField(default=1)  # a queued message of an older attempt is ignored
    worker = models.CharField(max_length=200, blank=True)
    device = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    lost = models.BooleanField(default=False)  # failed because its worker went silent; a redelivery takes it up
    epochs_done = models.PositiveIntegerField(default=0)
    best_metrics = models.JSONField(null=True, blank=True)
    final_metrics = models.JSONField(null=True, blank=True)
    artifacts = models.JSONField(default=dict)  # file name -> size, and the ONNX check report
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="forks")
    parent_epoch = models.PositiveIntegerField(null=True, blank=True)
    # Fine-tuning: the weights a run starts from, where they are not a fresh initialisation: a version's
    # imported weights, or what an earlier run trained. Tensors are taken where name and shape match.
    init_version = models.ForeignKey("builder.NetworkVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    init_run = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event_seq = models.PositiveIntegerField(default=0)  # the last sequence number given to an event

    class Meta:
        ordering = ["-created"]

    def storage_path(self, name: str) -> str:
        return f"runs/{self.pk}/{name}"

    def checkpoint_path(self, epoch: int) -> str:
        return self.storage_path(f"checkpoints/epoch-{epoch:04d}.pt")

    @property
    def graph(self) -> dict:
        return self.version.graph

    @property
    def network_version(self) -> int:
        return self.version.number

    @property
    def duration_s(self) -> float | None:
        if not self.started:
            return None
        return round(((self.finished or timezone.now()) - self.started).total_seconds(), 1)

    def add_event(self, kind: str, data: dict) -> "RunEvent":
        """Store an event with the run's next sequence number (safe with several writers)."""
        with transaction.atomic():
            Run.objects.filter(pk=self.pk).update(event_seq=F("event_seq") + 1)
            seq = Run.objects.values_list("event_seq", flat=True).get(pk=self.pk)
            return RunEvent.objects.create(run_id=self.pk, seq=seq, kind=kind, data=data)


class RunEvent(models.Model):
    """One message of the live-metrics protocol, kept so a page opened later replays the whole run."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=16)  # the longest EventKind, "layer_stats", fits
    data = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="one_event_per_seq")]

    def message(self) -> dict:
        return {"type": self.kind, "run": self.run_id, "seq": self.seq, **self.data}


class WorkerInfo(models.Model):
    """A worker as it advertises itself: its device, the queues it consumes and how many runs it takes at once."""

    name = models.CharField(max_length=200, unique=True)
    queues = models.JSONField(default=list)
    device = models.JSONField(default=dict)  # training.devices.describe_device()
    concurrency = models.PositiveIntegerField(default=1)
    started = models.DateTimeField(auto_now_add=True)
    heartbeat = models.DateTimeField()

    class Meta:
        ordering = ["name"]


class ShareLink(models.Model):
    """A read-only link to one network version or one finished run, for anyone who has it.

    The token (256 random bits) is shown once, when the link is made; only its SHA-256 is stored, as for API
    tokens, so the database cannot hand links out. A revoked link finds nothing: the same 404 as a wrong one.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links")
    version = models.ForeignKey("builder.NetworkVersion", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="share_links")
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.CASCADE, related_name="share_links")
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=8)  # the token's first characters, to tell links apart
    created = models.DateTimeField(auto_now_add=True)
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [models.CheckConstraint(
            condition=models.Q(version__isnull=False, run__isnull=True) | models.Q(version__isnull=True,
                                                                                  run__isnull=False),
            name="share_one_thing")]

    @staticmethod
    def digest_of(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, owner, *, version=None, run=None) -> tuple["ShareLink", str]:
        token = secrets.token_urlsafe(32)
        link = cls.objects.create(owner=owner, version=version, run=run, digest=cls.digest_of(token), hint=token[:6])
        return link, token

    @classmethod
    def active(cls, token: str) -> "ShareLink | None":
        """The link this token opens, or None (wrong, revoked, or its owner's account is disabled)."""
        return cls.objects.select_related("version__network", "run__version__network").filter(
            digest=cls.digest_of(token), revoked__isnull=True, owner__is_active=True).first()

    @property
    def network(self):
        return (self.run.version if self.run else self.version).network
