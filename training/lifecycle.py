"""Every change of a run's state, in one place: create, queue, dispatch, start, heartbeat, checkpoint,
finish, fail, cancel, resume, fork and reap.

These functions are the only writers of a run's status. The API, the Celery task, the worker's advertiser and
the `train` command call them; each graph is analysed once here, against the one set of limits in
settings.GRAPH_LIMITS, and a refusal carries the same message whichever path asked.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import redis
from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from builder.graph import Analysis, analyze
from builder.models import Network, NetworkVersion

from . import data, scheduler, storage
from .config import ConfigError, check_config
from .datasets import check_fit
from .devices import DoesNotFit, queue_for_run
from .events import publish, retry_db
from .models import Run, UploadedDataset
from .protocol import ACTIVE, RESUMABLE, EventKind, RunStatus

log = logging.getLogger(__name__)

TRAIN_TASK = "training.tasks.train_run"  # sent by name: the task module calls this one
HEARTBEAT_GRACE_SECONDS = 5  # a redelivered run waits this long past the heartbeat timeout for a silent worker


class Refused(Exception):
    """A request the lifecycle turns down, with the reason and the HTTP status an adapter answers with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


def status_data(run: Run) -> dict:
    return {"status": run.status, "queue_position": scheduler.queue_position(run), "device": run.device,
            "worker": run.worker, "error": run.error, "epochs_done": run.epochs_done}


def _set(run: Run, **fields) -> None:
    for key, value in fields.items():
        setattr(run, key, value)
    retry_db(lambda: run.save(update_fields=list(fields)), f"run {run.pk}'s {', '.join(fields)}")


def _announce(run: Run) -> None:
    publish(run, EventKind.STATUS, retry_db(lambda: status_data(run), "a run's status"))


# --- checks before a run exists -----------------------------------------------------------------------

def checked_config(raw: dict | None) -> dict:
    try:
        return check_config(raw)
    except ConfigError as exc:
        raise Refused(str(exc)) from None


def graph_errors(analysis: Analysis) -> str:
    return "; ".join(error.message for error in analysis.errors)


def trainable(analysis: Analysis, info: dict, config: dict) -> str:
    """Refuse a graph that is invalid or over a limit, does not fit the dataset, or would take too long or
    too much memory; return the queue that fits it."""
    if not analysis.valid:
        raise Refused(f"the network has errors: {graph_errors(analysis)}")
    verdict = check_fit(analysis, info)
    if not verdict["fits"]:
        raise Refused("the network does not fit the dataset: " + "; ".join(verdict["problems"]))
    if config["epochs"] > settings.RUN_MAX_EPOCHS:
        raise Refused(f"epochs is {config['epochs']}; runs are limited to {settings.RUN_MAX_EPOCHS} epochs "
                      f"(RUN_MAX_EPOCHS)")
    memory = analysis.memory(config["batch_size"])["total"]
    try:
        queue = queue_for_run(config["device"], memory)
    except DoesNotFit as exc:
        raise Refused(str(exc)) from None
    limit, setting = settings.RUN_MAX_MEMORY_BYTES, "RUN_MAX_MEMORY_BYTES"
    if queue == "cpu" and limit > settings.CPU_RUN_MAX_MEMORY_BYTES:
        limit, setting = settings.CPU_RUN_MAX_MEMORY_BYTES, "CPU_RUN_MAX_MEMORY_BYTES"
    if memory > limit:
        raise Refused(f"training needs about {_size(memory)} at batch size {config['batch_size']}; the limit is "
                      f"{_size(limit)} ({setting}). Use a smaller batch or network")
    return queue


def served(queue: str) -> None:
    """Refuse a GPU run that no live worker could take: it would hold a slot of the user's cap for ever.
    CPU runs wait: `make run` and every deployment start a CPU worker."""
    if queue != "cpu" and scheduler.capacity(queue) == 0:
        raise Refused(f"no worker with a GPU that fits this run is running (queue {queue}); choose the device "
                      f"'auto' or 'cpu', or start a GPU worker")


