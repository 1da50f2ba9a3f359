"""What happens to a Run: queueing, the worker's training of it, checkpoints, cancel, loss of a worker.

The Celery task and the API views call these; the training itself is the pure engine.
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import torch
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from . import scheduler
from .bundle import write_bundle
from .datasets import Dataset, load_dataset, load_upload
from .engine import Hooks, Trainer, build_model, pick_device, split
from .events import Publisher, publish, retry_db, status_data
from .models import Run, UploadedDataset

log = logging.getLogger(__name__)

STOPPED_CHECKPOINT = "checkpoints/stopped.pt"


def on_commit_dispatch() -> None:
    """Offer waiting runs to the workers once the transaction that queued one is committed. If Redis is
    unreachable the run still waits, stored: the workers dispatch again every few seconds."""
    def dispatch():
        try:
            scheduler.dispatch()
        except Exception:
            log.warning("could not dispatch runs now; the workers will", exc_info=True)

    transaction.on_commit(dispatch)


def load_run_dataset(key: str, owner_id: int, seed: int) -> Dataset:
    if key.startswith("upload-"):
        upload = UploadedDataset.objects.get(pk=int(key.removeprefix("upload-")), owner_id=owner_id)
        with upload.file.open("rb") as src, tempfile.NamedTemporaryFile(suffix=Path(upload.file.name).suffix) as tmp:
            shutil.copyfileobj(src, tmp)
            tmp.flush()
            return load_upload(Path(tmp.name), upload.kind or None, upload.options, upload_limits(), name=key,
                               title=upload.name)
    return load_dataset(key, seed=seed, cache_dir=settings.DATASET_CACHE_DIR,
                        download=settings.DATASET_DOWNLOADS)


def upload_limits():
    from .datasets import UploadLimits

    return UploadLimits(max_bytes=settings.UPLOAD_MAX_BYTES, max_zip_entries=settings.UPLOAD_MAX_ZIP_ENTRIES,
                        max_uncompressed_bytes=settings.UPLOAD_MAX_UNCOMPRESSED_BYTES,
                        max_image_pixels=settings.UPLOAD_MAX_IMAGE_PIXELS, max_csv_rows=settings.UPLOAD_MAX_CSV_ROWS,
                        max_csv_columns=settings.UPLOAD_MAX_CSV_COLUMNS)


def _write(path: str, data: bytes) -> None:
    if default_storage.exists(path):
        default_storage.delete(path)
    default_storage.save(path, ContentFile(data))


def _torch_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def read_checkpoint(path: str) -> dict:
    with default_storage.open(path, "rb") as f:
        return torch.load(io.BytesIO(f.read()), map_location="cpu", weights_only=True)


def checkpoint_epochs(run: Run) -> list[int]:
    folder = run.storage_path("checkpoints")
    if not default_storage.exists(folder):
        return []
    _, files = default_storage.listdir(folder)
    return sorted(int(f[6:10]) for f in files if f.startswith("epoch-"))


def resume_point(run: Run) -> str | None:
    """The checkpoint a run continues from: where it was stopped, else its last finished epoch."""
    if default_storage.exists(run.storage_path(STOPPED_CHECKPOINT)):
        return run.storage_path(STOPPED_CHECKPOINT)
    epochs = checkpoint_epochs(run)
    return run.checkpoint_path(epochs[-1]) if epochs else None


class RunHooks(Hooks):
    def __init__(self, run: Run, publisher: Publisher):
        self.run, self.publisher = run, publisher

    def emit(self, kind: str, data: dict) -> None:
        self.publisher.put(kind, data)

    def should_stop(self) -> bool:
        return self.publisher.stop_requested.is_set()

    def save_checkpoint(self, epoch: int, state: dict) -> None:
        stopped = self.should_stop()
        path = self.run.storage_path(STOPPED_CHECKPOINT) if stopped else self.run.checkpoint_path(epoch)
        _write(path, _torch_bytes(state))
        if not stopped:
            retry_db(lambda: Run.objects.filter(pk=self.run.pk).update(epochs_done=epoch), "a checkpoint")


def _set(run: Run, **fields) -> None:
    for key, value in fields.items():
        setattr(run, key, value)
    retry_db(lambda: run.save(update_fields=list(fields)), f"run {run.pk}'s {', '.join(fields)}")


def announce_queue(queue: str) -> None:
    """Tell every run still waiting in a queue its new position."""
    queued = Run.objects.filter(queue=queue, status=Run.Status.QUEUED).order_by("created")[:100]
    waiting = retry_db(lambda: list(queued), "the queue")
    for run in waiting:
        publish(run, "status", retry_db(lambda r=run: status_data(r), "a queue position"))


def train(run_id: int, attempt: int, worker: str) -> None:
    """The worker's whole job for one run; any failure ends the run failed with a message, never running."""
    run = Run.objects.get(pk=run_id)
    if run.attempt != attempt or run.status in Run.FINISHED:
        return  # a stale or duplicate message
    if run.status == Run.Status.RUNNING and run.heartbeat and \
            timezone.now() - run.heartbeat < timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT):
        return  # another worker is on it
    config = run.config
    if settings.TRAIN_THREADS:
        torch.set_num_threads(settings.TRAIN_THREADS)
    device = pick_device(config["device"])
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else device.type
    _set(run, status=Run.Status.RUNNING, started=run.started or timezone.now(), heartbeat=timezone.now(),
         worker=worker, device=name, error="")
    publish(run, "status", status_data(run))
    announce_queue(run.queue)
    publisher = Publisher(run).start()
    try:
        try:
            data = load_run_dataset(run.dataset, run.owner_id, config["seed"])
            analysis, model = build_model(run.graph, config["seed"])
            if run.parent_id is not None:  # a fork starts from its parent's weights, with its own settings
                model.load_state_dict(read_checkpoint(run.parent.checkpoint_path(run.parent_epoch))["model"])
            trainer = Trainer(model, data, config, RunHooks(run, publisher))
            if (point := resume_point(run)) is not None:
                trainer.resume(read_checkpoint(point))
            result = trainer.run()
        finally:
            publisher.close()  # every metric is stored before the run's final status
        if result.cancelled:
            _finish(run, Run.Status.CANCELLED, result)
        else:
            _finish(run, Run.Status.SUCCEEDED, result, artifacts=_export(run, trainer, analysis, data, result))
    except SoftTimeLimitExceeded:
        _finish(run, Run.Status.FAILED, None, error=f"the run took longer than its limit of "
                                                    f"{settings.RUN_TIME_LIMIT} s")
    except Exception as exc:
        log.exception("run %s failed", run.pk)
        _finish(run, Run.Status.FAILED, None, error=f"{type(exc).__name__}: {exc}")


