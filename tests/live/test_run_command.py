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
from contextlib import contextmanager
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


@contextmanager
def launched(tmp_path, port):
    """`make run`'s launcher on a port of its own and a fresh SQLite database, and its output; killed at the end
    if the test left it running (its children are told to die with it: PR_SET_PDEATHSIG)."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(PORT=str(port), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "scripts/run.py"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        yield proc, Output(proc.stdout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def test_run_command_serves_the_app_and_stops_its_redis(tmp_path):
    port = free_port()
    with launched(tmp_path, port) as (proc, out):
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


def children_of(pid):
    """{pid: (name, state)} of the processes whose parent is `pid` (from /proc: Linux, as die_with_parent is)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
            if int(ppid) == pid:
                found[int(entry.name)] = (name, state)
    return found


def redis_servers(pid):
    return {child: state for child, (name, state) in children_of(pid).items() if name.startswith("redis-server")}


def test_run_command_restarts_its_redis_when_it_dies_and_leaves_no_zombie(tmp_path):
    port = free_port()
    with launched(tmp_path, port) as (proc, out):
        redis_url = out.wait_for(REDIS, deadline_s=60).group(1)
        out.wait_for(RUNNING, deadline_s=60)
        redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
        [first] = redis_servers(proc.pid)

        os.kill(first, signal.SIGKILL)  # Redis dies under the running app

        restarted = out.wait_for(re.compile(r"^Redis restarted: (redis://\S+)"), deadline_s=30).group(1)
        assert restarted == redis_url  # the same port: the server and the worker reconnect to it
        assert "was killed by SIGKILL; restarting it" in out.text()
        assert first not in children_of(proc.pid), "the dead redis-server was left a zombie"
        [second] = redis_servers(proc.pid)
        assert second != first and accepts(redis_port)

        # The app works through the new Redis: a task reaches the worker (which reconnected by itself).
        client = Celery(broker=redis_url, backend=redis_url, set_as_current=False)
        try:
            assert client.send_task("training.tasks.ping", queue="cpu").get(timeout=90) == "pong"
        finally:
            client.close()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10) as response:
            assert response.status == 200

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, out.text()
        assert not accepts(redis_port), "the restarted Redis outlived `make run`"
        assert not any(Path(f"/proc/{pid}").exists() for pid in (first, second))


def test_run_command_stops_with_a_message_when_its_redis_cannot_be_kept_up(tmp_path):
    port = free_port()
    with launched(tmp_path, port) as (proc, out):
        out.wait_for(REDIS, deadline_s=60)
        out.wait_for(RUNNING, deadline_s=60)
        killed = []
        outcome = re.compile(r"^Redis restarted: |, its \d+th exit within")
        while True:  # kill each new server once it is up and the launcher has said so
            [server] = redis_servers(proc.pid)
            os.kill(server, signal.SIGKILL)
            killed.append(server)
            if not out.wait_for(outcome, deadline_s=30).group(0).startswith("Redis restarted"):
                break
            assert len(killed) <= 5, out.text()
        assert proc.wait(timeout=60) == 1, out.text()
        assert re.search(r"The embedded Redis was killed by SIGKILL, its 6th exit within 60 s; stopping\. "
                         r"Set REDIS_URL", out.text()), out.text()
        assert len(killed) == 6
        assert not accepts(port), "Daphne outlived the launcher"
        assert not any(Path(f"/proc/{pid}").exists() for pid in killed), "a redis-server was left behind"