def _size(count: int) -> str:
    return f"{count / 2**30:.1f} GiB" if count >= 2**30 else f"{count / 2**20:.1f} MiB"


def _within_active_cap(owner_id: int) -> None:
    """Called inside a transaction: the owner's row is locked, so concurrent requests count one at a time."""
    get_user_model().objects.select_for_update().filter(pk=owner_id).exists()
    active = Run.objects.filter(owner_id=owner_id, status__in=ACTIVE).count()
    if active >= settings.RUNS_MAX_ACTIVE_PER_USER:
        raise Refused(f"you have {active} runs queued or running; the limit is {settings.RUNS_MAX_ACTIVE_PER_USER} "
                      f"(RUNS_MAX_ACTIVE_PER_USER). Wait for one to finish or stop one", status=429)


# --- create, fork, queue, dispatch --------------------------------------------------------------------

def create(owner, version: NetworkVersion, dataset: str, info: dict, raw_config: dict | None, *,
           parent: Run | None = None, parent_epoch: int | None = None, init_version: NetworkVersion | None = None,
           init_run: Run | None = None) -> Run:
    """A new queued run of a network version on a dataset (`info` is the dataset's Dataset.info()), from a
    fresh initialisation, or from a version's imported weights or an earlier run's trained ones."""
    if init_version is not None and not init_version.weights:
        raise Refused(f"version {init_version.number} has no imported weights to start from")
    if init_run is not None and "state_dict.pt" not in init_run.artifacts.get("files", {}):
        raise Refused(f"run {init_run.pk} has no trained weights to start from (it {init_run.status})")
    config = checked_config(raw_config)
    queue = trainable(analyze(version.graph, settings.GRAPH_LIMITS), info, config)
    served(queue)
    with transaction.atomic():
        _within_active_cap(owner.pk)
        _network_still_there(version.network_id)
        run = Run.objects.create(owner=owner, network_id=version.network_id, version=version, dataset=dataset,
                                 dataset_info=info, config=config, queue=queue, parent=parent,
                                 parent_epoch=parent_epoch, init_version=init_version, init_run=init_run)
        # Files are kept by run id, and a database restored from a backup gives out ids again that the storage
        # still has files under: a new run must not take another's checkpoint for its own.
        storage.delete_run_files(run)
        _queue(run)
    return run


def _network_still_there(network_id: int) -> None:
    """Called inside a transaction: the network's row is locked, as its deletion locks it, so a network isn't
    deleted under a run being created, which PostgreSQL would refuse at commit."""
    if not Network.objects.select_for_update(no_key=True).filter(pk=network_id).exists():
        raise Refused("the network was deleted meanwhile", status=404)


def _dataset_still_there(run: Run) -> None:
    if not run.dataset.startswith("upload-"):
        return
    try:
        data.own_upload(run.owner_id, run.dataset)
    except data.NoSuchDataset:
        raise Refused(f"run {run.pk} trained on the upload '{run.dataset}', which was deleted; start a new run "
                      f"on another dataset") from None


def fork(parent: Run, epoch: int | None, overrides: dict | None) -> Run:
    """A new run that starts from one of `parent`'s checkpoints (the last when `epoch` is None)."""
    _dataset_still_there(parent)
    epochs = storage.checkpoint_epochs(parent)
    epoch = epoch if epoch is not None else (epochs[-1] if epochs else None)
    if epoch not in epochs:
        raise Refused(f"run {parent.pk} has no checkpoint of epoch {epoch}; it has {epochs or 'none'}")
    return create(parent.owner, parent.version, parent.dataset, parent.dataset_info,
                  {**parent.config, **(overrides or {})}, parent=parent, parent_epoch=epoch)


