"""Request bodies: refused over their limit before they are read, and handed to Django from disk, not memory.

The limit of a request: `POST /api/datasets` (an upload) may carry UPLOAD_MAX_BYTES plus the multipart framing
around the file; every other request REQUEST_MAX_BYTES (DATA_UPLOAD_MAX_MEMORY_SIZE is the same number).

Daphne (Twisted's HTTP server underneath) reads a request's whole body, into a temporary file, before it starts
the application. On the way, Twisted parses a multipart or urlencoded body into request.args (which Daphne never
uses) at about twelve times the body's size in memory, and Daphne then queues all of the body for the
application at once, in 8 KiB chunks: an anonymous 200 MB multipart POST took the server from 0.45 to 2.7 GiB,
and 0.4 GiB stayed allocated after it (bench/upload_memory.py). An ASGI middleware only runs after all that, so
the limit is held in two places:

- `BodyLimitedRequest`, Daphne's request class (put in place by `install_in_daphne`, which config/asgi.py calls):
  it answers 413 as soon as the headers declare a Content-Length over the limit, or as soon as a chunked body's
  count passes it, and drops the rest of the body as it arrives (for LINGER_SECONDS at most, so that a client
  that sends its whole body before reading sees the answer rather than a reset; one that sent
  `Expect: 100-continue` never sends the body). A body within the limit, spooled by Twisted to a temporary
  file, is not parsed by Twisted, and is handed to the application from that file a block at a time instead of
  being queued in memory.
- `BodyLimit`, an ASGI middleware around the Django app: the same limits under any ASGI server (and for the
  body files above): 413 from Content-Length before reading anything, and by counting while reading.
"""

from __future__ import annotations

import contextvars
import io
import json
import logging
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)

UPLOAD_PATH = "/api/datasets"
IMPORT_PATH = "/api/networks/import"
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and the small form fields around an uploaded file
LINGER_SECONDS = 10.0  # how long a refused body is read and dropped before the connection is cut
BLOCK_BYTES = 256 * 1024  # a spooled body reaches the application this much at a time

# The body Twisted spooled for the request whose application is being started (see BodyLimitedRequest.process).
_spooled_body: contextvars.ContextVar[BinaryIO | None] = contextvars.ContextVar("spooled_body", default=None)


def limit_for(method: str, path: str) -> int:
    """The most bytes the body of this request may hold."""
    if method.upper() == "POST" and path.rstrip("/") == UPLOAD_PATH:
        return settings.UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD
    if method.upper() == "POST" and path.rstrip("/") == IMPORT_PATH:
        return settings.IMPORT_MAX_BYTES + MULTIPART_OVERHEAD
    return settings.REQUEST_MAX_BYTES


def refusal(limit: int, method: str, path: str) -> bytes:
    """The JSON body of a 413, in the API's one error format."""
    if path.rstrip("/") == IMPORT_PATH and method.upper() == "POST":
        detail = f"the request body is larger than {limit:,} bytes; imported models are limited to " \
                 f"{settings.IMPORT_MAX_BYTES:,} bytes (IMPORT_MAX_BYTES)"
    elif limit_for(method, path) != settings.REQUEST_MAX_BYTES:
        detail = f"the request body is larger than {limit:,} bytes; uploads are limited to " \
                 f"{settings.UPLOAD_MAX_BYTES:,} bytes"
    else:
        detail = f"the request body is larger than {limit:,} bytes"
    return json.dumps({"detail": detail}).encode()


# ---- the ASGI middleware -----------------------------------------------------------------------------------

