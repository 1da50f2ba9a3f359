"""Hostile request bodies and uploads against a real Daphne: a body over its limit is refused before it is read
(from Content-Length, or by counting a chunked one), without the server's memory growing by the body's size;
an upload streams to disk, is parsed once into arrays that every GET maps, and is budgeted from its headers;
upload errors name the user's own file."""

import gzip
import http.client
import io
import json
import os
import select
import socket
import struct
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from accounts.models import ApiToken
from training.models import UploadedDataset

pytestmark = pytest.mark.django_db(transaction=True)

MIB = 2**20
ANSWER_DEADLINE_S = 20  # a refusal comes at once; this only bounds a server that never answers


class ServerMemory:
    """The server process's peak resident memory over a block, against its resident memory before it."""

    def __init__(self, server):
        self.pid = server.proc.pid

    def _status(self, key: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
        raise AssertionError(f"no {key} for process {self.pid}")

    def __enter__(self):
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # the peak (VmHWM) starts again from now
        self.before = self._status("VmRSS")
        return self

    def __exit__(self, *exc):
        self.growth = self._status("VmHWM") - self.before


def request_head(server, path: str, headers: dict) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=ANSWER_DEADLINE_S)
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def answer(sock: socket.socket) -> tuple[int, dict]:
    response = http.client.HTTPResponse(sock)
    response.begin()  # raises TimeoutError after ANSWER_DEADLINE_S if the server is still waiting for the body
    return response.status, json.loads(response.read())


def multipart_head(filename="big.bin") -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    return (f"multipart/form-data; boundary={boundary}",
            (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
             "Content-Type: application/octet-stream\r\n\r\n").encode())


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/datasets"])
def test_a_body_declared_over_its_limit_is_refused_before_it_is_sent(server, path):
    content_type, _ = multipart_head()
    with ServerMemory(server) as memory:
        sock = request_head(server, path, {"Content-Type": content_type, "Content-Length": 200_000_000})
        with sock:
            status, body = answer(sock)  # not one byte of the body was sent
    assert status == 413
    assert body["detail"].startswith("the request body is larger than ")
    assert memory.growth < 20 * MIB


@pytest.mark.parametrize("path, limit", [("/accounts/login/", lambda: settings.REQUEST_MAX_BYTES),
                                         ("/api/datasets", lambda: settings.UPLOAD_MAX_BYTES)])
def test_a_chunked_body_is_refused_once_its_count_passes_the_limit(server, path, limit):
    content_type, head = multipart_head()
    block, sent = bytes(MIB), 0
    headers = {"Content-Type": content_type, "Transfer-Encoding": "chunked"}
    with ServerMemory(server) as memory, request_head(server, path, headers) as sock:
        sock.sendall(b"%x\r\n%b\r\n" % (len(head), head))
        # Up to 200 MiB, a MiB at a time, until the server answers.
        while sent < 200 * MIB and not select.select([sock], [], [], 0)[0]:
            sock.sendall(b"%x\r\n%b\r\n" % (len(block), block))
            sent += len(block)
        status, body = answer(sock)
    assert status == 413 and body["detail"].startswith("the request body is larger than ")
    assert sent < limit() + 32 * MIB  # the answer came once the count passed the limit, not after 200 MiB
    assert memory.growth < 30 * MIB


@pytest.fixture
def token(user):
    return ApiToken.issue(user, "uploads")[1]


def upload(server, token: str, filename: str, data: bytes) -> tuple[int, dict]:
    content_type, head = multipart_head(filename)
    boundary = content_type.split("=", 1)[1]
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    connection.request("POST", "/api/datasets", body=head + data + f"\r\n--{boundary}--\r\n".encode(),
                       headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    result = response.status, json.loads(response.read())
    connection.close()
    return result


def get(server, token: str, key: str) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    connection.request("GET", f"/api/datasets/{key}", headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    result = response.status, json.loads(response.read())
    connection.close()
    return result


def idx_zip(images: int, noise_bytes: int) -> bytes:
    """MNIST's four gzipped IDX files: `noise_bytes` random pixels, then zeros; labels cycling 0..9."""
    def idx(dims, data):
        return gzip.compress(bytes([0, 0, 0x08, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + data, 1)

    train, test = images - images // 7, images // 7
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for part, count in (("train", train), ("t10k", test)):
            noise = os.urandom(min(noise_bytes, count * 784)) if part == "train" else b""
            pixels = noise + bytes(count * 784 - len(noise))
            archive.writestr(f"{part}-images-idx3-ubyte.gz", idx((count, 28, 28), pixels))
            archive.writestr(f"{part}-labels-idx1-ubyte.gz", idx((count,), bytes(i % 10 for i in range(count))))
    return out.getvalue()


def test_an_upload_is_parsed_once_with_little_memory_and_every_get_maps_its_arrays(server, token):
    data = idx_zip(30_000, 3 * MIB)  # a 3 MB body; 94 MB once decoded
    with ServerMemory(server) as memory:
        status, body = upload(server, token, "digits.zip", data)
    assert status == 201, body
    assert body["info"]["samples"] == 30_000 and body["info"]["input_shape"] == [1, 28, 28]
    assert memory.growth < 40 * MIB  # decoded a block at a time into X.npy, not held whole
    upload_row = UploadedDataset.objects.get(pk=int(body["key"].removeprefix("upload-")))
    assert upload_row.arrays
    with ServerMemory(server) as memory, ThreadPoolExecutor(3) as pool:
        gets = list(pool.map(lambda _: get(server, token, body["key"]), range(3)))
    assert [status for status, _ in gets] == [200, 200, 200]
    assert all(got["preview"] == body["preview"] for _, got in gets)
    assert memory.growth < 30 * MIB  # mapped, not parsed again
    # The uploaded file itself is never read again: a GET without it gives the same answer.
    upload_row.file.delete(save=False)
    assert get(server, token, body["key"]) == (200, gets[0][1])


def test_a_zip_of_large_images_behind_a_small_one_is_refused_by_its_pixel_budget(server, token):
    def png(size):
        buffer = io.BytesIO()
        Image.new("L", size, 128).save(buffer, "PNG")
        return buffer.getvalue()

    large, out = png((4096, 4096)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a/000.png", png((1, 1)))
        for i in range(300):
            archive.writestr(f"{'ab'[i % 2]}/{i + 1:03d}.png", large)
    status, body = upload(server, token, "pictures.zip", out.getvalue())
    assert status == 400
    assert body["detail"] == ("the ZIP's 301 images, 5,033,164,801 pixels as stored, would become 301 images of "
                              "1×1×1: 5,033,164,801 pixels to decode in all, over the limit of 200,000,000 pixels "
                              "(max_total_pixels); upload fewer or smaller images")


def test_upload_errors_name_the_users_file_never_a_temporary_one(server, token):
    status, body = upload(server, token, "holiday.zip", b"PK" + os.urandom(200_000))
    assert status == 400
    assert body["detail"] == "holiday.zip is not a readable ZIP file: File is not a zip file"
    status, body = upload(server, token, "holiday.csv", b"a,b\n1,x\n2,y\n")
    assert status == 201 and body["info"]["description"] == "2 rows of holiday.csv: 1 features from 1 columns, " \
                                                           "target 'b'"
