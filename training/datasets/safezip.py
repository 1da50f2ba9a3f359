"""Reading a user's ZIP without trusting it.

Everything that can be checked from the central directory (entry count, total unpacked size, entry names,
compression, encryption) is checked before a single member is unpacked, and each member is read no further
than its declared size, so a forged header cannot make one member unpack without bound.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from .base import DatasetError, UploadLimits

# bzip2 and LZMA members decompress in unbounded steps inside zipfile; deflate is what ZIP tools write.
METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
JUNK = ("__MACOSX", "Thumbs.db", "desktop.ini")  # metadata that macOS and Windows add to archives


class SafeZip:
    def __init__(self, path: Path, limits: UploadLimits, label: str | None = None):
        """`label`: the file's name for messages (an upload's own name, not the server's temporary one)."""
        try:
            self._zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise DatasetError(f"{label or Path(path).name} is not a readable ZIP file: {exc}") from None
        except OSError as exc:  # its message would hold the path: the server's temporary file, for an upload
            raise DatasetError(f"{label or Path(path).name} is not a readable ZIP file: {exc.strerror}") from None
        infos = self._zip.infolist()
        if len(infos) > limits.max_zip_entries:
            raise DatasetError(f"the ZIP has {len(infos):,} entries; the limit is {limits.max_zip_entries:,} "
                               "(max_zip_entries)")
        total = sum(info.file_size for info in infos)
        if total > limits.max_uncompressed_bytes:
            raise DatasetError(f"the ZIP would unpack to {total:,} bytes; the limit is "
                               f"{limits.max_uncompressed_bytes:,} bytes (max_uncompressed_bytes)")
        for info in infos:
            _check_entry(info)
        kept = [info for info in infos if not _is_junk(info.filename)]
        self.files = [info for info in kept if not info.is_dir()]
        self.folders = [info.filename.rstrip("/") for info in kept if info.is_dir()]

    def read(self, info: zipfile.ZipInfo) -> bytes:
        try:
            with self._zip.open(info) as member:
                # zipfile stops at the declared size as well; its CRC check then exposes a member holding more.
                return member.read(info.file_size)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise DatasetError(f"'{info.filename}' in the ZIP is damaged: {exc}") from None

    def open(self, info: zipfile.ZipInfo) -> BinaryIO:
        """The member as a seekable stream that ends at its declared size; reading it can raise
        zipfile.BadZipFile, zlib.error or EOFError where it is damaged."""
        try:
            return self._zip.open(info)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise DatasetError(f"'{info.filename}' in the ZIP is damaged: {exc}") from None

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc) -> None:
        self._zip.close()


def _check_entry(info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ":" in parts[0] or ".." in parts:
        raise DatasetError(f"the ZIP entry '{name}' points outside the archive (absolute path or '..')")
    if info.flag_bits & 0x1:
        raise DatasetError(f"the ZIP entry '{name}' is encrypted")
    if info.compress_type not in METHODS:
        raise DatasetError(f"the ZIP entry '{name}' uses compression method {info.compress_type}; "
                           "only stored and deflated entries are accepted")


def _is_junk(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return any(part in JUNK or part.startswith(".") for part in parts)
