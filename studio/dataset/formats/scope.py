"""Where a dataset may read images from: a dataset file names image paths, and those must not reach the rest of
the disk (``/etc/…``, ``../../home/…``) unless the user allows it (``--allow-outside``, the import dialog's
option). The importer sets the scope while it reads a dataset (`image_scope`); readers that list folders or read
files beside images ask it first (`allows`, `walk_images`), and a path outside is reported as one reason,
`OUTSIDE`, without looking at whether it exists."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from studio.dataset.formats.base import FormatError
from studio.dataset.imaging import is_image_name

OUTSIDE = "outside the dataset folder"
#: files and folders a reader may visit when it lists a folder for images
MAX_WALK_ENTRIES = 1_000_000


@dataclass(frozen=True)
class ImageScope:
    """Images may be read inside ``folder`` (symbolic links resolved), or anywhere when it is None."""

    folder: Path | None = None
    _real_dirs: dict[str, str] = field(default_factory=dict, compare=False, repr=False)  # resolved once per folder

    @cached_property
    def _real_folder(self) -> str:
        return os.path.realpath(self.folder) if self.folder is not None else ""

    def allows(self, path: str | Path) -> bool:
        if self.folder is None:
            return True
        real = self._resolve(os.fspath(path))
        return real == self._real_folder or real.startswith(self._real_folder.rstrip(os.sep) + os.sep)

    def _resolve(self, path: str) -> str:
        """``os.path.realpath`` with the folder part resolved once per folder: a dataset names thousands of images
        in a few folders, and a full resolution costs a system call per path component."""
        head, name = os.path.split(path if os.path.isabs(path) else os.path.join(os.getcwd(), path))
        if name in ("", ".", ".."):
            return os.path.realpath(path)
        real_head = self._real_dirs.get(head)  # "..", like links, resolved by realpath, not by the letters
        if real_head is None:
            real_head = self._real_dirs[head] = os.path.realpath(head)
        full = os.path.join(real_head, name)
        return os.path.realpath(full) if os.path.islink(full) else full


ANYWHERE = ImageScope()
_SCOPE: ContextVar[ImageScope | None] = ContextVar("image_scope", default=None)


def dataset_folder(path: Path) -> Path:
    """The folder a dataset's images are kept inside: the folder chosen, or the chosen file's folder; its parent
    when that is an ``annotations`` folder (COCO and VOC keep the images beside it)."""
    folder = path if path.is_dir() else path.parent
    return folder.parent if folder.name.lower() == "annotations" else folder


@contextmanager
def image_scope(scope: ImageScope) -> Iterator[ImageScope]:
    """Read a dataset under ``scope`` (this thread or task only)."""
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


def current_scope() -> ImageScope:
    """The scope `image_scope` set; anywhere outside an import."""
    return _SCOPE.get() or ANYWHERE


def allows(path: str | Path) -> bool:
    """Whether the current scope lets a reader look at ``path``."""
    return current_scope().allows(path)


def walk_images(folder: Path, file: Path | str, place: str, limit: int = MAX_WALK_ENTRIES) -> list[Path]:
    """The image files under ``folder``, sorted, for a reader that lists a folder (``place`` in ``file`` names
    it). Refused with a `FormatError` when ``folder`` is outside the scope (before looking at it) or holds more
    than ``limit`` files and folders; symbolic links to folders are not followed."""
    scope = current_scope()
    if not scope.allows(folder):
        raise FormatError(file, place, f"{folder} is {OUTSIDE} {scope.folder}; import it from its own folder, or "
                                       "allow images outside the dataset folder if you trust this dataset")
    found: list[Path] = []
    visited = 0
    for top, folders, files in os.walk(folder):
        visited += len(folders) + len(files)
        if visited > limit:
            raise FormatError(file, place, f"{folder} holds more than {limit:,} files and folders; choose the "
                                           "dataset's own folder")
        found += [path for name in files if is_image_name(path := Path(top, name)) and path.is_file()]
    return sorted(found)
