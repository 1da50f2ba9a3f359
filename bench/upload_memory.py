"""The server's memory and time under large and hostile request bodies and uploads, against a real Daphne.

One Daphne (with an embedded Redis, a fresh SQLite database and media folder) serves every case. Before each
case Daphne's peak resident memory is reset (/proc/<pid>/clear_refs), so each case reports its own peak
(VmHWM), with the resident memory before and after it. Cases:
  body_login     an anonymous 200 MB multipart POST to /accounts/login/, with Content-Length
  body_datasets  the same to /api/datasets
  body_chunked   the same to /api/datasets, chunked (no Content-Length)
  idx_bomb       a ZIP of gzipped IDX files (about 200 KB) whose images file declares 127,000×28×28: the upload,
                 then three concurrent GETs of it
  png_bomb       a ZIP whose first image is 1×1, then 300 PNGs of 4096×4096 (about 5 MB): the upload, then three
                 concurrent GETs
  max_uploads    three concurrent maximum-size uploads: IDX ZIPs just under the upload's byte limit that decode to
                 just under the pixel and decoded-bytes budgets; then three concurrent GETs of one of them
--quick sends 60 MB bodies and divides the maximum upload by four.

    .venv/bin/python bench/upload_memory.py [--quick] [--cases body_login,...] [--out bench/results/uploads.json]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import io
import json
import os
import socket
import struct
import sys
import threading
import time
import uuid
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.live_stack import live_stack

from tests.services import Server

MIB = 2**20
CASES = ("body_login", "body_datasets", "body_chunked", "idx_bomb", "png_bomb", "max_uploads")
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")


def memory_mib(pid: int) -> dict:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return fields


class Measure:
    """Daphne's resident memory before, at its peak during, and after a case."""

    def __init__(self, pid: int):
        self.pid = pid

    def __enter__(self):
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # resets VmHWM to the current VmRSS
        self.before = memory_mib(self.pid)["VmRSS"]
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.seconds = round(time.monotonic() - self.start, 2)
        now = memory_mib(self.pid)
        self.result = {"rss_before_mib": self.before, "rss_peak_mib": now["VmHWM"], "rss_after_mib": now["VmRSS"],
                       "rss_growth_mib": round(now["VmHWM"] - self.before, 1), "seconds": self.seconds}


# ---- raw requests ------------------------------------------------------------------------------------------

def multipart(filename: str, data: bytes | None, size: int | None = None) -> tuple[str, bytes, bytes, int]:
    """(content type, head, tail, body length) of a one-file multipart body; the file is `data` or `size` zeros."""
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + (len(data) if data is not None else size) + len(tail)
    return f"multipart/form-data; boundary={boundary}", head, tail, length


def big_body(port: int, path: str, size: int, chunked: bool) -> dict:
    """An anonymous multipart POST of `size` bytes of zeros, streamed 1 MiB at a time; the answer's status."""
    content_type, head, tail, length = multipart("big.bin", None, size)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}"
    sock = socket.create_connection(("127.0.0.1", port), timeout=300)
    block = bytes(MIB)
    sent, complete = 0, True
    try:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n{framing}\r\n"
                     "Connection: close\r\n\r\n".encode())
        pieces = [head, *(block[:min(MIB, size - at)] for at in range(0, size, MIB)), tail]
        for piece in pieces:
            sock.sendall(b"%x\r\n%b\r\n" % (len(piece), piece) if chunked else piece)
            sent += len(piece)
        if chunked:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        complete = False
    try:
        response = http.client.HTTPResponse(sock)
        response.begin()
        status, text = response.status, response.read()[:200].decode(errors="replace")
    except (ConnectionResetError, http.client.HTTPException, OSError) as exc:
        status, text = None, f"no answer: {exc!r}"
    finally:
        sock.close()
    return {"status": status, "detail": text, "body_bytes_sent": sent, "whole_body_sent": complete}


