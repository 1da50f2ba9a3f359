"""A throwaway stack for the benchmarks that time a real server: a fresh SQLite database (migrated) and media
folder in a temporary folder, an embedded Redis, a Daphne server on them, and this process set up as Django on the
same database and Redis (to seed data, or to play the worker). Everything is removed afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from config.embedded_redis import EmbeddedRedis  # stdlib only: no Django import

from tests.services import Server

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def live_stack() -> Iterator[tuple[Server, EmbeddedRedis]]:
    tmp = tempfile.mkdtemp(prefix="netbuilder-bench-")
    redis = EmbeddedRedis().start()
    server = None
    try:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "REDIS_URL": redis.url,
               "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3", "MEDIA_ROOT": f"{tmp}/media",
               "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING", "TMPDIR": tmp}
        subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], env=env, cwd=ROOT, check=True)
        os.environ.update(env)  # before django.setup(): this process works on the same database and Redis
        import django

        django.setup()
        server = Server(env)
        server.start()
        yield server, redis
    finally:
        if server is not None:
            server.stop()
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
