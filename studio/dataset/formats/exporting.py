"""Export a project (or one split) in any registered format, atomically.

The writer fills a temporary folder next to the target; only when it has finished is that folder renamed into
place, so a failed or cancelled export leaves no half-written dataset. Image files are hard-linked (copied
when linking is not possible) into the export so that it is self-contained.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image as PILImage
from PIL import ImageOps

from studio.dataset.formats.base import DatasetDoc, DocBox, DocImage, DocPhrase, DocQA
from studio.dataset.formats.registry import get_format
from studio.dataset.model import SPLITS
from studio.dataset.store import Project
from studio.jobs import CancelToken, Progress, no_progress


@dataclass(frozen=True)
class ExportOptions:
    """Choices that change what an export writes (the defaults suit each format's usual consumer)."""

    max_pixels: int | None = None  # trainer formats: the consuming trainer's image size limit; None: its default
    min_pixels: int | None = None
    whole_pixels: bool = True  # VOC: integer corners, as VOC tools expect; False: exact to 1/1000 px
    system_prompts: dict[str, str] | None = None  # per task; None: the default prompts
    workflow: str = ""  # the workflow these settings came from, for the export's README

    @classmethod
    def from_workflow(cls, name: str, config: Any, **overrides: Any) -> ExportOptions:
        """A workflow's pixel settings and system prompts (``config`` is its ``WorkflowConfig``); ``overrides``
        that are not None win."""
        values = {
            "max_pixels": config.max_pixels or None,
            "min_pixels": config.min_pixels or None,
            "system_prompts": config.resolved_system_prompts(),
            "workflow": name,
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)


@dataclass
class ExportReport:
    format: str
    target: str
    images: int = 0
    boxes: int = 0
    phrases: int = 0
    vqa_pairs: int = 0
    records: int = 0  # trainer formats: conversations written
    files: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return dict(self.__dict__, seconds=round(self.seconds, 3))

    def summary(self) -> str:
        lines = [
            f"Exported {self.images:,} images, {self.boxes:,} boxes, {self.phrases:,} phrases, "
            f"{self.vqa_pairs:,} VQA pairs as {self.format} to {self.target}"
            + (f" ({self.records:,} training conversations)" if self.records else "")
        ]
        return "\n".join(lines + [f"Note: {note}" for note in self.notes])


class Output:
    """The folder a writer fills: places image files under unique names and writes text files."""

    def __init__(
        self,
        folder: Path,
        total: int,
        progress: Progress = no_progress,
        cancel: CancelToken | None = None,
        final: Path | None = None,
        options: ExportOptions | None = None,
    ) -> None:
        self.folder, self.total = folder, total
        self.final = final or folder  # where the folder will be once complete (for absolute paths)
        self.progress, self.cancel = progress, cancel
        self.options = options or ExportOptions()
        self.notes: list[str] = []
        self.files = 0
        self.records = 0  # trainer formats: conversations written
        self.upright = 0  # files written turned upright (their EXIF orientation applied)
        self._names: dict[str, set[str]] = {}
        self._placed = 0
        self._last = 0.0

    def image(self, image: DocImage, subdir: str = "images") -> str:
        """Link or copy the image file into ``subdir``; returns its '/'-separated path in the export."""
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()
        source = Path(image.file)
        used = self._names.setdefault(subdir, set())
        stem, counter = source.stem, 1
        while stem.lower() in used:  # unique stems: label files are named after them
            stem = f"{source.stem}_{counter}"
            counter += 1
        used.add(stem.lower())
        name = stem + source.suffix
        target = self.folder / subdir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if image.orientation != 1:
            _write_upright(source, target)
            self.upright += 1
        else:
            try:
                os.link(source, target)
            except OSError:
                shutil.copyfile(source, target)
        self._placed += 1
        now = time.monotonic()
        if now - self._last > 0.2:
            self.progress(self._placed, self.total, name)
            self._last = now
        return f"{subdir}/{name}" if subdir else name

    def write_text(self, relative: str, text: str) -> Path:
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.files += 1
        return path

    def write_json(self, relative: str, data: Any, *, indent: int | None = 2) -> Path:
        return self.write_text(relative, json.dumps(data, ensure_ascii=False, indent=indent) + "\n")

    def write_jsonl(self, relative: str, records: list[Any]) -> Path:
        return self.write_text(relative, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def _write_upright(source: Path, target: Path) -> None:
    """Save the image turned as its EXIF orientation says: every tool then sees the pixels the boxes mean."""
    with PILImage.open(source) as image:
        upright = ImageOps.exif_transpose(image)
        exif = upright.getexif()
        exif.pop(0x0112, None)
        options = {"quality": 95} if image.format == "JPEG" else {}
        upright.save(target, format=image.format, exif=exif, **options)


def doc_from_project(project: Project, split: str | None = None) -> DatasetDoc:
    """The project's images (all, or one split) with boxes in pixels, as the writers take them."""
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    names = {label.id: label.name for label in project.labels()}
    doc = DatasetDoc(source=project.folder, labels=sorted(names.values()))
    for image in project.images(split=split):
        annotation = project.annotation(image.id)
        index = {box.id: i for i, box in enumerate(annotation.boxes)}
        doc.images.append(
            DocImage(
                file=image.path,
                where=f"image {image.id}",
                width=image.width,
                height=image.height,
                boxes=[DocBox(names.get(b.label_id) if b.label_id else None, *b.xyxy) for b in annotation.boxes],
                caption=annotation.caption,
                phrases=[
                    DocPhrase(p.start, p.end, tuple(index[b] for b in p.box_ids if b in index))
                    for p in annotation.phrases
                ],
                vqa=[DocQA(p.question, p.answer) for p in annotation.vqa],
                split=image.split,
                orientation=image.orientation,
            )
        )
    return doc


def export_dataset(
    project: Project,
    format_name: str,
    out: str | Path,
    *,
    split: str | None = None,
    model: str | None = None,
    options: ExportOptions | None = None,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> ExportReport:
    """Write the project (or ``split``) to the folder ``out``, which must not exist or be empty."""
    started = time.perf_counter()
    fmt = get_format(format_name)
    out = Path(out).expanduser().resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"{out} already exists and is not an empty folder; choose a new folder")
    if fmt.needs_model and not model:
        raise ValueError(f"exporting for {fmt.title} needs a model (its box format and system prompt)")
    doc = doc_from_project(project, split)
    missing = [image.file for image in doc.images if not Path(image.file).is_file()]
    if missing:
        raise ValueError(f"{len(missing):,} image files are missing (first: {missing[0]}); relink them first")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    output = Output(partial, len(doc.images), progress, cancel, final=out, options=options)
    try:
        fmt.write(doc, output, model)
        if cancel is not None:
            cancel.raise_if_cancelled()
        if out.exists():
            out.rmdir()
        os.replace(partial, out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    progress(len(doc.images), len(doc.images), "")
    if output.upright:
        output.notes.append(f"{output.upright:,} images with an EXIF orientation were written upright")
    return ExportReport(
        format=fmt.name,
        target=str(out),
        images=len(doc.images),
        boxes=sum(len(i.boxes) for i in doc.images),
        phrases=sum(len(i.phrases) for i in doc.images),
        vqa_pairs=sum(len(i.vqa) for i in doc.images),
        records=output.records,
        files=output.files,
        notes=output.notes,
        seconds=time.perf_counter() - started,
    )


def export_dataset_at(
    folder: str | Path,
    format_name: str,
    out: str | Path,
    *,
    split: str | None = None,
    model: str | None = None,
    options: ExportOptions | None = None,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> ExportReport:
    """``export_dataset`` on its own read-only connection to the project in ``folder`` (for a worker thread)."""
    with Project.open(folder, read_only=True) as project:
        return export_dataset(
            project, format_name, out, split=split, model=model, options=options, progress=progress, cancel=cancel
        )
