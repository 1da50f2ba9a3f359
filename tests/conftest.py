"""Test-session setup.

REDIS_URL: when it is not set (a laptop's `make test`), an embedded redis-server is started here, at
import time — pytest loads this conftest before pytest-django loads the settings, which read REDIS_URL —
and stopped when the session ends. CI sets REDIS_URL to its own Redis.
"""

import atexit
import os

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
