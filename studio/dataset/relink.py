"""Re-link images whose folder was moved: point the project at the folder's new place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from studio.dataset.store import Project


@dataclass(frozen=True)
class RelinkReport:
    relinked: int  # images whose path now points under the new folder
    found: int  # of those, how many exist there
    still_missing: int  # images of the whole project still not found


def missing_folder(project: Project) -> str | None:
    """The deepest folder holding every missing image (the folder that was moved), or None if none is missing."""
    missing = [image.path for image in project.missing_images()]
    if not missing:
        return None
    return os.path.commonpath([str(Path(path).parent) for path in missing])


def missing_folder_at(folder: str | Path, *, progress=None, cancel=None) -> tuple[int, str | None]:
    """How many images of the project in ``folder`` are missing, and the folder they were in (for a worker)."""
    with Project.open(folder, read_only=True) as project:
        return len(project.missing_images()), missing_folder(project)


def relink_folder_at(
    folder: str | Path, old_folder: str, new_folder: str | Path, *, progress=None, cancel=None
) -> RelinkReport:
    """`relink_folder` on a connection of its own to the project in ``folder`` (for a worker: it stats files)."""
    with Project.open(folder) as project:
        return relink_folder(project, old_folder, new_folder)


def relink_folder(project: Project, old_folder: str, new_folder: str | Path) -> RelinkReport:
    """Point every image under ``old_folder`` to the same relative path under ``new_folder`` (one transaction)."""
    new_folder = Path(new_folder).expanduser().resolve()
    if not new_folder.is_dir():
        raise ValueError(f"{new_folder} is not a folder")
    relinked = project.relink(old_folder, str(new_folder))
    under = [image for image in project.images() if image.path.startswith(str(new_folder) + os.sep)]
    found = sum(Path(image.path).is_file() for image in under)
    return RelinkReport(relinked=relinked, found=found, still_missing=len(project.missing_images()))
