"""Measure image files from their headers: size after EXIF orientation, format, file size. Never decodes pixels.

Truncation is caught cheaply by checking the end-of-image marker of JPEG and PNG files, so an import of ten thousand
files reads a few kilobytes of each; only a file that does not end with its marker (a camera or motion-photo trailer
follows it, or it was cut short) is walked to find where its image data ends.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import BinaryIO

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
        str(path).encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8 in the name: the store holds paths as UTF-8 text
        raise ImageError("the file name is not valid UTF-8 text (rename the file)") from None
    try:
        stat = path.stat()
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the name
        raise ImageError(f"cannot read file ({getattr(exc, 'strerror', None) or exc})") from None
    if stat.st_size == 0:
        raise ImageError("empty file (0 bytes)")
    try:
        with warnings.catch_warnings():  # Pillow warns from 89 MP on and refuses from twice that: the limit here
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            with PILImage.open(path) as image:
                if image.format not in _FORMATS:
                    raise ImageError(f"unsupported image format {image.format}")
                width, height = image.size
                orientation = _orientation(image)
                image_format = "JPEG" if image.format == "MPO" else image.format
    except PILImage.DecompressionBombError as exc:
        found = re.search(r"\d+", str(exc))  # "Image size (N pixels) exceeds limit of ..."
        pixels = f"{int(found.group()):,} pixels" if found else "its size"
        raise ImageError(
            f"too many pixels ({pixels}): Pillow refuses to decode images over {2 * PILImage.MAX_IMAGE_PIXELS:,} "
            "pixels, as a guard against decompression bombs"
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
    if width * height > PILImage.MAX_IMAGE_PIXELS:
        _check_memory(width, height)
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


def available_memory() -> int:
    """Bytes of memory the system can give without swapping."""
    import psutil

    return int(psutil.virtual_memory().available)


def _check_memory(width: int, height: int) -> None:
    """Refuse an image whose decoded pixels (4 bytes each, as Pillow holds RGB) do not fit in the free memory."""
    needed, free = width * height * 4, available_memory()
    if needed > free:
        raise ImageError(
            f"too large to decode on this computer: {width:,} x {height:,} pixels need {needed / 2**30:.1f} GiB "
            f"of memory, {free / 2**30:.1f} GiB is available"
        )


def _check_complete(path: Path, image_format: str, size: int) -> None:
    """Reject JPEG and PNG files whose image data ends early (the download or copy was cut short); bytes after
    the end marker (camera and motion-photo trailers) are fine, as they are for Pillow."""
    if image_format not in ("JPEG", "PNG"):
        return
    with open(path, "rb") as handle:
        handle.seek(max(0, size - 4096))
        tail = handle.read()
        marker = b"\xff\xd9" if image_format == "JPEG" else b"IEND"
        if marker in tail.rstrip(b"\x00\r\n ")[-64:]:
            return  # the common case: the file ends where its image does
        if not (_jpeg_ends if image_format == "JPEG" else _png_ends)(handle):
            raise ImageError(_TRUNCATED)


def _jpeg_ends(handle: BinaryIO) -> bool:
    """Whether the JPEG's image data reaches its end-of-image marker: the header segments are skipped by their
    lengths (an EXIF thumbnail holds a marker of its own), then the first FF D9 in the scan data is the end."""
    position = 2
    while True:
        handle.seek(position)
        head = handle.read(4)
        if len(head) < 2 or head[0] != 0xFF:
            return False
        marker = head[1]
        if marker == 0xFF:  # fill byte
            position += 1
        elif marker == 0xD9:
            return True
        elif 0xD0 <= marker <= 0xD7 or marker in (0x01, 0xD8):
            position += 2
        elif len(head) < 4:
            return False
        else:
            position += 2 + int.from_bytes(head[2:4], "big")
            if marker == 0xDA:  # start of scan: in its data FF is followed only by 00 or a restart marker
                break
    handle.seek(position)
    last = b""
    while chunk := handle.read(1 << 20):
        if b"\xff\xd9" in last + chunk:
            return True
        last = chunk[-1:]
    return False


def _png_ends(handle: BinaryIO) -> bool:
    """Whether the PNG's chunks, followed by their lengths, reach the IEND chunk before the file ends."""
    position = 8
    while True:
        handle.seek(position)
        head = handle.read(8)
        if len(head) < 8:
            return False
        if head[4:] == b"IEND":
            return True
        position += 12 + int.from_bytes(head[:4], "big")


def is_image_name(path: str | Path) -> bool:
    return os.path.splitext(str(path))[1].lower() in SUPPORTED_SUFFIXES
