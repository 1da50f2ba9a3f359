"""The training API: datasets (built in and uploaded), runs, their events, checkpoints and downloads.

Mounted on the builder's NinjaAPI (same auth, CSRF and error handling); every object is the caller's own.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Body, File, Form, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from pydantic import Field

from builder.api import GRAPH_BODY
from builder.graph import analyze
from builder.limits import graph_limits
from builder.models import Network

from . import runs
from .config import ConfigError, check_config, describe
from .datasets import BUILTINS, DatasetError, check_fit, list_builtins, load_upload
from .datasets.idx import IDX_DATASETS
from .devices import DoesNotFit, queue_for_run
from .events import publish, status_data
from .models import Run, RunEvent, UploadedDataset
from .protocol import describe as describe_protocol
from .scheduler import live_workers

router = Router(tags=["training"])

DOWNLOADS = {"bundle.zip": "application/zip", "weights.safetensors": "application/octet-stream",
             "state_dict.pt": "application/octet-stream", "model.onnx": "application/octet-stream",
             "model.py": "text/x-python"}
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

@lru_cache(maxsize=32)
def _builtin(key: str):
    return runs.load_run_dataset(key, owner_id=0, seed=0)


def _dataset(request: HttpRequest, key: str):
    """The dataset as the worker will load it, and its listing."""
    try:
        if key.startswith("upload-"):
            upload = _own_upload(request, key)
            data = runs.load_run_dataset(key, request.user.pk, seed=0)
            return data, {"key": key, "title": upload.name, "builtin": False, "kind": data.kind,
                          "info": upload.info}
        if key not in BUILTINS and key not in IDX_DATASETS:
            raise HttpError(404, f"no dataset '{key}'")
        data = _builtin(key)
    except DatasetError as exc:
        raise HttpError(400, str(exc)) from None
    return data, {"key": key, "title": data.title, "description": data.description, "builtin": True,
                  "kind": data.kind, "info": data.info()}


def _own_upload(request: HttpRequest, key: str) -> UploadedDataset:
    pk = key.removeprefix("upload-")
    if not pk.isdigit():
        raise HttpError(404, f"no dataset '{key}'")
    return get_object_or_404(UploadedDataset, pk=int(pk), owner=request.user)


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
    data, listing = _dataset(request, key)
    return {**listing, "preview": data.preview(max(1, min(n, MAX_PREVIEW_SAMPLES)))}


@router.post("/datasets", response={201: DatasetDetail, 400: Detail, 413: Detail},
             summary="Upload a CSV, an NPZ (X, y) or a ZIP of image folders (one per class)")
def upload_dataset(request: HttpRequest, file: File[UploadedFile], name: Form[str] = "",
                   target: Form[str] = "", kind: Form[str] = ""):
    if file.size > settings.UPLOAD_MAX_BYTES:
        raise HttpError(413, f"the file is {file.size:,} bytes; uploads are limited to "
                             f"{settings.UPLOAD_MAX_BYTES:,} bytes")
    options = {"target": target} if target else {}
    title = name or file.name or "upload"
    suffix = Path(file.name or "").suffix.lower()
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        for chunk in file.chunks():
            tmp.write(chunk)
        tmp.flush()
        try:
            data = load_upload(Path(tmp.name), kind or None, options, runs.upload_limits(), name="upload",
                               title=title)
        except DatasetError as exc:
            raise HttpError(400, str(exc)) from None
    info = data.info()
    upload = UploadedDataset.objects.create(owner=request.user, name=title[:200], kind=kind, file=file,
                                            options=options, info=info)
    upload.info = {**info, "name": upload.key}
    upload.save(update_fields=["info"])
    return Status(201, {"key": upload.key, "title": upload.name, "builtin": False, "kind": data.kind,
                        "info": upload.info,
                        "preview": data.preview(PREVIEW_SAMPLES)})


@router.delete("/datasets/{key}", response={204: None}, summary="Delete one of your uploads")
def delete_dataset(request: HttpRequest, key: str):
    upload = _own_upload(request, key)
    upload.file.delete(save=False)
    upload.delete()
    return Status(204, None)


@router.post("/datasets/{key}/fit", response=FitOut, openapi_extra=GRAPH_BODY,
             summary="Does a graph fit this dataset? Problems, and the parameter changes that fix them")
def fit(request: HttpRequest, key: str, graph: dict[str, Any] = Body(...)):
    _, listing = _dataset(request, key)
    return check_fit(graph, listing["info"])


# --- runs ---------------------------------------------------------------------------------------------

@router.get("/protocol", summary="Run statuses, event kinds, download files, the best-epoch rule and error codes")
def protocol(request: HttpRequest) -> dict:
    return describe_protocol()


@router.get("/training/config", summary="The training settings: defaults, ranges and help, for the form")
def training_config(request: HttpRequest) -> list[dict]:
    return describe()


def _run_out(run: Run) -> dict:
    return {**{f: getattr(run, f) for f in RunOut.model_fields if hasattr(run, f)},
            "queue_position": run.queue_position(), "duration_s": run.duration_s,
            "downloads": [n for n in DOWNLOADS if n in run.artifacts.get("files", {})],
            "last_seq": run.event_seq}


def _own_run(request: HttpRequest, run_id: int, lock: bool = False) -> Run:
    runs_qs = Run.objects.select_for_update() if lock else Run.objects
    return get_object_or_404(runs_qs, pk=run_id, owner=request.user)


def _checked(config: dict) -> dict:
    try:
        return check_config(config)
    except ConfigError as exc:
        raise HttpError(400, str(exc)) from None


def _active_limit(request: HttpRequest) -> None:
    active = Run.objects.filter(owner=request.user, status__in=[Run.Status.QUEUED, Run.Status.RUNNING]).count()
    if active >= settings.RUNS_MAX_ACTIVE_PER_USER:
        raise HttpError(429, f"you have {active} runs queued or running; the limit is "
                             f"{settings.RUNS_MAX_ACTIVE_PER_USER}. Wait for one to finish or stop one")


def _within_limits(graph: dict, config: dict) -> str:
    """Check the run's epochs and estimated memory against the limits; return the queue that fits it."""
    if config["epochs"] > settings.RUN_MAX_EPOCHS:
        raise HttpError(400, f"epochs is {config['epochs']}; runs are limited to {settings.RUN_MAX_EPOCHS} epochs")
    memory = analyze(graph, graph_limits()).memory(config["batch_size"])["total"]
    if memory > settings.RUN_MAX_MEMORY_BYTES:
        raise HttpError(400, f"training needs about {_size(memory)} at batch size {config['batch_size']}; the "
                             f"limit is {_size(settings.RUN_MAX_MEMORY_BYTES)}. Use a smaller batch or network")
    try:
        return queue_for_run(config["device"], memory)
    except DoesNotFit as exc:
        raise HttpError(400, str(exc)) from None


