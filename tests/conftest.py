"""Fixtures shared by every tier, and the tiers themselves.

Tiers: each test module lives in one of the folders below, and its tests get that folder's marker (`pytest -m
unit`, `pytest -m "unit or api"`); a test module anywhere else stops the session.

    unit     pure code: no database, no Redis
    api      Django's test client and the test database
    live     a real Celery worker, Redis and websockets (the `worker` and `server` fixtures)
    browser  Chromium, driven by Playwright, against the live server
    fuzz     schemathesis and hypothesis

Users: `user` (ada) and `other_user` (mallory), or `make_user(name)` for more; `ada` and `mallory` are Django
test clients logged in as them, and `client_of(user)` logs in any user. Every user's password is PASSWORD.

The real services (worker, server, browser) are session fixtures. Their environment (Redis, media folder,
timeouts) is set up by tests/environment.py, a plugin that pytest loads before pytest-django reads the settings.
"""

import os
import shutil
from pathlib import Path

import pytest

TIERS = ("unit", "api", "live", "browser", "fuzz")
TESTS = Path(__file__).resolve().parent
PASSWORD = "correct horse battery"


def tier_of(path: Path) -> str | None:
    """The tier folder a test module sits in, or None when it sits anywhere else."""
    try:
        parts = Path(path).resolve().relative_to(TESTS).parts
    except ValueError:
        return None
    return parts[0] if len(parts) > 1 and parts[0] in TIERS else None


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    misplaced = sorted({str(item.path.relative_to(TESTS.parent)) for item in items if tier_of(item.path) is None})
    if misplaced:
        raise pytest.UsageError("test modules outside the tier folders tests/{" + ",".join(TIERS) + "}: "
                                + ", ".join(misplaced))
    for item in items:
        tier = tier_of(item.path)
        others = {mark.name for mark in item.iter_markers() if mark.name in TIERS} - {tier}
        if others:
            raise pytest.UsageError(f"{item.nodeid} is in tests/{tier} but marked {', '.join(sorted(others))}")
        item.add_marker(getattr(pytest.mark, tier))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that used a worker or a server shows their recent output: the why is usually there."""
    report = yield
    if report.failed:
        for name in ("worker", "server"):
            service = getattr(item, "funcargs", {}).get(name)
            if service is not None and hasattr(service, "log"):
                report.sections.append((f"{name} output ({report.when})", service.log()))
    return report


@pytest.fixture
def make_user(db):
    """make_user(name, **fields): a new user whose password is PASSWORD."""
    from django.contrib.auth.models import User

    def make(name, **fields):
        return User.objects.create_user(name, password=PASSWORD, **fields)

    return make


@pytest.fixture
def user(make_user):
    """Ada, who owns what a test creates."""
    return make_user("ada")


@pytest.fixture
def other_user(make_user):
    """Mallory, who must not see Ada's things."""
    return make_user("mallory")


@pytest.fixture
def client_of(db):
    """client_of(user): a Django test client logged in as that user (a session, so writes need no token)."""
    from django.test import Client

    def log_in(someone, **client_options):
        client = Client(**client_options)
        client.force_login(someone)
        return client

    return log_in


@pytest.fixture
def ada(user, client_of):
    """A client logged in as `user`."""
    return client_of(user)


@pytest.fixture
def mallory(other_user, client_of):
    """A client logged in as `other_user`."""
    return client_of(other_user)


@pytest.fixture(autouse=True)
def _no_leftovers(request):
    """A test with a worker cancels what it left queued or running, and waits for the worker to finish, before its
    database is emptied. A run's files are kept by its id, and an emptied or rolled-back SQLite database gives the
    same ids again: a test's run files go with it, so that a later run never takes them for its own checkpoints."""
    yield
    if "worker" in request.fixturenames:
        from tests.services import stop_leftover_runs

        stop_leftover_runs()
        request.getfixturevalue("worker").wait_idle()
    shutil.rmtree(Path(os.environ["MEDIA_ROOT"]) / "runs", ignore_errors=True)  # the session's throwaway folder


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
