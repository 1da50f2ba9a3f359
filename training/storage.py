"""A run's files in Django's storage: epoch checkpoints, the stopped checkpoint and the exported artifacts."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import torch
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from .models import Run

STOPPED_CHECKPOINT = "checkpoints/stopped.pt"


def write(path: str, data: bytes) -> None:
    if default_storage.exists(path):
        default_storage.delete(path)
    default_storage.save(path, ContentFile(data))


def write_state(path: str, state: dict) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write(path, buffer.getvalue())


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


def save_checkpoint(run: Run, epoch: int, state: dict, stopped: bool) -> None:
    write_state(run.storage_path(STOPPED_CHECKPOINT) if stopped else run.checkpoint_path(epoch), state)


def delete_run_files(run: Run) -> None:
    """Every file of a run: checkpoints and artifacts (and the folders, where the storage has folders)."""
    _delete_tree(run.storage_path("").rstrip("/"))


def _delete_tree(folder: str) -> None:
    if not default_storage.exists(folder):
        return
    folders, files = default_storage.listdir(folder)
    for name in files:
        default_storage.delete(f"{folder}/{name}")
    for name in folders:
        _delete_tree(f"{folder}/{name}")
    with contextlib.suppress(NotImplementedError, OSError):  # object stores have no folders to remove
        Path(default_storage.path(folder)).rmdir()


def open_artifact(run: Run, name: str):
    return default_storage.open(run.storage_path(f"artifacts/{name}"), "rb")


def read_weights(run: Run) -> dict:
    """A finished run's trained state_dict."""
    with open_artifact(run, "state_dict.pt") as f:
        return torch.load(io.BytesIO(f.read()), map_location="cpu", weights_only=True)
