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
from ninja import Body, File, Form, Query, Router, Schema, Status
from ninja import Path as NinjaPath
from ninja.errors import HttpError
from ninja.files import UploadedFile
from pydantic import Field

from builder.graph import analyze
from builder.models import Network
from builder.openapi import GRAPH_BODY

from . import data, inference, lifecycle, protocol, shares, storage
from .config import describe
from .datasets import check_fit, list_builtins
from .models import Run, RunEvent, UploadedDataset
from .scheduler import live_workers, queue_position

router = Router(tags=["training"])

PREVIEW_SAMPLES = 8
MAX_PREVIEW_SAMPLES = 500  # enough for a scatter of a point cloud, small enough to send in one response
# Ids as the database can hold them: a larger number is refused (422) before a query could overflow.
MAX_ID = 2**63 - 1


# --- schemas ------------------------------------------------------------------------------------------

class DatasetOut(Schema):
    key: str
    title: str
    description: str = ""
    builtin: bool
    kind: str = Field("", description="image, tabular, points, sequence or tokens: how its samples look")
    info: dict[str, Any] | None = None
    ready: bool = Field(True, description="False for MNIST or Fashion-MNIST when their files are not cached and "
                                          "downloads are off: opening it then fails, and the files are uploaded")


class DatasetDetail(DatasetOut):
    preview: dict[str, Any]


class FitOut(Schema):
    fits: bool
    problems: list[str]
    fixes: list[dict[str, Any]]


class StartFrom(Schema):
    """Fine-tuning: start from these weights instead of a fresh initialisation (one of the two)."""

    version: int | None = Field(None, description="A version of the same network with imported weights.")
    run: int | None = Field(None, description="One of your finished runs: the weights it trained.")


class RunIn(Schema):
    network_id: int
    version: int | None = Field(None, description="The network version to train; the current one when left out.")
    dataset: str
    config: dict[str, Any] = {}
    start_from: StartFrom | None = Field(None, description="Weights to start from, taken where the names and "
                                                           "shapes match the trained graph's.")


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
    init_version: int | None = Field(None, description="It started from this version's imported weights.")
    init_run_id: int | None = Field(None, description="It started from the weights this run trained.")
    last_seq: int


class Detail(Schema):
    detail: str


# --- datasets -----------------------------------------------------------------------------------------

@router.get("/datasets", response=list[DatasetOut], summary="Built-in datasets and your uploads")
def list_datasets(request: HttpRequest):
    builtins = [{"key": d["name"], "title": d["title"], "description": d["description"], "builtin": True,
                 "kind": d["kind"], "info": d["info"], "ready": data.ready(d["name"])} for d in list_builtins()]
    uploads = [{"key": u.key, "title": u.name, "builtin": False, "kind": u.info.get("kind", ""), "info": u.info}
               for u in UploadedDataset.objects.filter(owner=request.user)]
    return builtins + uploads


@router.get("/datasets/{key}", response={200: DatasetDetail, 400: Detail, 404: Detail, 503: Detail},
            summary="A dataset's shapes, task, classes and first samples (503: a download the server could not make)")
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


@router.post("/datasets/{key}/fit", response={200: FitOut, 400: Detail, 404: Detail, 503: Detail},
             openapi_extra=GRAPH_BODY,
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
            "init_version": run.init_version.number if run.init_version_id else None,
            "last_seq": run.event_seq}


def _own_run(request: HttpRequest, run_id: int) -> Run:
    return get_object_or_404(Run.objects.select_related("version"), pk=run_id, owner=request.user)


@router.post("/runs", response={201: RunOut, 400: Detail, 404: Detail, 429: Detail, 503: Detail},
             summary="Start training a network (its current version, or the one named)")
def create_run(request: HttpRequest, payload: RunIn):
    network = get_object_or_404(Network, pk=payload.network_id, owner=request.user)
    version = get_object_or_404(network.versions, number=payload.version or network.version)
    lifecycle.checked_config(payload.config)  # a bad setting is named before the dataset is loaded
    _, listing = data.listing(payload.dataset, request.user.pk)
    start = payload.start_from
    init_version = init_run = None
    if start is not None and (start.version is None) == (start.run is None):
        raise HttpError(400, "start_from names either a version or a run")
    if start is not None and start.version is not None:
        init_version = get_object_or_404(network.versions, number=start.version)
    if start is not None and start.run is not None:
        init_run = _own_run(request, start.run)
    run = lifecycle.create(request.user, version, payload.dataset, listing["info"], payload.config,
                           init_version=init_version, init_run=init_run)
    return Status(201, _run_out(run))


@router.get("/runs", response=list[RunOut], summary="Your runs, newest first")
def list_runs(request: HttpRequest, network_id: int | None = Query(None, ge=1, le=MAX_ID)):
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