class BodyLimit:
    """ASGI middleware: a body over its limit gets 413, from Content-Length before any of it is read, else as soon
    as the count passes the limit (the application then sees the client disconnect); a body that Daphne spooled
    to a file is read from that file."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        spooled = _spooled_body.get()
        try:
            await self._serve(scope, receive, send, spooled)
        finally:
            if spooled is not None:
                spooled.close()

    async def _serve(self, scope, receive, send, spooled: BinaryIO | None):
        method, path = scope["method"], scope["path"]
        limit = limit_for(method, path)
        declared = _content_length(scope["headers"])
        if declared is not None and declared > limit:
            return await _send_413(send, refusal(limit, method, path))
        state = {"received": 0, "refused": False, "started": False}
        source = _from_file(spooled, receive) if spooled is not None else receive

        async def counted_receive():
            if state["refused"]:
                return {"type": "http.disconnect"}
            message = await source()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["refused"] = True
                    if not state["started"]:
                        await _send_413(send, refusal(limit, method, path))
                    return {"type": "http.disconnect"}  # Django stops reading and answers nothing more
                if declared is not None and not message.get("more_body") and state["received"] != declared:
                    raise RuntimeError(f"the body held {state['received']:,} bytes but Content-Length said "
                                       f"{declared:,}")  # a body lost on its way in must not pass as an empty one
            return message

        async def guarded_send(message):
            if state["refused"]:
                return  # the 413 is the answer
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        await self.app(scope, counted_receive, guarded_send)


def _from_file(body: BinaryIO, receive):
    """`receive` for a body that Daphne left in a file: its one (empty) queued body message first, then the file a
    block at a time; after that, the queue again (for the disconnect)."""
    size = body.seek(0, io.SEEK_END)
    body.seek(0)
    state = {"queued": False, "done": False}

    async def from_file():
        if not state["queued"]:
            state["queued"] = True
            message = await receive()
            if message["type"] != "http.request":
                state["done"] = True
                return message
        if state["done"]:
            return await receive()
        chunk = body.read(BLOCK_BYTES)
        state["done"] = not chunk or body.tell() >= size
        return {"type": "http.request", "body": chunk, "more_body": not state["done"]}

    return from_file


def _content_length(headers) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # Daphne (Twisted) refuses such a request itself
    return None


async def _send_413(send, body: bytes) -> None:
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


# ---- Daphne ------------------------------------------------------------------------------------------------

def install_in_daphne() -> None:
    """Make Daphne build its HTTP requests as BodyLimitedRequest: its factory looks the class up by name in
    daphne.http_protocol each time it makes a connection."""
    from daphne import http_protocol

    if not getattr(http_protocol.WebRequest, "limits_bodies", False):
        http_protocol.WebRequest = _limited(http_protocol.WebRequest)


def _limited(WebRequest):  # the class to extend: Daphne's own, looked up when installing
    class BodyLimitedRequest(WebRequest):
        """Daphne's request, refusing an over-limit body while it arrives and spooling an accepted one to the
        application from disk. The limit is chosen from the request line, which Twisted has read by the time
        it reports the body's length (`gotLength`), after all the headers."""

        limits_bodies = True
        _spooled = None  # the body, once all of it has arrived
        _limit: int | None = None
        _refused = False
        _received = 0
        _linger = None

        def gotLength(self, length):
            request_line = _request_line(self.channel)
            if request_line is not None:
                self._limit = limit_for(*request_line)
                if length is not None and length > self._limit:
                    self.content = io.BytesIO()
                    self._refuse(request_line, before_body=True)
                    return
            super().gotLength(length)

        def handleContentChunk(self, data):
            if self._refused:
                return  # dropped: the answer has gone out already
            self._received += len(data)
            if self._limit is not None and self._received > self._limit:
                self.content.close()
                self.content = io.BytesIO()
                self._refuse(_request_line(self.channel) or ("POST", "/"), before_body=False)
                return
            super().handleContentChunk(data)

        def requestReceived(self, command, path, version):
            if self._refused:  # the whole refused body has arrived and been dropped
                self._close()
                return
            # Twisted parses a form body (multipart or urlencoded) it can see into request.args, which Daphne
            # never reads, holding about twelve times the body in memory while it does: it is shown none.
            self._spooled, self.content = self.content, io.BytesIO()
            super().requestReceived(command, path, version)  # calls process()

        def process(self):
            body, upgrade = self._spooled, self.requestHeaders.getRawHeaders(b"Upgrade") or [b""]
            size = body.seek(0, io.SEEK_END)
            body.seek(0)
            if size == 0 or upgrade[0].lower() == b"websocket":
                self.content = body
                return super().process()
            # Daphne would queue all of the body in memory; it queues the empty self.content instead, and the
            # application (BodyLimit) reads this file. The application's task is created inside super().process()
            # and so starts with this context.
            token = _spooled_body.set(body)
            try:
                return super().process()
            finally:
                _spooled_body.reset(token)

        def connectionLost(self, reason):
            if self._linger is not None and self._linger.active():
                self._linger.cancel()
            super().connectionLost(reason)

        def _refuse(self, request_line: tuple[str, str], before_body: bool) -> None:
            from twisted.internet import reactor

            self._refused = True
            body = refusal(self._limit, *request_line)
            self.channel.transport.write(
                b"HTTP/1.1 413 Content Too Large\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%b" % (len(body), body))
            logger.warning("refused a %s %s body over its limit of %s bytes", *request_line, f"{self._limit:,}")
            expects = self.requestHeaders.getRawHeaders(b"Expect") or [b""]
            if before_body and expects[0].lower() == b"100-continue":
                self.requestHeaders.removeHeader(b"Expect")  # Twisted would send 100 Continue after the 413
                self._close()  # the client waits for a go-ahead, so the body won't come
                return
            self._linger = reactor.callLater(LINGER_SECONDS, self._close)

        def _close(self) -> None:
            if self._linger is not None and self._linger.active():
                self._linger.cancel()
            transport = self.channel.transport if self.channel is not None else None
            if transport is not None:
                transport.loseConnection()

    return BodyLimitedRequest


def _request_line(channel) -> tuple[str, str] | None:
    """(method, path) of the request being read on an HTTP/1 channel; None where Twisted doesn't say (HTTP/2),
    and then the middleware alone holds the limit."""
    command, target = getattr(channel, "_command", None), getattr(channel, "_path", None)
    if not isinstance(command, bytes) or not isinstance(target, bytes):
        return None
    path = urlsplit(target.decode("latin-1")).path
    return command.decode("latin-1"), unquote(path)