def _size(count: int) -> str:
    return f"{count / 2**30:.1f} GiB" if count >= 2**30 else f"{count / 2**20:.1f} MiB"


def _queue(run: Run) -> Run:
    publish(run, "status", status_data(run))
    runs.on_commit_dispatch()
    return run


@router.post("/runs", response={201: RunOut, 400: Detail, 429: Detail}, summary="Start training a network")
def create_run(request: HttpRequest, payload: RunIn):
    network = get_object_or_404(Network, pk=payload.network_id, owner=request.user)
    config = _checked(payload.config)
    _, listing = _dataset(request, payload.dataset)
    verdict = check_fit(network.graph, listing["info"])
    if not verdict["fits"]:
        raise HttpError(400, "the network does not fit the dataset: " + "; ".join(verdict["problems"]))
    queue = _within_limits(network.graph, config)
    _active_limit(request)
    with transaction.atomic():
        run = Run.objects.create(owner=request.user, network=network, network_version=network.version,
                                 graph=network.graph, dataset=payload.dataset, dataset_info=listing["info"],
                                 config=config, queue=queue)
        _queue(run)
    return Status(201, _run_out(run))


@router.get("/runs", response=list[RunOut], summary="Your runs, newest first")
def list_runs(request: HttpRequest, network_id: int | None = None):
    runs.reap_lost_runs()
    found = Run.objects.filter(owner=request.user)
    if network_id is not None:
        found = found.filter(network_id=network_id)
    return [_run_out(r) for r in found[:200]]


@router.get("/runs/{run_id}", response=RunOut, summary="One run: status, queue position, metrics")
def get_run(request: HttpRequest, run_id: int):
    runs.reap_lost_runs()
    return _run_out(_own_run(request, run_id))


@router.get("/runs/{run_id}/events", response=list[dict[str, Any]],
            summary="The run's stored events after a sequence number (what the websocket replays)")
def run_events(request: HttpRequest, run_id: int, after: int = 0):
    run = _own_run(request, run_id)
    return [e.message() for e in RunEvent.objects.filter(run=run, seq__gt=after)[:5000]]


