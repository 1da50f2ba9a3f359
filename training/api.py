"""The training API: datasets (built in and uploaded), runs, their events, checkpoints and downloads.

Thin: every change of a run goes through training.lifecycle, and its refusals (lifecycle.Refused), missing
datasets and dataset errors are answered by the handlers in config/api.py. Every object is the caller's own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Body, File, Form, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from pydantic import Field

from builder.graph import analyze
from builder.models import Network
from builder.openapi import GRAPH_BODY

from . import data, inference, lifecycle, protocol, storage
from .config import describe
from .datasets import check_fit, list_builtins
from .datasets.idx import IDX_DATASETS
from .models import Run, RunEvent, UploadedDataset
from .scheduler import live_workers, queue_position

router = Router(tags=["training"])

PREVIEW_SAMPLES = 8
MAX_PREVIEW_SAMPLES = 500  # enough for a scatter of a point cloud, small enough to send in one response


# --- schemas ------------------------------------------------------------------------------------------

class DatasetOut(Schema):
    key: str
    title: str
    description: str = ""
    builtin: bool
    kind: str = Field("", description="image, tabular, points, sequence or tokens: how its samples look")
    info: dict[str, Any] | None = None


class DatasetDetail(DatasetOut):
    preview: dict[str, Any]


class FitOut(Schema):
    fits: bool
    problems: list[str]
    fixes: list[dict[str, Any]]


class RunIn(Schema):
    network_id: int
    version: int | None = Field(None, description="The network version to train; the current one when left out.")
    dataset: str
    config: dict[str, Any] = {}


class ForkIn(Schema):
    epoch: int | None = Field(None, description="The checkpoint to start from; the last one when left out.")
    config: dict[str, Any] = {}


class RunOut(Schema):
    id: int
    network_id: int
    network_version: int
    dataset: str
    dataset_info: dict[str, Any]
    config: dict[str, Any]
    status: str
    queue: str
    queue_position: int | None
    created: datetime
    started: datetime | None
    finished: datetime | None
    duration_s: float | None
    worker: str
    device: str
    error: str
    epochs_done: int
    best_metrics: dict[str, Any] | None
    final_metrics: dict[str, Any] | None
    downloads: list[str]
    parent_id: int | None
    parent_epoch: int | None
    last_seq: int


class Detail(Schema):
    detail: str


# --- datasets -----------------------------------------------------------------------------------------

@router.get("/datasets", response=list[DatasetOut], summary="Built-in datasets and your uploads")
def list_datasets(request: HttpRequest):
    builtins = [{"key": d["name"], "title": d["title"], "description": d["description"], "builtin": True,
                 "kind": d["kind"]} for d in list_builtins()]
    builtins += [{"key": key, "title": spec.title, "description": spec.description, "builtin": True,
                  "kind": "image"} for key, spec in IDX_DATASETS.items()]
    uploads = [{"key": u.key, "title": u.name, "builtin": False, "kind": u.info.get("kind", ""), "info": u.info}
               for u in UploadedDataset.objects.filter(owner=request.user)]
    return builtins + uploads


@router.get("/datasets/{key}", response=DatasetDetail, summary="A dataset's shapes, task, classes and first samples")
def get_dataset(request: HttpRequest, key: str, n: int = PREVIEW_SAMPLES):
    """`n`: how many samples to preview (at most 500), spread over the whole set."""
    dataset, listing = data.listing(key, request.user.pk)
    return {**listing, "preview": dataset.preview(max(1, min(n, MAX_PREVIEW_SAMPLES)))}


@router.post("/datasets", response={201: DatasetDetail, 400: Detail, 413: Detail},
             summary="Upload a CSV, an NPZ (X, y) or a ZIP of image folders (one per class)")
def upload_dataset(request: HttpRequest, file: File[UploadedFile], name: Form[str] = "",
                   target: Form[str] = "", kind: Form[str] = ""):
    """Parsed once, here, into arrays that every later use maps; refused (400) before anything is decoded when
    the headers of what it holds add up to more than the decoded-size or pixel budget."""
    if file.size > settings.UPLOAD_MAX_BYTES:
        raise HttpError(413, f"the file is {file.size:,} bytes; uploads are limited to "
                             f"{settings.UPLOAD_MAX_BYTES:,} bytes")
    options = {"target": target} if target else {}
    dataset, upload = data.add_upload(request.user, file, name or file.name or "upload", kind, options)
    return Status(201, {"key": upload.key, "title": upload.name, "builtin": False, "kind": dataset.kind,
                        "info": upload.info, "preview": dataset.preview(PREVIEW_SAMPLES)})


@router.delete("/datasets/{key}", response={204: None, 409: Detail},
               summary="Delete one of your uploads (not while a run uses it)")
def delete_dataset(request: HttpRequest, key: str):
    lifecycle.delete_upload(data.own_upload(request.user.pk, key))
    return Status(204, None)


@router.post("/datasets/{key}/fit", response=FitOut, openapi_extra=GRAPH_BODY,
             summary="Does a graph fit this dataset? Problems, and the parameter changes that fix them")
def fit(request: HttpRequest, key: str, graph: dict[str, Any] = Body(...)):
    _, listing = data.listing(key, request.user.pk)
    return check_fit(analyze(graph, settings.GRAPH_LIMITS), listing["info"])


# --- runs ---------------------------------------------------------------------------------------------

@router.get("/protocol", summary="Run statuses, event kinds, download files, the best-epoch rule and error codes")
def run_protocol(request: HttpRequest) -> dict:
    return protocol.describe()


@router.get("/training/config", summary="The training settings: defaults, ranges and help, for the form")
def training_config(request: HttpRequest) -> list[dict]:
    return describe()


def _run_out(run: Run) -> dict:
    return {**{f: getattr(run, f) for f in RunOut.model_fields if hasattr(run, f)},
            "queue_position": queue_position(run), "duration_s": run.duration_s,
            "downloads": [n for n in protocol.DOWNLOADS if n in run.artifacts.get("files", {})],
            "last_seq": run.event_seq}


def _own_run(request: HttpRequest, run_id: int) -> Run:
    return get_object_or_404(Run.objects.select_related("version"), pk=run_id, owner=request.user)


@router.post("/runs", response={201: RunOut, 400: Detail, 404: Detail, 429: Detail},
             summary="Start training a network (its current version, or the one named)")
def create_run(request: HttpRequest, payload: RunIn):
    network = get_object_or_404(Network, pk=payload.network_id, owner=request.user)
    version = get_object_or_404(network.versions, number=payload.version or network.version)
    lifecycle.checked_config(payload.config)  # a bad setting is named before the dataset is loaded
    _, listing = data.listing(payload.dataset, request.user.pk)
    run = lifecycle.create(request.user, version, payload.dataset, listing["info"], payload.config)
    return Status(201, _run_out(run))


@router.get("/runs", response=list[RunOut], summary="Your runs, newest first")
def list_runs(request: HttpRequest, network_id: int | None = None):
    lifecycle.reap_lost_runs()
    found = Run.objects.filter(owner=request.user).select_related("version")
    if network_id is not None:
        found = found.filter(network_id=network_id)
    return [_run_out(r) for r in found[:200]]


@router.get("/runs/{run_id}", response=RunOut, summary="One run: status, queue position, metrics")
def get_run(request: HttpRequest, run_id: int):
    lifecycle.reap_lost_runs()
    return _run_out(_own_run(request, run_id))


@router.get("/runs/{run_id}/events", response=list[dict[str, Any]],
            summary="The run's stored events after a sequence number (what the websocket replays)")
def run_events(request: HttpRequest, run_id: int, after: int = 0):
    run = _own_run(request, run_id)
    return [e.message() for e in RunEvent.objects.filter(run=run, seq__gt=after)[:5000]]


@router.post("/runs/{run_id}/cancel", response={200: RunOut, 409: Detail}, summary="Stop a queued or running run")
def cancel_run(request: HttpRequest, run_id: int):
    return _run_out(lifecycle.cancel(_own_run(request, run_id).pk, request.user.pk))


@router.post("/runs/{run_id}/resume", response={200: RunOut, 409: Detail, 429: Detail},
             summary="Continue a failed or cancelled run from its last checkpoint")
def resume_run(request: HttpRequest, run_id: int):
    return _run_out(lifecycle.resume(_own_run(request, run_id).pk, request.user.pk))


@router.get("/runs/{run_id}/checkpoints", response=list[int], summary="The epochs a run has checkpoints of")
def checkpoints(request: HttpRequest, run_id: int):
    return storage.checkpoint_epochs(_own_run(request, run_id))


@router.post("/runs/{run_id}/fork", response={201: RunOut, 400: Detail, 429: Detail},
             summary="A new run from one of this run's checkpoints, with changed settings")
def fork_run(request: HttpRequest, run_id: int, payload: ForkIn):
    return Status(201, _run_out(lifecycle.fork(_own_run(request, run_id), payload.epoch, payload.config)))


@router.get("/runs/{run_id}/files/{name}", response={200: None}, summary="Download a finished run's file: "
            "bundle.zip, weights.safetensors, state_dict.pt, model.onnx or model.py")
def download(request: HttpRequest, run_id: int, name: str):
    run = _own_run(request, run_id)
    if name not in protocol.DOWNLOADS or name not in run.artifacts.get("files", {}):
        raise HttpError(404, f"run {run.pk} has no file '{name}'")
    content_type, _ = protocol.DOWNLOADS[name]
    return FileResponse(storage.open_artifact(run, name), as_attachment=True,
                        filename=protocol.download_filename(run.pk, name), content_type=content_type)


# --- trying a trained model ---------------------------------------------------------------------------

class PredictIn(Schema):
    x: list[Any] = Field(description="One sample, shaped like the network's Input (without the batch dimension).")


class PredictOut(Schema):
    output: list[Any]
    probabilities: list[float] | None = None
    classes: list[str] = []
    predicted: str | None = None


def _finished(request: HttpRequest, run_id: int) -> Run:
    run = _own_run(request, run_id)
    if "state_dict.pt" not in run.artifacts.get("files", {}):
        raise HttpError(409, f"run {run.pk} has no trained model yet (it is {run.status})")
    return run


@router.get("/runs/{run_id}/samples", response={200: list[dict[str, Any]], 404: Detail, 409: Detail},
            summary="Validation samples of a finished run's dataset, to try the model on")
def samples(request: HttpRequest, run_id: int, n: int = 12):
    return inference.samples(_finished(request, run_id), n)


@router.post("/runs/{run_id}/predict", response={200: PredictOut, 400: Detail, 409: Detail},
             summary="Run a finished model on one input: its output and, for a classifier, class probabilities")
def predict(request: HttpRequest, run_id: int, payload: PredictIn):
    run = _finished(request, run_id)
    try:
        return inference.predict(run, payload.x)
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None


# --- the cluster --------------------------------------------------------------------------------------

class WorkerOut(Schema):
    name: str
    queues: list[str]
    device: dict[str, Any]
    concurrency: int
    started: datetime
    heartbeat: datetime


@router.get("/workers", response=list[WorkerOut], summary="The live workers: their devices, queues and slots")
def workers(request: HttpRequest):
    return live_workers()
