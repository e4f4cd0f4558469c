"""Import image files into a project: folders (recursive), single files and list files, headers only.

Images are added in batches, each batch its own transaction, so a cancelled or crashed import leaves only whole
images behind. Bad files are skipped and reported with their reason; files already in the project are not added twice.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from studio.dataset.formats.base import FormatError, read_text
from studio.dataset.imaging import ImageError, is_image_name, read_image_info
from studio.dataset.store import NewImage, Project
from studio.files import replaced_atomically
from studio.humanize import count
from studio.jobs import CancelToken, Progress, no_progress

BATCH = 500
LIST_SUFFIXES = (".txt", ".lst")


@dataclass
class ImportReport:
    added: list[int] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    duplicates: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "added": len(self.added),
            "duplicates": self.duplicates,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "seconds": round(self.seconds, 3),
        }

    def summary(self) -> str:
        text = f"Imported {count(len(self.added), 'image')}"
        if self.duplicates:
            text += f", {self.duplicates:,} already in the project"
        if self.skipped:
            text += f", skipped {len(self.skipped):,}"
        return text


def collect_files(paths: Iterable[str | Path], report: ImportReport) -> list[Path]:
    """Expand folders (recursively, sorted) and list files into image files; unknown entries go to the report."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            found.extend(_walk(path))
        elif path.suffix.lower() in LIST_SUFFIXES and path.is_file():
            base = path.parent
            try:
                text = read_text(path)
            except FormatError as exc:
                report.skipped.append((str(path), f"{exc.place}: {exc.problem}" if exc.place else exc.problem))
                continue
            for line in text.splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    entry = Path(line).expanduser()
                    found.append(entry if entry.is_absolute() else base / entry)
        elif path.exists() or path.is_symlink():
            found.append(path)
        else:
            report.skipped.append((str(path), "no such file or folder"))
    return found


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if is_image_name(name):
                yield Path(root) / name


def import_images(
    project: Project,
    paths: Iterable[str | Path],
    *,
    copy: bool = False,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> ImportReport:
    """Add the images found under ``paths``; with ``copy`` the files are copied into the project's assets folder."""
    started = time.perf_counter()
    report = ImportReport()
    files = collect_files(paths, report)
    known = project.known_paths()
    pending: list[NewImage] = []
    last_report = 0.0
    for index, file in enumerate(files):
        if cancel is not None and cancel.cancelled:
            break
        now = time.monotonic()
        if now - last_report > 0.2:
            progress(index, len(files), file.name)
            last_report = now
        try:
            resolved = str(file.resolve())
        except (OSError, RuntimeError, ValueError) as exc:  # RuntimeError: a symlink loop (before Python 3.13)
            loop = isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP
            reason = "symlink loop (following the link never reaches a file)" if loop else str(exc)
            report.skipped.append((str(file), reason))
            continue
        if resolved in known:
            report.duplicates += 1
            continue
        try:
            info = read_image_info(file)
            if copy:
                info = read_image_info(_copy_in(project, file))
        except ImageError as exc:
            report.skipped.append((str(file), str(exc)))
            continue
        except OSError as exc:
            report.skipped.append((str(file), f"cannot copy ({exc.strerror or exc})"))
            continue
        known.add(resolved)
        known.add(info.path)
        pending.append(info)
        if len(pending) >= BATCH:
            report.added += project.add_images(pending)
            pending = []
    if pending:
        report.added += project.add_images(pending)
    progress(len(files), len(files), "")
    report.seconds = time.perf_counter() - started
    return report


def import_into_folder(
    folder: str | Path, paths: list[str], *, copy: bool = False, progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> ImportReport:
    """``import_images`` on its own connection to the project in ``folder`` (for a worker thread)."""
    with Project.open(folder) as project:
        return import_images(project, paths, copy=copy, progress=progress, cancel=cancel)


def _copy_in(project: Project, file: Path) -> Path:
    """Copy a file into the assets folder under a free name, atomically (temporary name, then rename)."""
    project.assets_dir.mkdir(exist_ok=True)
    target = project.assets_dir / file.name
    counter = 1
    while target.exists():
        target = project.assets_dir / f"{file.stem}_{counter}{file.suffix}"
        counter += 1
    with replaced_atomically(target) as partial:
        shutil.copyfile(file, partial)
    return target
