"""Read-only share links: making one for a network version or a finished run, and what its page shows.

A shared page is open to anyone with the link, so everything it shows is chosen here, field by field: the one
version's graph, its analysis and code, and for a run its settings, metrics and curves. Never the owner's name,
their other networks or runs, an upload's name, a worker or an error text, which can name files.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from builder.api import analysed, code_export
from builder.graph import registry_document
from builder.models import Network, NetworkVersion

from .lifecycle import Refused
from .models import Run, RunEvent, ShareLink
from .protocol import FINISHED, EventKind

# The curves: step losses and epoch metrics (a log line or an error may name a worker or a file).
SHARED_EVENTS = (EventKind.STEP, EventKind.EPOCH)
MAX_SHARED_EVENTS = 5000  # as many as GET /api/runs/{id}/events answers at once
# What a dataset's description may say on a shared page: its shapes and classes, not an upload's name.
SHARED_DATASET_FIELDS = ("task", "kind", "classes", "num_classes", "input_shape", "output_shape", "samples")


def share(owner, network_id: int | None, version: int | None, run_id: int | None) -> tuple[ShareLink, str]:
    """A new link to one of `owner`'s network versions (the current one when `version` is None) or finished
    runs. Another user's network or run is a 404, as a missing one."""
    if (network_id is None) == (run_id is None):
        raise Refused("give either network_id (and optionally version) or run_id, not both", 400)
    if run_id is not None:
        run = get_object_or_404(Run, pk=run_id, owner=owner)
        if run.status not in FINISHED:
            raise Refused(f"run {run.pk} is {run.status}; share it once it has finished", 409)
        return ShareLink.issue(owner, run=run)
    network = get_object_or_404(Network, pk=network_id, owner=owner)
    return ShareLink.issue(owner, version=get_object_or_404(network.versions, number=version or network.version))


def owned(owner, network_id: int | None = None, run_id: int | None = None):
    """The owner's links that still work, newest first; only those of one network or one run when asked."""
    found = ShareLink.objects.filter(owner=owner, revoked__isnull=True).select_related("version", "run__version")
    if network_id is not None:
        found = found.filter(version__network_id=network_id) | found.filter(run__network_id=network_id)
    if run_id is not None:
        found = found.filter(run_id=run_id)
    return found


def revoke(owner, link_id: int) -> None:
    link = get_object_or_404(ShareLink, pk=link_id, owner=owner, revoked__isnull=True)
    link.revoked = timezone.now()
    link.save(update_fields=["revoked"])


def described(link: ShareLink) -> dict:
    """A link as its owner's list shows it (the token itself is never stored)."""
    version = link.run.version if link.run else link.version
    return {"id": link.pk, "kind": "run" if link.run else "version", "network_id": version.network_id,
            "version": version.number, "run_id": link.run_id, "hint": link.hint, "created": link.created}


def opened(token: str) -> ShareLink:
    link = ShareLink.active(token)
    if link is None:
        raise Http404("no such share link")
    return link


def page(link: ShareLink) -> dict:
    """Everything the shared page shows, as one JSON document for the page (it calls no API)."""
    version: NetworkVersion = link.run.version if link.run else link.version
    analysis = analysed(version.graph)
    registry = registry_document()
    shown = {"name": version.network.name, "version": version.number, "message": version.message,
             "created": version.created.isoformat(), "graph": version.graph,
             "analysis": analysis.summary(),
             "code": code_export(analysis) if analysis.valid else None,
             # What the read-only canvas needs of the registry: each layer's label, category and inputs.
             "registry": {"categories": registry["categories"],
                          "layers": [{key: layer[key] for key in ("type", "label", "category", "inputs")}
                                     for layer in registry["layers"]]},
             "run": None}
    if link.run:
        shown["run"] = _run(link.run)
    return shown


def _run(run: Run) -> dict:
    info = {key: run.dataset_info[key] for key in SHARED_DATASET_FIELDS if key in run.dataset_info}
    builtin = not run.dataset.startswith("upload-")
    info["title"] = run.dataset_info.get("title", run.dataset) if builtin else "an uploaded dataset"
    events = RunEvent.objects.filter(run=run, kind__in=SHARED_EVENTS)[:MAX_SHARED_EVENTS]
    return {"status": run.status, "dataset_info": info, "config": run.config, "epochs_done": run.epochs_done,
            "best_metrics": run.best_metrics, "final_metrics": run.final_metrics, "duration_s": run.duration_s,
            "events": [{"type": e.kind, **e.data} for e in events]}


def link_path(token: str) -> str:
    return reverse("training:shared", args=[token])
