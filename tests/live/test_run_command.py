"""`make run` runs scripts/run.py: it must serve the app, run a worker, and leave nothing behind."""

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from celery import Celery

ROOT = Path(__file__).resolve().parents[2]
RUNNING = re.compile(r"Netbuilder is running at (http://\S+) \(Ctrl-C to stop\)")
REDIS = re.compile(r"^Redis: (redis://\S+)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Output:
    """Drains a process's stdout on a thread (its children log there too) and keeps every line."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream):
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern, deadline_s):
        end = time.monotonic() + deadline_s
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no line matching {pattern.pattern!r} in {deadline_s} s:\n" + self.text())
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"output ended before {pattern.pattern!r}:\n" + self.text())
            self.lines.append(line)
            match = pattern.search(line)
            if match:
                return match

    def text(self):
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return "\n".join(self.lines[-80:])


def test_run_command_serves_the_app_and_stops_its_redis(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(PORT=str(port), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "scripts/run.py"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        out = Output(proc.stdout)
        redis_url = out.wait_for(REDIS, deadline_s=60).group(1)
        url = out.wait_for(RUNNING, deadline_s=60).group(1)
        assert url == f"http://127.0.0.1:{port}/"

        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
        with urllib.request.urlopen(url + "accounts/login/", timeout=10) as response:
            assert response.status == 200

        client = Celery(broker=redis_url, backend=redis_url, set_as_current=False)
        try:
            result = client.send_task("training.tasks.ping", queue="cpu")
            assert result.get(timeout=60) == "pong"
        finally:
            client.close()

        redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
        assert accepts(redis_port)

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, out.text()
        assert not accepts(redis_port), "the embedded Redis outlived `make run`"
        assert not accepts(port), "Daphne outlived `make run`"
    finally:
        if proc.poll() is None:
            proc.kill()  # its children are told to die with it (PR_SET_PDEATHSIG)
            proc.wait(timeout=30)
