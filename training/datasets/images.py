"""Decoding one uploaded image with Pillow, its size checked from the header before any pixel is decoded."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from PIL import Image, UnidentifiedImageError

from .base import DatasetError

GRAY_MODES = ("L", "1")


@contextmanager
def pixel_limit(max_pixels: int) -> Iterator[None]:
    """Pillow's own bomb check at our limit while decoding (it also guards frames and embedded sizes that the
    header doesn't show), then back to the process's setting, which other code may rely on."""
    previous, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, max_pixels
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def open_image(data: bytes, label: str, max_pixels: int) -> Image.Image:
    """The image with only its header read: its size and mode are known, its pixels not yet decoded.
    Call it inside `pixel_limit(max_pixels)`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the check below says it plainly
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise DatasetError(f"'{label}' has more than twice the limit of {max_pixels:,} pixels per image "
                               "(max_image_pixels)") from None
        except (UnidentifiedImageError, OSError):
            raise DatasetError(f"'{label}' is not an image that Pillow can read") from None
    if image.width * image.height > max_pixels:
        raise DatasetError(f"'{label}' is {image.width}×{image.height} = {image.width * image.height:,} pixels, "
                           f"over the limit of {max_pixels:,} pixels per image (max_image_pixels)")
    return image


def pixels(image: Image.Image, label: str, gray: bool, size: tuple[int, int]) -> np.ndarray:
    """(C, H, W) float32 in [0, 1]: one channel if `gray`, else RGB; resized to `size` = (H, W)."""
    try:
        image = image.convert("L" if gray else "RGB")
        if image.size != (size[1], size[0]):
            image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:  # truncated or corrupt pixel data
        raise DatasetError(f"'{label}' could not be decoded: {exc}") from None
    values = np.asarray(image, dtype=np.float32) / 255.0
    return values[None] if gray else values.transpose(2, 0, 1)
