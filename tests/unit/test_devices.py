"""Device advertisement and routing: a run reaches only workers whose device fits it."""

import pytest

from training.devices import GIB, DoesNotFit, queue_for_run, queues_for_device


def test_a_gpu_worker_serves_every_tier_its_memory_holds():
    h200 = {"kind": "cuda", "name": "NVIDIA H200", "memory_bytes": 141 * GIB, "count": 1}
    assert queues_for_device(h200)[-1] == "gpu-141g" and "gpu-192g" not in queues_for_device(h200)
    t4 = {"kind": "cuda", "name": "Tesla T4", "memory_bytes": 15 * GIB + 1, "count": 1}
    assert queues_for_device(t4) == ["gpu-8g"]
    assert queues_for_device({"kind": "cpu", "name": "CPU", "memory_bytes": None, "count": 1}) == ["cpu"]


def test_a_run_goes_to_the_smallest_tier_that_fits_it():
    assert queue_for_run("cpu", 100 * GIB) == "cpu" and queue_for_run("auto", GIB) == "cpu"
    assert queue_for_run("cuda", 3 * GIB) == "gpu-8g"
    assert queue_for_run("cuda", 30 * GIB) == "gpu-40g"
    small = {"kind": "cuda", "name": "T4", "memory_bytes": 16 * GIB, "count": 1}
    assert queue_for_run("cuda", 30 * GIB) not in queues_for_device(small)
    with pytest.raises(DoesNotFit, match="largest GPU tier"):
        queue_for_run("cuda", 500 * GIB)
