"""The worker's job for one run, read top to bottom: claim it, load its data, compile its graph, train,
export. Every change of the run's state goes through training.lifecycle; the training is the pure engine."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import torch
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from safetensors.torch import load as load_safetensors

from builder.graph import analyze

from . import lifecycle, storage
from .bundle import write_bundle
from .data import load_run_dataset
from .engine import Hooks, NonFiniteLoss, Trainer, build_model, load_matching, pick_device
from .events import Publisher
from .insight import LayerStats
from .models import Run
from .protocol import EventKind

log = logging.getLogger(__name__)


class RunHooks(Hooks):
    def __init__(self, run: Run, publisher: Publisher):
        self.run, self.publisher = run, publisher

    def emit(self, kind: str, data: dict) -> None:
        self.publisher.put(kind, data)

    def should_stop(self) -> bool:
        return self.publisher.stop_requested.is_set()

    def save_checkpoint(self, epoch: int, state: dict) -> None:
        stopped = self.should_stop()
        self.publisher.flush()
        storage.save_checkpoint(self.run, epoch, state, stopped)
        if not stopped:
            lifecycle.checkpoint(self.run, epoch)


def train(run_id: int, attempt: int, worker: str) -> None:
    """Train one run; any failure ends it failed with a message, never left running."""
    run = lifecycle.claim(run_id, attempt)
    if run is None:
        return
    if settings.TRAIN_THREADS:
        torch.set_num_threads(settings.TRAIN_THREADS)
    try:
        device = pick_device(run.config["device"])
    except ValueError as exc:
        lifecycle.fail(run, str(exc))
        return
    lifecycle.start(run, worker, torch.cuda.get_device_name(device) if device.type == "cuda" else device.type)
    publisher = Publisher(run, beat=lambda: lifecycle.heartbeat(run)).start()
    try:
        try:
            config = run.config
            data = load_run_dataset(run.dataset, run.owner_id, config["seed"])
            analysis = analyze(run.graph, settings.GRAPH_LIMITS)
            lifecycle.trainable(analysis, run.dataset_info, config)  # the limits may have changed since
            model = build_model(analysis, config["seed"])
            if run.init_version_id is not None or run.init_run_id is not None:
                publisher.put(EventKind.LOG, {"message": _start_from(run, model)})
            if run.parent_id is not None:  # a fork starts from its parent's weights, with its own settings
                parent = run.parent
                model.load_state_dict(storage.read_checkpoint(parent.checkpoint_path(run.parent_epoch))["model"])
            trainer = Trainer(model, data, config, RunHooks(run, publisher), LayerStats(model, analysis))
            if (point := storage.resume_point(run)) is not None:
                trainer.resume(storage.read_checkpoint(point))
            result = trainer.run()
        finally:
            publisher.close()  # every metric is stored before the run's final status
        if not lifecycle.exists(run):  # deleted while it trained: nothing to finish, nothing to keep
            storage.delete_run_files(run)
            return
        artifacts = None if result.cancelled else _export(run, trainer, analysis, data, result)
        lifecycle.finish(run, result, artifacts)
    except lifecycle.Refused as exc:
        lifecycle.fail(run, exc.message)
    except NonFiniteLoss as exc:
        lifecycle.fail(run, str(exc))
    except SoftTimeLimitExceeded:
        lifecycle.fail(run, f"the run took longer than its limit of {settings.RUN_TIME_LIMIT} s")
    except Exception as exc:
        log.exception("run %s failed", run.pk)
        lifecycle.fail(run, f"{type(exc).__name__}: {exc}")


def _start_from(run: Run, model: torch.nn.Module) -> str:
    """Load the weights a fine-tuning run starts from; say what was taken."""
    if run.init_version_id is not None:
        with run.init_version.weights.open("rb") as f:
            state, origin = load_safetensors(f.read()), f"the imported weights of version {run.init_version.number}"
    else:
        state, origin = storage.read_weights(run.init_run), f"the weights run {run.init_run_id} trained"
    loaded, fresh = load_matching(model, state)
    if not loaded:
        raise lifecycle.Refused(f"none of {origin} fit this graph (no tensor has the same name and shape)")
    rest = f"; freshly initialised: {', '.join(fresh[:5])}{' …' if len(fresh) > 5 else ''}" if fresh else ""
    return f"started from {origin}: {loaded} tensors{rest}"


def _export(run: Run, trainer: Trainer, analysis, data, result) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        sample = torch.from_numpy(data.X[:4])
        report = write_bundle(Path(tmp), trainer.model.cpu().float(), analysis, analysis.doc, run.config,
                              {"final": result.final, "best": result.best, "stopped_early": result.stopped_early},
                              sample, data.info())
        for name in report["files"]:
            storage.write(run.storage_path(f"artifacts/{name}"), (Path(tmp) / name).read_bytes())
    return report
