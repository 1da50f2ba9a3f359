"""Real processes for tests: a Celery worker and a Daphne server, on the test database and Redis."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from pathlib import Path

from django.db import connection

from config.embedded_redis import die_with_parent, free_port, port_accepts

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def database_url(settings_dict: dict) -> str:
    """The URL of the database the tests run on (pytest-django's test database)."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    auth = settings_dict["USER"] + (f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else "")
    return f"postgres://{auth}@{settings_dict['HOST']}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"


def wait_until(condition, timeout: float, what: str, interval: float = 0.05):
    """Poll `condition` until it returns something truthy; fail with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def own_connection(work):
    """`work`, made to run in a thread of its own: the database connection Django opens for that thread is
    closed when it ends, so none is left open on the test database when it is emptied."""
    @functools.wraps(work)
    def closing(*args, **kwargs):
        try:
            return work(*args, **kwargs)
        finally:
            connection.close()
    return closing


class Service:
    """A child process in its own process group, with its recent output kept for failure messages."""

    def __init__(self, argv: list[str], env: dict):
        self.argv, self.env = argv, env
        self.proc: subprocess.Popen | None = None
        self.output: deque[str] = deque(maxlen=200)

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True,
                                     preexec_fn=die_with_parent)  # never outlives the test session
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self.output.append(line)

    def log(self) -> str:
        return "".join(self.output)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (a Celery worker's pool children too) and reap it."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class Worker(Service):
    def __init__(self, env: dict):
        self.name = f"test-{uuid.uuid4().hex[:8]}@%h"
        super().__init__([sys.executable, "manage.py", "worker", "--", "-Q", "cpu,gpu-8g", "--loglevel", "info",
                          "-n", self.name, "--without-gossip", "--without-mingle"], env)

    def start(self) -> None:
        from celery import Celery

        super().start()
        # The worker's own broker, which may not be the session's; the session's app stays the current one.
        app = Celery(broker=self.env["REDIS_URL"], set_as_current=False)
        try:
            wait_until(lambda: self.proc.poll() is not None or app.control.ping(timeout=0.5), 90,
                       "the Celery worker to answer a ping")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.log()}") from None
        finally:
            app.close()
        assert self.proc.poll() is None, self.log()

    def wait_idle(self, timeout: float = 60) -> None:
        """Return once the worker has finished its task: a run's status changes before its worker stores the
        run's last event and hands its slot on, and the test's database must not be emptied under those writes.
        The worker has one pool process, so a ping queued behind that task comes back only after it."""
        from celery import Celery

        if self.proc.poll() is not None:
            return
        app = Celery(broker=self.env["REDIS_URL"], backend=self.env["REDIS_URL"], set_as_current=False)
        try:
            app.send_task("training.tasks.ping", queue="cpu").get(timeout=timeout)
        finally:
            app.close()


class Server(Service):
    def __init__(self, env: dict):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__([str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"],
                         env)

    def start(self) -> None:
        super().start()
        wait_until(lambda: self.proc.poll() is not None or port_accepts("127.0.0.1", self.port), 60,
                   "Daphne to accept connections")
        assert self.proc.poll() is None, self.log()


def stop_leftover_runs() -> None:
    """Cancel what a test left queued or running, and wait for the worker to let go, before the test's
    database is emptied under it."""
    from training.models import Run

    Run.objects.filter(status__in=["queued", "running"]).update(cancel_requested=True)
    Run.objects.filter(status="queued").update(status="cancelled")
    wait_until(lambda: not Run.objects.filter(status="running").exists(), 60, "the worker to stop its run")
