"""What a worker's device is, and which queues a device serves: plain Python, no Django.

GPU runs are routed by the memory they need to queues named after memory tiers (`gpu-24g` holds runs that fit
in 24 GiB), and a GPU worker consumes every tier its card can hold, so a run only ever reaches a worker whose
device fits it. CPU runs go to the single `cpu` queue.
"""

from __future__ import annotations

import torch

GIB = 2**30
GPU_TIERS_GIB = (8, 16, 24, 40, 48, 80, 96, 141, 192)


class DoesNotFit(ValueError):
    """No GPU tier is large enough for a run."""


def describe_device() -> dict:
    """This machine's training device: kind, model name and memory (in bytes; the CPU's is not a limit)."""
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return {"kind": "cuda", "name": props.name, "memory_bytes": props.total_memory,
                "count": torch.cuda.device_count()}
    if torch.backends.mps.is_available():
        return {"kind": "mps", "name": "Apple GPU", "memory_bytes": None, "count": 1}
    return {"kind": "cpu", "name": "CPU", "memory_bytes": None, "count": 1}


def tier_queue(gib: int) -> str:
    return f"gpu-{gib}g"


def queues_for_device(device: dict) -> list[str]:
    """The queues a worker with this device consumes."""
    if device["kind"] == "cpu":
        return ["cpu"]
    if device["memory_bytes"] is None:  # unified memory (MPS): no tier can be told apart
        return [tier_queue(t) for t in GPU_TIERS_GIB]
    return [tier_queue(t) for t in GPU_TIERS_GIB if t * GIB <= device["memory_bytes"]]


def queue_for_run(device_choice: str, memory_bytes: int) -> str:
    """The queue of a run that asks for `device_choice` and needs about `memory_bytes` to train."""
    if device_choice not in ("cuda", "mps"):
        return "cpu"
    for tier in GPU_TIERS_GIB:
        if memory_bytes <= tier * GIB:
            return tier_queue(tier)
    raise DoesNotFit(f"training needs about {memory_bytes / GIB:.0f} GiB; the largest GPU tier is "
                     f"{GPU_TIERS_GIB[-1]} GiB")
