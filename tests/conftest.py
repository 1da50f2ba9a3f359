"""Test-session setup.

REDIS_URL: when it is not set (a laptop's `make test`), an embedded redis-server is started here, at
import time — pytest loads this conftest before pytest-django loads the settings, which read REDIS_URL —
and stopped when the session ends. CI sets REDIS_URL to its own Redis.
"""

import atexit
import os
import tempfile

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM would refuse to run there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

_embedded_redis = None

if not os.environ.get("REDIS_URL"):
    from config.embedded_redis import EmbeddedRedis

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


# Runs and their artifacts go to a throwaway folder; a lost worker is noticed after a few seconds.
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="netbuilder-media-"))
os.environ.setdefault("RUN_HEARTBEAT_TIMEOUT", "5")


@pytest.fixture(scope="session")
def service_env(django_db_setup, django_db_blocker):
    """The environment of a worker or server process that uses the test database and Redis."""
    from django.db import connection

    from tests.services import database_url

    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
    return {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="session")
def worker(service_env):
    """A real Celery worker process consuming both queues."""
    from tests.services import Worker

    process = Worker(service_env)
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def server(service_env):
    """A real Daphne server (HTTP and websockets) on a free port."""
    from tests.services import Server

    process = Server(service_env)
    process.start()
    yield process
    process.stop()
