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
    """A real Celery worker process consuming the `cpu` queue and the smallest GPU tier."""
    from tests.services import Worker

    yield from running(Worker(service_env))


@pytest.fixture(scope="session")
def server(service_env):
    """A real Daphne server (HTTP and websockets) on a free port."""
    from tests.services import Server

    yield from running(Server(service_env))


def running(service):
    try:
        service.start()
        yield service
    finally:
        service.stop()


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, driven by Playwright (which cannot download its own browser here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    """A fresh browser tab on the live server. The test fails on any console error or page error, and on
    any request to another host (such requests are also blocked)."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors, foreign = [], []
    tab.on("console", lambda message: message.type == "error" and errors.append(message.text))
    tab.on("pageerror", lambda error: errors.append(str(error)))

    def local_only(route):
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", local_only)
    yield tab
    context.close()
    assert errors == [], f"console errors: {errors}"
    assert foreign == [], f"requests to other hosts: {foreign}"
