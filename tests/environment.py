"""The test session's environment, set before Django's settings are read (loaded with `-p tests.environment`).

REDIS_URL: when it is not set (a laptop's `make test`), an embedded redis-server is started for the session
and stopped when it ends. When only the unit and api tiers are selected (`pytest tests/unit`, `pytest -m "unit or
api"`, `make test-fast`) none is started and REDIS_URL points at a port where nothing listens, so a test of those
tiers that reaches for Redis fails at once. CI sets REDIS_URL to its own Redis.

pytest-django reads the settings in its pytest_load_initial_conftests, before any conftest is imported: so this
is a plugin named on the command line (pyproject's addopts), and its wrapper of that hook runs first.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from config.embedded_redis import EmbeddedRedis

# Playwright's sync API runs an event loop in the test thread; Django's ORM would refuse to run there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Runs and their artifacts go to a throwaway folder, never to one the environment names (the tests empty it); a
# lost worker is noticed after a few seconds.
os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="netbuilder-media-")
atexit.register(shutil.rmtree, os.environ["MEDIA_ROOT"], ignore_errors=True)
os.environ.setdefault("RUN_HEARTBEAT_TIMEOUT", "5")
# The test worker shares two cores with the test process, Daphne and Chromium: one torch thread each. In the
# test process and every child (set before torch is first imported): on a busy machine torch's idle threads
# spin, and a small model trains ten times slower with two threads than with one.
os.environ.setdefault("TRAIN_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

TESTS = Path(__file__).resolve().parent
WITHOUT_SERVICES = (TESTS / "unit", TESTS / "api")  # the tiers that need no Redis
MARKS_WITHOUT_SERVICES = {"unit", "api", "unit or api", "api or unit"}
NO_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: a connection is refused at once

_embedded_redis = None


def needs_no_redis(options) -> bool:
    """Whether the command line selects only unit and api tests: by `-m`, or by paths under their folders."""
    if " ".join((options.markexpr or "").split()) in MARKS_WITHOUT_SERVICES:
        return True
    paths = [Path(arg.split("::")[0]).resolve() for arg in options.file_or_dir or []]
    return bool(paths) and all(any(path == tier or tier in path.parents for tier in WITHOUT_SERVICES)
                               for path in paths)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    global _embedded_redis
    # The test machine has no internet: pages do not offer MNIST as a network's first dataset, since opening it
    # would try a download (tests/api/test_offline_downloads.py turns downloads on against a closed port).
    os.environ.setdefault("DATASET_DOWNLOADS", "false")
    if not os.environ.get("REDIS_URL"):
        if needs_no_redis(early_config.known_args_namespace):
            os.environ["REDIS_URL"] = NO_REDIS
        else:
            _embedded_redis = EmbeddedRedis()
            atexit.register(_embedded_redis.stop)  # also on an interrupted session
            _embedded_redis.start()
            os.environ["REDIS_URL"] = _embedded_redis.url
    return (yield)


def pytest_report_header(config):
    if _embedded_redis is not None:
        return f"redis: embedded at {_embedded_redis.url}"
    return f"redis: {os.environ.get('REDIS_URL')}"


def pytest_unconfigure(config):
    if _embedded_redis is not None:
        _embedded_redis.stop()
