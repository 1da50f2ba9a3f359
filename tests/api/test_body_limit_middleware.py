"""The body limit as an ASGI middleware, for any ASGI server (Daphne's own requests refuse first: see
tests/live/test_request_bodies_and_uploads.py): 413 from Content-Length before any of the body is read, and by
counting a body that declares no length."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.asgi import get_asgi_application

from config.body_limit import BodyLimit


def scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
            "headers": [(b"host", b"testserver"), *headers], "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80)}


@pytest.fixture
def small_limit(settings):
    settings.REQUEST_MAX_BYTES = 1_000
    settings.UPLOAD_MAX_BYTES = 2_000


def run_in_own_loop(coroutine) -> None:
    """Its own thread and event loop: a browser test earlier in the session leaves Playwright's loop running
    in the main thread, where asyncio.run() refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, coroutine).result()


def test_a_declared_length_over_the_limit_is_answered_413_before_any_body_is_read(small_limit):
    run_in_own_loop(declared_over_the_limit())


def test_a_body_of_no_declared_length_is_refused_once_its_count_passes_the_limit(small_limit):
    run_in_own_loop(counted_over_the_limit())


async def declared_over_the_limit():
    app = ApplicationCommunicator(BodyLimit(get_asgi_application()),
                                  scope("/accounts/login/", [(b"content-length", b"1001")]))
    start = await app.receive_output(5)  # no body message was ever sent
    body = await app.receive_output(5)
    assert start["status"] == 413
    assert body["body"] == b'{"detail": "the request body is larger than 1,000 bytes"}'
    await app.wait(5)


async def counted_over_the_limit():
    app = ApplicationCommunicator(BodyLimit(get_asgi_application()),
                                  scope("/api/datasets/", [(b"content-type", b"multipart/form-data; boundary=x")]))
    for _ in range(2):
        await app.send_input({"type": "http.request", "body": bytes(40_000), "more_body": True})
    start = await app.receive_output(5)
    body = await app.receive_output(5)
    assert start["status"] == 413
    assert body["body"] == (b'{"detail": "the request body is larger than 67,536 bytes; uploads are limited to '
                            b'2,000 bytes"}')
    await app.wait(5)
