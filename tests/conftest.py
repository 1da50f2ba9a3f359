"""Fixtures for real services: a Celery worker and a Daphne server on the test database and Redis.

The environment they share (Redis, media folder, timeouts) is set up by tests/environment.py, a plugin that
pytest loads before pytest-django reads the settings.
"""

import os

import pytest


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
    try:
        process.start()
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def server(service_env):
    """A real Daphne server (HTTP and websockets) on a free port."""
    from tests.services import Server

    process = Server(service_env)
    try:
        process.start()
        yield process
    finally:
        process.stop()
