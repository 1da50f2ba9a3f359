"""Fetching a file into a cache folder, so that a failed or concurrent download never leaves half a file."""

from __future__ import annotations

import os
import tempfile
import urllib.request
from pathlib import Path

from .base import DatasetError

CHUNK = 1 << 20


class DownloadFailed(DatasetError):
    """The file could not be fetched: no network, the host unknown, unreachable or refusing, or an HTTP error."""

    def __init__(self, url: str, reason: str, message: str = ""):
        super().__init__(message or f"could not download {url}: {reason}")
        self.url, self.reason = url, reason


def download(url: str, dest: Path, *, timeout: float = 60, max_bytes: int = 200_000_000) -> None:
    """Write `url` to `dest` through a temporary file in the same folder, renamed into place when complete."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            written = 0
            while chunk := response.read(CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise DatasetError(f"{url} is larger than the download limit of {max_bytes:,} bytes")
                out.write(chunk)
        os.replace(partial, dest)
    except OSError as exc:  # URLError, timeouts and HTTP errors are all OSErrors
        raise DownloadFailed(url, str(getattr(exc, "reason", exc))) from None
    finally:
        if os.path.exists(partial):
            os.remove(partial)