def _queue(run: Run) -> None:
    """Announce a queued run, and offer waiting runs to the workers once this transaction commits. If Redis
    is unreachable the run still waits, stored: the workers dispatch again every few seconds."""
    _announce(run)

    def offer():
        try:
            dispatch()
        except Exception:
            log.warning("could not dispatch runs now; the workers will", exc_info=True)

    transaction.on_commit(offer)


def dispatch() -> int:
    """Hand as many waiting runs to Celery as the workers have free slots for; returns how many.

    Takes a Redis lock, so any number of web servers and workers may call it at once.
    """
    lock = redis.Redis.from_url(settings.REDIS_URL).lock("netbuilder:dispatch", timeout=30, blocking_timeout=10)
    if not lock.acquire():
        return 0
    sent = 0
    try:
        queues = Run.objects.filter(status=RunStatus.QUEUED, dispatched=False).values_list("queue", flat=True)
        for queue in sorted(set(queues)):
            free = scheduler.capacity(queue) - scheduler.in_progress(queue).count()
            for run in scheduler.fair_order(queue)[:max(free, 0)]:
                if Run.objects.filter(pk=run.pk, status=RunStatus.QUEUED, dispatched=False).update(
                        dispatched=True, dispatched_at=timezone.now()):
                    current_app.send_task(TRAIN_TASK, (run.pk, run.attempt), queue=queue)
                    sent += 1
    finally:
        lock.release()
    return sent


def announce_queue(queue: str) -> None:
    """Tell every run still waiting in a queue its new position."""
    waiting = retry_db(lambda: list(Run.objects.filter(queue=queue, status=RunStatus.QUEUED).order_by("created")[:100]),
                       "the queue")
    for run in waiting:
        _announce(run)


# --- the worker's side --------------------------------------------------------------------------------

def claim(run_id: int, attempt: int) -> Run | None:
    """The run a task message asks for, or None when the message is stale or duplicated, or another live
    worker has the run.

    A message redelivered because its worker died finds the run still running (its heartbeat not yet old)
    or already marked lost: it waits for the heartbeat to age out, then takes the run over, and the run
    continues from its last checkpoint.
    """
    deadline = time.monotonic() + settings.RUN_HEARTBEAT_TIMEOUT + HEARTBEAT_GRACE_SECONDS
    while True:
        run = Run.objects.select_related("version").filter(pk=run_id, attempt=attempt).first()
        if run is None or (run.status in Run.FINISHED and not (run.status == RunStatus.FAILED and run.lost)):
            return None
        beating = run.status == RunStatus.RUNNING and run.heartbeat and \
            timezone.now() - run.heartbeat < timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT)
        if not beating:
            return run
        if time.monotonic() > deadline:
            return None  # it keeps beating: another worker really has it
        time.sleep(1)


def start(run: Run, worker: str, device: str) -> None:
    _set(run, status=RunStatus.RUNNING, started=run.started or timezone.now(), heartbeat=timezone.now(),
         worker=worker, device=device, error="", finished=None, lost=False)
    _announce(run)
    announce_queue(run.queue)


def heartbeat(run: Run) -> bool:
    """The worker is alive; returns whether the run should stop: the user asked, or its row is gone."""
    if not Run.objects.filter(pk=run.pk).update(heartbeat=timezone.now()):
        return True
    return Run.objects.filter(pk=run.pk, cancel_requested=True).exists()


def exists(run: Run) -> bool:
    return Run.objects.filter(pk=run.pk).exists()


def checkpoint(run: Run, epoch: int) -> None:
    retry_db(lambda: Run.objects.filter(pk=run.pk).update(epochs_done=epoch), "a checkpoint")


def finish(run: Run, result, artifacts: dict | None = None) -> None:
    """The engine returned: the run succeeded, or was cancelled at a step."""
    fields = {"final_metrics": result.final, "best_metrics": result.best}
    if artifacts is not None:
        fields["artifacts"] = artifacts
    _end(run, RunStatus.CANCELLED if result.cancelled else RunStatus.SUCCEEDED, **fields)


