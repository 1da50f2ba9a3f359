"""A ZIP of images, one folder per class, as an image classification dataset (N, C, H, W)."""

from __future__ import annotations

import zipfile
from pathlib import PurePosixPath

import numpy as np

from .base import Dataset, DatasetError, UploadLimits
from .images import GRAY_MODES, open_image, pixel_limit, pixels
from .options import whole
from .safezip import SafeZip
from .store import Arrays

BYTES_PER_VALUE = 4  # float32
LABEL_BYTES = 8  # int64


def load_image_zip(archive: SafeZip, options: dict, limits: UploadLimits, name: str, title: str,
                   out: Arrays | None = None) -> Dataset:
    with pixel_limit(limits.max_image_pixels):
        return _load(archive, options, limits, name, title, out or Arrays())


def _load(archive: SafeZip, options: dict, limits: UploadLimits, name: str, title: str, out: Arrays) -> Dataset:
    samples, classes = _class_files(archive)
    # First pass reads headers only (each member is read whole, so that a damaged one is found now, but its pixels
    # are not decoded): the channel count, the pixels to decode and the memory needed are known before any image
    # is decoded.
    headers = [(image.mode, (image.height, image.width)) for image in
               (open_image(archive.read(info), info.filename, limits.max_image_pixels) for _, info in samples)]
    gray = all(mode in GRAY_MODES for mode, _ in headers)
    size = _size(options, headers[0][1], limits)
    channels = 1 if gray else 3
    count, stored = len(samples), sum(height * width for _, (height, width) in headers)
    limits.check_budget(f"the ZIP's {count:,} images, {stored:,} pixels as stored, would become {count:,} images "
                        f"of {channels}×{size[0]}×{size[1]}",
                        count * channels * size[0] * size[1] * BYTES_PER_VALUE + count * LABEL_BYTES, stored,
                        fix="set a smaller image_size")
    X = out.rows("X", (count, channels, *size), np.float32)
    for _, info in samples:
        image = open_image(archive.read(info), info.filename, limits.max_image_pixels)
        X.put(pixels(image, info.filename, gray, size)[None])
    index = {label: i for i, label in enumerate(classes)}
    y = np.array([index[label] for label, _ in samples], dtype=np.int64)
    description = (f"{count:,} images in {len(classes)} classes, {'grayscale' if gray else 'RGB'} "
                   f"{size[0]}×{size[1]}")
    return Dataset(name=name, title=title, description=description, X=X.done(), y=out.whole("y", y),
                   task="classification", classes=classes, kind="image",
                   scaling=f"each image converted to {'grayscale' if gray else 'RGB'}, resized to {size[0]}×{size[1]} "
                           "(bilinear), pixel values 0..255 divided by 255, to [0, 1]")


def _class_files(archive: SafeZip) -> tuple[list[tuple[str, zipfile.ZipInfo]], list[str]]:
    """(class, entry) for every file, sorted by path, and the sorted class names."""
    files = sorted(archive.files, key=lambda info: info.filename)
    paths = [_parts(info.filename) for info in files]
    folders = [_parts(folder) for folder in archive.folders]
    # Zipping a folder wraps the class folders in it: that one top folder is not a class.
    wrapped = len({parts[0] for parts in paths + folders}) == 1 and any(len(parts) > 2 for parts in paths)
    skip = 1 if wrapped else 0
    samples = []
    for info, parts in zip(files, paths, strict=True):
        if len(parts) - skip < 2:
            raise DatasetError(f"'{info.filename}' is not inside a class folder: the ZIP must hold one folder "
                               "per class, each with that class's images")
        samples.append((parts[skip], info))
    classes = sorted({label for label, _ in samples})
    empty = sorted({parts[skip] for parts in folders if len(parts) > skip} - set(classes))
    if empty:
        raise DatasetError(f"the class folder '{empty[0]}' has no images")
    if len(classes) < 2:
        found = f"only the class folder '{classes[0]}'" if classes else "no images"
        raise DatasetError(f"the ZIP holds {found}; it needs one folder per class, at least two")
    return samples, classes


def _parts(name: str) -> tuple[str, ...]:
    return PurePosixPath(name.replace("\\", "/")).parts  # some Windows tools write backslashes


def _size(options: dict, first: tuple[int, int], limits: UploadLimits) -> tuple[int, int]:
    """(H, W): the image_size option, else the first image's size."""
    if "image_size" not in options:
        return first
    value = options["image_size"]
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise DatasetError(f"option 'image_size' must be [height, width], got {value!r}")
    height, width = (whole(f"image_size[{i}]", v, 1, limits.max_image_pixels) for i, v in enumerate(value))
    if height * width > limits.max_image_pixels:
        raise DatasetError(f"option 'image_size' {height}×{width} is over the limit of {limits.max_image_pixels:,} "
                           "pixels per image (max_image_pixels)")
    return height, width
