"""Measure image files from their headers: size after EXIF orientation, format, file size. Never decodes pixels.

Truncation is caught cheaply by checking the end-of-image marker of JPEG and PNG files, so an import of ten thousand
files reads a few kilobytes of each.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from studio.dataset.store import NewImage

SUPPORTED_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
_FORMATS = {"JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF", "MPO"}
_EXIF_ORIENTATION = 0x0112
_SWAPS_AXES = {5, 6, 7, 8}
_TRUNCATED = "truncated file (the image data ends early)"


class ImageError(ValueError):
    """A file that cannot be imported; the message names the reason."""


def read_image_info(path: str | Path) -> NewImage:
    """Measure one image file without decoding it; raises ``ImageError`` with the reason when it is unusable."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise ImageError(f"cannot read file ({exc.strerror or exc})") from None
    if stat.st_size == 0:
        raise ImageError("empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(path) as image:
                if image.format not in _FORMATS:
                    raise ImageError(f"unsupported image format {image.format}")
                width, height = image.size
                orientation = _orientation(image)
                image_format = "JPEG" if image.format == "MPO" else image.format
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise ImageError(
            f"too many pixels (over Pillow's decompression-bomb limit of {PILImage.MAX_IMAGE_PIXELS:,})"
        ) from None
    except UnidentifiedImageError:
        raise ImageError("not an image (or a format VLM Studio cannot read)") from None
    except PermissionError:
        raise ImageError("permission denied") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, ImageError):
            raise
        if "truncated" in str(exc).lower():
            raise ImageError(_TRUNCATED) from None
        raise ImageError(f"unreadable image header ({exc})") from None
    if width <= 0 or height <= 0:
        raise ImageError(f"invalid size {width}x{height}")
    _check_complete(path, image_format, stat.st_size)
    if orientation in _SWAPS_AXES:
        width, height = height, width
    return NewImage(
        path=str(path.resolve()), width=width, height=height, orientation=orientation,
        file_size=stat.st_size, mtime=stat.st_mtime, format=image_format,
    )


def _orientation(image: PILImage.Image) -> int:
    try:
        value = int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # a broken EXIF block must not reject an otherwise good image
        return 1
    return value if 1 <= value <= 8 else 1


def _check_complete(path: Path, image_format: str, size: int) -> None:
    """Reject JPEG and PNG files whose end marker is missing (the download or copy was cut short)."""
    if image_format not in ("JPEG", "PNG"):
        return
    with open(path, "rb") as handle:
        handle.seek(max(0, size - 4096))
        tail = handle.read()
    marker = b"\xff\xd9" if image_format == "JPEG" else b"IEND"
    if marker not in tail.rstrip(b"\x00\r\n ")[-64:]:
        raise ImageError(_TRUNCATED)


def is_image_name(path: str | Path) -> bool:
    return os.path.splitext(str(path))[1].lower() in SUPPORTED_SUFFIXES