@router.post("/runs/{run_id}/cancel", response={200: RunOut, 409: Detail}, summary="Stop a queued or running run")
def cancel_run(request: HttpRequest, run_id: int):
    with transaction.atomic():
        run = _own_run(request, run_id, lock=True)
        if run.status == Run.Status.QUEUED:
            run.status, run.cancel_requested = Run.Status.CANCELLED, True
            run.save(update_fields=["status", "cancel_requested"])
            publish(run, "status", status_data(run))
        elif run.status == Run.Status.RUNNING:
            # The worker finishes its step, saves a checkpoint and marks the run cancelled.
            run.cancel_requested = True
            run.save(update_fields=["cancel_requested"])
        else:
            return Status(409, {"detail": f"the run has already {run.status}"})
    return _run_out(run)


@router.post("/runs/{run_id}/resume", response={200: RunOut, 409: Detail, 429: Detail},
             summary="Continue a failed or cancelled run from its last checkpoint")
def resume_run(request: HttpRequest, run_id: int):
    _active_limit(request)
    with transaction.atomic():
        run = _own_run(request, run_id, lock=True)
        if run.status not in (Run.Status.FAILED, Run.Status.CANCELLED):
            return Status(409, {"detail": f"only a failed or cancelled run can be resumed; this one is {run.status}"})
        run.status, run.cancel_requested, run.attempt = Run.Status.QUEUED, False, run.attempt + 1
        run.finished, run.error, run.dispatched = None, "", False
        run.save(update_fields=["status", "cancel_requested", "attempt", "finished", "error", "dispatched"])
        _queue(run)
    return _run_out(run)


@router.get("/runs/{run_id}/checkpoints", response=list[int], summary="The epochs a run has checkpoints of")
def checkpoints(request: HttpRequest, run_id: int):
    return runs.checkpoint_epochs(_own_run(request, run_id))


@router.post("/runs/{run_id}/fork", response={201: RunOut, 400: Detail, 429: Detail},
             summary="A new run from one of this run's checkpoints, with changed settings")
def fork_run(request: HttpRequest, run_id: int, payload: ForkIn):
    parent = _own_run(request, run_id)
    epochs = runs.checkpoint_epochs(parent)
    epoch = payload.epoch if payload.epoch is not None else (epochs[-1] if epochs else None)
    if epoch not in epochs:
        raise HttpError(400, f"run {parent.pk} has no checkpoint of epoch {epoch}; it has {epochs or 'none'}")
    config = _checked({**parent.config, **payload.config})
    queue = _within_limits(parent.graph, config)
    _active_limit(request)
    with transaction.atomic():
        run = Run.objects.create(owner=request.user, network=parent.network, network_version=parent.network_version,
                                 graph=parent.graph, dataset=parent.dataset, dataset_info=parent.dataset_info,
                                 config=config,
                                 queue=queue, parent=parent, parent_epoch=epoch)
        _queue(run)
    return Status(201, _run_out(run))


@router.get("/runs/{run_id}/files/{name}", response={200: None}, summary="Download a finished run's file: "
            "bundle.zip, weights.safetensors, state_dict.pt, model.onnx or model.py")
def download(request: HttpRequest, run_id: int, name: str):
    run = _own_run(request, run_id)
    if name not in DOWNLOADS or name not in run.artifacts.get("files", {}):
        raise HttpError(404, f"run {run.pk} has no file '{name}'")
    stem = f"run{run.pk}-"
    return FileResponse(default_storage.open(run.storage_path(f"artifacts/{name}"), "rb"), as_attachment=True,
                        filename=stem + name, content_type=DOWNLOADS[name])


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


@router.get("/runs/{run_id}/samples", response={200: list[dict[str, Any]], 409: Detail},
            summary="Validation samples of a finished run's dataset, to try the model on")
def samples(request: HttpRequest, run_id: int, n: int = 12):
    run = _finished(request, run_id)
    data = runs.load_run_dataset(run.dataset, run.owner_id, run.config["seed"])
    _, val = runs.split_indices(len(data.X), run.config)
    chosen = (val if len(val) else range(len(data.X)))[: max(1, min(n, 100))]
    return [{"x": data.X[i].tolist(), "label": data.classes[data.y[i]] if data.classes else data.y[i].tolist()}
            for i in map(int, chosen)]


@router.post("/runs/{run_id}/predict", response={200: PredictOut, 400: Detail, 409: Detail},
             summary="Run a finished model on one input: its output and, for a classifier, class probabilities")
def predict(request: HttpRequest, run_id: int, payload: PredictIn):
    run = _finished(request, run_id)
    try:
        return runs.predict(run, payload.x)
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