def upload(port: int, token: str, filename: str, data: bytes) -> dict:
    content_type, head, tail, length = multipart(filename, data)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.monotonic()
    connection.request("POST", "/api/datasets", body=head + data + tail,
                       headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    body = json.loads(response.read() or b"{}")
    connection.close()
    return {"status": response.status, "seconds": round(time.monotonic() - start, 2), "key": body.get("key"),
            "detail": body.get("detail", "")[:300], "samples": body.get("info", {}).get("samples")}


def get(port: int, token: str, key: str) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.monotonic()
    connection.request("GET", f"/api/datasets/{key}", headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return {"status": response.status, "seconds": round(time.monotonic() - start, 2)}


def at_once(calls) -> list[dict]:
    results = [None] * len(calls)

    def one(i, call):
        results[i] = call()

    threads = [threading.Thread(target=one, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# ---- the files ---------------------------------------------------------------------------------------------

def idx_header(code: int, dims: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


def idx_zip(train: int, test: int, noise_bytes: int = 0) -> bytes:
    """A ZIP of the four gzipped IDX files of 28×28 images: `noise_bytes` random pixels, then zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, count in ((IDX_FILES[0], train), (IDX_FILES[2], test)):
            packed = io.BytesIO()
            with gzip.GzipFile(fileobj=packed, mode="wb", compresslevel=1) as gz:
                gz.write(idx_header(0x08, (count, 28, 28)))
                left, noise = count * 784, min(noise_bytes, count * 784)
                noise_bytes -= noise
                while noise:
                    n = min(noise, 16 * MIB)
                    gz.write(os.urandom(n))
                    noise, left = noise - n, left - n
                zeros = bytes(16 * MIB)
                while left:
                    n = min(left, len(zeros))
                    gz.write(zeros[:n])
                    left -= n
            archive.writestr(f"{name}.gz", packed.getvalue())
        for name, count in ((IDX_FILES[1], train), (IDX_FILES[3], test)):
            labels = bytes(i % 10 for i in range(count))
            archive.writestr(f"{name}.gz", gzip.compress(idx_header(0x08, (count,)) + labels, compresslevel=1))
    return out.getvalue()


def png_zip(count: int = 300, side: int = 4096) -> bytes:
    from PIL import Image

    def png(size: int) -> bytes:
        buffer = io.BytesIO()
        Image.new("L", (size, size), 128).save(buffer, format="PNG")
        return buffer.getvalue()

    small, large = png(1), png(side)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a/000.png", small)  # sorted first: it sets the dataset's image size, 1×1
        for i in range(count):
            archive.writestr(f"{'ab'[i % 2]}/{i + 1:03d}.png", large)
    return out.getvalue()


def max_upload(byte_limit: int, pixel_budget: int, decoded_budget: int) -> tuple[bytes, int]:
    """An IDX ZIP just under the byte limit that decodes to just under both budgets (float32 images, int64
    labels); and its pixel count."""
    per_image = 784 * 4 + 8  # decoded bytes of one 28×28 image and its label
    images = int(min(pixel_budget / 784, decoded_budget / per_image) * 0.98)
    test = images // 7
    noise = int(byte_limit * 0.9)  # random pixels barely compress: the ZIP ends up close to the byte limit
    return idx_zip(images - test, test, noise_bytes=min(noise, images * 784)), images * 784


# ---- the run -----------------------------------------------------------------------------------------------

def seed_user() -> str:
    from django.contrib.auth.models import User

    from accounts.models import ApiToken

    user = User.objects.create_user("bench")
    return ApiToken.issue(user, "bench")[1]


def run_cases(server: Server, token: str, chosen: list[str], quick: bool) -> dict:
    from django.conf import settings

    port, pid = server.port, server.proc.pid
    body_size = (60 if quick else 200) * 10**6  # over both limits either way
    results: dict = {}
    for name, path, chunked in (("body_login", "/accounts/login/", False), ("body_datasets", "/api/datasets", False),
                                ("body_chunked", "/api/datasets", True)):
        if name in chosen:
            with Measure(pid) as measure:
                answer = big_body(port, path, body_size, chunked)
            results[name] = {"body_bytes": body_size, **answer, **measure.result}
            print(f"{name}: {answer['status']} in {measure.seconds} s, Daphne peak {measure.result['rss_peak_mib']} "
                  f"MiB (from {measure.before}), after {measure.result['rss_after_mib']} MiB", flush=True)

    def upload_then_get(name: str, filename: str, data: bytes, uploads: int = 1, extra: dict | None = None):
        with Measure(pid) as measure:
            ups = at_once([lambda: upload(port, token, filename, data)] * uploads)
        result = {"upload_bytes": len(data), **(extra or {}), "uploads": ups, "upload": measure.result}
        print(f"{name}: {len(data):,} bytes x {uploads}: {[u['status'] for u in ups]} "
              f"{[u['seconds'] for u in ups]} s, Daphne peak {measure.result['rss_peak_mib']} MiB "
              f"(from {measure.before}), after {measure.result['rss_after_mib']} MiB; "
              f"{ups[0]['detail'][:160]}", flush=True)
        key = next((u["key"] for u in ups if u["status"] == 201), None)
        if key:
            with Measure(pid) as measure:
                gets = at_once([lambda: get(port, token, key)] * 3)
            result.update(gets=gets, get=measure.result)
            print(f"{name}: 3 GETs at once: {[g['status'] for g in gets]} {[g['seconds'] for g in gets]} s, "
                  f"Daphne peak {measure.result['rss_peak_mib']} MiB (from {measure.before})", flush=True)
        results[name] = result

    if "idx_bomb" in chosen:
        upload_then_get("idx_bomb", "bomb.zip", idx_zip(127_000, 1))
    if "png_bomb" in chosen:
        upload_then_get("png_bomb", "pictures.zip", png_zip())
    if "max_uploads" in chosen:
        scale = 4 if quick else 1
        data, pixels = max_upload(settings.UPLOAD_MAX_BYTES // scale,
                                  getattr(settings, "UPLOAD_MAX_TOTAL_PIXELS", 200_000_000) // scale,
                                  getattr(settings, "UPLOAD_MAX_DECODED_BYTES", 10**9) // scale)
        upload_then_get("max_uploads", "mnist-like.zip", data, uploads=3, extra={"pixels_each": pixels})
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="60 MB bodies and a quarter-size maximum upload")
    parser.add_argument("--cases", default=",".join(CASES), help="which cases, comma-separated")
    parser.add_argument("--out", default="bench/results/uploads.json")
    args = parser.parse_args()
    chosen = [name for name in args.cases.split(",") if name]
    unknown = set(chosen) - set(CASES)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")

    with live_stack() as (server, _):
        token = seed_user()
        # Warm-up, not reported: the first request of each kind imports and compiles what it needs.
        get(server.port, token, "spirals")
        results = run_cases(server, token, chosen, args.quick)
        results["settings"] = {"quick": args.quick, "cpus": os.cpu_count()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
