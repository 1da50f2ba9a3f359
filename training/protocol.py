"""The run protocol, defined once: run statuses, event kinds, the best-epoch rule and download files.

Plain Python with no Django import. The database, the worker, the API and the websocket use these names,
and the browser reads them from /api/protocol instead of keeping a copy of its own.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)
FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)
RESUMABLE = (RunStatus.FAILED, RunStatus.CANCELLED)  # continue from the last checkpoint


class EventKind(StrEnum):
    """The `type` of a websocket message; each carries `run` and a per-run increasing `seq`."""

    STATUS = "status"  # status, queue position, device, error, epochs done
    STEP = "step"  # batched step losses, about ten a second
    EPOCH = "epoch"  # train/val loss and accuracy, throughput, ETA, and whether it is the best so far
    LAYER_STATS = "layer_stats"  # per node: output mean, std, histogram, dead units; gradient norm, update ratio
    LOG = "log"
    ERROR = "error"
    DONE = "done"  # the final status and the files to download


# Download file name -> (content type, label shown in the browser).
DOWNLOADS = {
    "bundle.zip": ("application/zip", "Bundle (ZIP)"),
    "weights.safetensors": ("application/octet-stream", "Weights (safetensors)"),
    "state_dict.pt": ("application/octet-stream", "state_dict (PyTorch)"),
    "model.onnx": ("application/octet-stream", "ONNX model"),
    "model.py": ("text/x-python", "model.py"),
}


def download_filename(run_id: int, name: str) -> str:
    return f"run{run_id}-{name}"


def best_score(metrics: dict) -> float:
    """The number the best epoch minimises: validation loss, or training loss without a validation split."""
    return metrics.get("val_loss", metrics["train_loss"])


def describe() -> dict:
    """Everything above, as JSON for the browser."""
    from builder.graph.errors import DOCUMENT_ERRORS, ErrorCode

    return {"run_statuses": [s.value for s in RunStatus], "active": [s.value for s in ACTIVE],
            "finished": [s.value for s in FINISHED], "resumable": [s.value for s in RESUMABLE],
            "event_kinds": [k.value for k in EventKind],
            "downloads": [{"name": name, "content_type": kind, "label": label}
                          for name, (kind, label) in DOWNLOADS.items()],
            "best_metric": "val_loss, or train_loss when there is no validation split (lower is better)",
            "error_codes": [c.value for c in ErrorCode],
            "document_errors": sorted(c.value for c in DOCUMENT_ERRORS)}
