"""The test session's environment, set before Django's settings are read (loaded with `-p tests.environment`).

REDIS_URL: when it is not set (a laptop's `make test`), an embedded redis-server is started for the session
and stopped when it ends. CI sets REDIS_URL to its own Redis. pytest-django reads the settings before any
conftest is imported, so this must be a plugin named on the command line (pyproject's addopts).
"""

import atexit
import os
import tempfile

from config.embedded_redis import EmbeddedRedis

# Playwright's sync API runs an event loop in the test thread; Django's ORM would refuse to run there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Runs and their artifacts go to a throwaway folder; a lost worker is noticed after a few seconds.
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="netbuilder-media-"))
os.environ.setdefault("RUN_HEARTBEAT_TIMEOUT", "5")
# The test worker shares two cores with the test process, Daphne and Chromium: one torch thread each.
os.environ.setdefault("TRAIN_THREADS", "1")

_embedded_redis = None

if not os.environ.get("REDIS_URL"):
    _embedded_redis = EmbeddedRedis()
    atexit.register(_embedded_redis.stop)  # also on an interrupted session
    _embedded_redis.start()
    os.environ["REDIS_URL"] = _embedded_redis.url


def pytest_report_header(config):
    if _embedded_redis is not None:
        return f"redis: embedded at {_embedded_redis.url}"
    return f"redis: {os.environ.get('REDIS_URL')}"


def pytest_unconfigure(config):
    if _embedded_redis is not None:
        _embedded_redis.stop()