def fail(run: Run, error: str) -> None:
    _end(run, RunStatus.FAILED, error=error)


def _end(run: Run, status: RunStatus, **fields) -> None:
    try:
        retry_db(run.refresh_from_db, f"run {run.pk}")
    except Run.DoesNotExist:
        return  # deleted meanwhile: nothing left to record
    _set(run, status=status, finished=timezone.now(), error=fields.pop("error", ""), **fields)
    _announce(run)
    if status == RunStatus.FAILED:
        publish(run, EventKind.ERROR, {"message": run.error})
    publish(run, EventKind.DONE, {"status": status, "artifacts": sorted(run.artifacts.get("files", {}))})
    retry_db(dispatch, "dispatching")  # this run's slot is free
    announce_queue(run.queue)


def reap_lost_runs() -> int:
    """Mark failed the running runs whose worker stopped sending heartbeats (they can be resumed, and a
    redelivered task takes them up), and the GPU runs that waited RUN_MAX_QUEUE_WAIT with no worker able to
    take them. Returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT)
    lost = list(Run.objects.filter(status=RunStatus.RUNNING, heartbeat__lt=cutoff))
    for run in lost:
        if Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING, heartbeat__lt=cutoff).update(
                status=RunStatus.FAILED, finished=timezone.now(), lost=True,
                error=f"the worker stopped responding; resume the run to continue from epoch {run.epochs_done}"):
            run.refresh_from_db()
            _announce(run)
    waited = timezone.now() - timedelta(seconds=settings.RUN_MAX_QUEUE_WAIT)
    stranded = [run for run in Run.objects.filter(status=RunStatus.QUEUED, dispatched=False, created__lt=waited)
                .exclude(queue="cpu") if scheduler.capacity(run.queue) == 0]
    for run in stranded:
        fail(run, f"no worker able to take this run (queue {run.queue}) came within {settings.RUN_MAX_QUEUE_WAIT} s "
                  f"(RUN_MAX_QUEUE_WAIT); resume it once a GPU worker runs, or start a new run on the CPU")
    return len(lost) + len(stranded)


# --- the user's side ----------------------------------------------------------------------------------

def cancel(run_id: int, owner_id: int) -> Run:
    """Stop a queued run at once; a running one stops at its next step, saving a checkpoint."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id, owner_id=owner_id)
        if run.status == RunStatus.QUEUED:
            _set(run, status=RunStatus.CANCELLED, cancel_requested=True)
            _announce(run)
        elif run.status == RunStatus.RUNNING:
            _set(run, cancel_requested=True)
        else:
            raise Refused(f"the run has already {run.status}", status=409)
    return run


def resume(run_id: int, owner_id: int) -> Run:
    """Queue a failed or cancelled run again; it continues from its last checkpoint."""
    with transaction.atomic():
        _within_active_cap(owner_id)
        run = Run.objects.select_for_update().get(pk=run_id, owner_id=owner_id)
        if run.status not in RESUMABLE:
            raise Refused(f"only a failed or cancelled run can be resumed; this one is {run.status}", status=409)
        _dataset_still_there(run)
        _set(run, status=RunStatus.QUEUED, cancel_requested=False, attempt=run.attempt + 1, finished=None,
             error="", dispatched=False, lost=False)
        _queue(run)
    return run


def delete_upload(upload: UploadedDataset) -> None:
    """Delete an upload (its file goes with it), unless a run in progress trains on it."""
    active = Run.objects.filter(owner_id=upload.owner_id, dataset=upload.key,
                                status__in=ACTIVE).order_by("created").first()
    if active is not None:
        raise Refused(f"run {active.pk} is {active.status} on '{upload.name}'; stop it before deleting the upload",
                      status=409)
    upload.delete()
