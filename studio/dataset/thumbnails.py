"""Thumbnails cached on disk as small JPEGs, keyed by image id and file identity (size and mtime)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from PIL import Image as PILImage
from PIL import ImageOps

from studio.files import replaced_atomically

THUMB_SIZE = 128


def thumbnail_path(cache_dir: Path, image_id: int, source: str, size: int = THUMB_SIZE) -> Path:
    """Where the thumbnail of ``source`` lives; the name changes when the file changes."""
    try:
        stat = os.stat(source)
        identity = f"{source}|{stat.st_size}|{stat.st_mtime_ns}|{size}"
    except OSError:
        identity = f"{source}|missing|{size}"
    digest = hashlib.blake2b(identity.encode(), digest_size=8).hexdigest()
    return cache_dir / "thumbs" / f"{image_id // 1000:04d}" / f"{image_id}-{digest}.jpg"


def ensure_thumbnail(cache_dir: Path, image_id: int, source: str, size: int = THUMB_SIZE) -> Path:
    """Return the cached thumbnail, creating it (upright, fitting ``size``) when absent."""
    target = thumbnail_path(cache_dir, image_id, source, size)
    if target.is_file():
        return target
    with PILImage.open(source) as image, replaced_atomically(target) as partial:
        image.draft("RGB", (size * 2, size * 2))  # JPEG: decode at a reduced scale
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((size, size))
        upright.convert("RGB").save(partial, "JPEG", quality=85)
    return target