@router.post("/runs/{run_id}/fork", response={201: RunOut, 400: Detail, 404: Detail, 429: Detail},
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


# --- share links -------------------------------------------------------------------------------------


class ShareIn(Schema):
    network_id: int | None = Field(None, ge=1, le=MAX_ID, description="Share a version of this network ...")
    version: int | None = Field(None, ge=1, le=MAX_ID, description="... this one (the current one when left out),")
    run_id: int | None = Field(None, ge=1, le=MAX_ID, description="or else this finished run.")


class ShareOut(Schema):
    id: int
    kind: str = Field(description="version or run")
    network_id: int
    version: int
    run_id: int | None
    hint: str = Field(description="The token's first characters, to tell links apart.")
    created: datetime


class NewShare(ShareOut):
    url: str = Field(description="The link; its token is shown only this once (only a digest is kept).")


@router.post("/shares", response={201: NewShare, 400: Detail, 404: Detail, 409: Detail},
             summary="A read-only link to a network version or a finished run, for anyone who has it")
def create_share(request: HttpRequest, payload: ShareIn):
    link, token = shares.share(request.user, payload.network_id, payload.version, payload.run_id)
    return Status(201, {**shares.described(link), "url": request.build_absolute_uri(shares.link_path(token))})


@router.get("/shares", response=list[ShareOut], summary="Your share links that still work, newest first")
def list_shares(request: HttpRequest, network_id: int | None = Query(None, ge=1, le=MAX_ID),
                run_id: int | None = Query(None, ge=1, le=MAX_ID)):
    return [shares.described(link) for link in shares.owned(request.user, network_id, run_id)]


@router.delete("/shares/{share_id}", response={204: None}, summary="Revoke a share link: it then opens nothing")
def revoke_share(request: HttpRequest, share_id: int = NinjaPath(..., ge=1, le=MAX_ID)):
    shares.revoke(request.user, share_id)
    return Status(204, None)


# --- looking inside a run's model (a finished run's weights, else its latest checkpoint) ----------------------

MAX_MISCLASSIFIED = 100
MAX_PAIRS = 2000


class InspectIn(Schema):
    x: list[Any] | None = Field(None, description="One input, shaped like the network's Input; or give `sample`.")
    sample: int | None = Field(None, description="The number of a validation sample (0 = the first), instead of x.")


def _looked_inside(run: Run, look, *args, **kwargs):
    try:
        return look(run, *args, **kwargs)
    except inference.NoModel as exc:
        raise HttpError(409, str(exc)) from None
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None


def _limit(name: str, value: int, most: int) -> int:
    if not 1 <= value <= most:
        raise HttpError(400, f"{name} must be between 1 and {most}; it is {value}")
    return value


@router.post("/runs/{run_id}/inspect", response={200: dict[str, Any], 400: Detail, 409: Detail},
             summary="What every node outputs for one input (feature maps, sequences, vectors), the class "
                     "probabilities and the first convolution's filters")
def inspect(request: HttpRequest, run_id: int, payload: InspectIn):
    """Give `x` (an input) or `sample` (a validation sample's number). Feature maps are capped at 8 channels and
    pooled to at most 28×28; sequences at 64×64; vectors at 256 values."""
    run = _own_run(request, run_id)
    if (payload.x is None) == (payload.sample is None):
        raise HttpError(400, "give either x (an input) or sample (a validation sample's number), not both or neither")
    return _looked_inside(run, inference.inspect, x=payload.x, sample=payload.sample)


@router.get("/runs/{run_id}/misclassified", response={200: dict[str, Any], 400: Detail, 409: Detail},
            summary="A classifier's misclassified validation samples: predicted, true class and confidence")
def misclassified(request: HttpRequest, run_id: int, limit: int = 24):
    """The most confident mistakes first; `limit` at most 100. `wrong` counts them all."""
    run = _own_run(request, run_id)
    return _looked_inside(run, inference.misclassified, _limit("limit", limit, MAX_MISCLASSIFIED))


@router.get("/runs/{run_id}/predictions", response={200: dict[str, Any], 400: Detail, 409: Detail},
            summary="A regressor's predictions against the true values over the validation set")
def predictions(request: HttpRequest, run_id: int, limit: int = 500):
    """`true` and `predicted` (the first output), for at most `limit` (2000) validation samples."""
    run = _own_run(request, run_id)
    return _looked_inside(run, inference.regression_pairs, _limit("limit", limit, MAX_PAIRS))


@router.get("/runs/{run_id}/units", response={200: dict[str, Any], 400: Detail, 409: Detail},
            summary="Each unit's output over the input plane, for a network of two inputs and small layers")
def units(request: HttpRequest, run_id: int):
    """For every layer whose output has at most 8 units: each unit's output over a 20×20 grid of the input plane
    (`x`, `y`: the cell centres; rows follow `y`)."""
    return _looked_inside(_own_run(request, run_id), inference.units)


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