def _export(run: Run, trainer: Trainer, analysis, data: Dataset, result) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        sample = torch.from_numpy(data.X[:4])
        report = write_bundle(Path(tmp), trainer.model.cpu().float(), analysis, run.graph, run.config,
                              {"final": result.final, "best": result.best, "stopped_early": result.stopped_early},
                              sample)
        for name in report["files"]:
            _write(run.storage_path(f"artifacts/{name}"), (Path(tmp) / name).read_bytes())
    return report


def _finish(run: Run, status: str, result, artifacts: dict | None = None, error: str = "") -> None:
    retry_db(run.refresh_from_db, f"run {run.pk}")
    fields = {"status": status, "finished": timezone.now(), "error": error}
    if result is not None:
        fields.update(final_metrics=result.final, best_metrics=result.best)
    if artifacts is not None:
        fields["artifacts"] = artifacts
    _set(run, **fields)
    publish(run, "status", status_data(run))
    if status == Run.Status.FAILED:
        publish(run, "error", {"message": error})
    publish(run, "done", {"status": status, "artifacts": sorted(run.artifacts.get("files", {}))})
    retry_db(scheduler.dispatch, "dispatching")  # this run's slot is free
    announce_queue(run.queue)


def reap_lost_runs() -> int:
    """Mark failed the running runs whose worker stopped sending heartbeats; they can be resumed."""
    cutoff = timezone.now() - timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT)
    lost = Run.objects.filter(status=Run.Status.RUNNING, heartbeat__lt=cutoff)
    for run in lost:
        with transaction.atomic():
            if not Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING, heartbeat__lt=cutoff).update(
                    status=Run.Status.FAILED, finished=timezone.now(),
                    error=f"the worker stopped responding; resume the run to continue from epoch "
                          f"{run.epochs_done}"):
                continue
        run.refresh_from_db()
        publish(run, "status", status_data(run))
    return len(lost)


def split_indices(n: int, config: dict):
    """The run's training and validation indices, exactly as its training split them."""
    return split(n, config["val_split"], config["seed"])


@lru_cache(maxsize=8)
def _trained_model(run_id: int, finished: str):
    """A finished run's model, kept for a few runs so trying inputs one after another stays quick."""
    run = Run.objects.get(pk=run_id)
    analysis, model = build_model(run.graph, 0)
    with default_storage.open(run.storage_path("artifacts/state_dict.pt"), "rb") as f:
        model.load_state_dict(torch.load(io.BytesIO(f.read()), map_location="cpu", weights_only=True))
    return analysis, model.eval()


def predict(run: Run, x) -> dict:
    analysis, model = _trained_model(run.pk, str(run.finished))
    source = analysis.shapes[analysis.input_node]
    try:
        tensor = torch.tensor(x, dtype=getattr(torch, source.dtype))
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"the input must be a nested list of numbers: {exc}") from None
    if tuple(tensor.shape) != source.shape:
        raise ValueError(f"the input has shape {list(tensor.shape)}; this model takes {list(source.shape)}")
    if not torch.isfinite(tensor.float()).all():
        raise ValueError("the input must not contain NaN or infinite values")
    with torch.no_grad():
        output = model(tensor.unsqueeze(0))[0].float()
    if run.dataset_info.get("task") == "classification":
        probabilities = torch.softmax(output, 0)
        names = run.dataset_info.get("classes") or [str(i) for i in range(len(output))]
        return {"output": output.tolist(), "probabilities": probabilities.tolist(), "classes": names,
                "predicted": names[int(probabilities.argmax())]}
    return {"output": output.tolist()}
