"""Import a dataset in any registered format into an open project, in one transaction (or not at all).

``plan_import`` reads the dataset, finds and measures every image it names (headers only, with the project's
image code) and converts boxes to original-image pixels, without touching the store: its report is the dry
run. ``apply_import`` writes a plan in one transaction; a failure or a cancel leaves the store as it was.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from studio.dataset.formats.base import Box4, DatasetDoc, DocImage, FormatError, check_corners
from studio.dataset.formats.registry import get_format
from studio.dataset.formats.scope import OUTSIDE, ImageScope, dataset_folder, image_scope
from studio.dataset.imaging import ImageError, read_image_info
from studio.dataset.store import NewImage, Project
from studio.files import replaced_atomically
from studio.jobs import CancelToken, Progress, no_progress, throttled

_TABLES = ("images", "labels", "boxes", "captions", "phrases", "phrase_boxes", "vqa")
_SWAPS_AXES = {5, 6, 7, 8}
BOX_TOLERANCE = 0.01  # px: a box this close to an existing one on the same image is the same box


@dataclass
class PlannedImage:
    """One image of the dataset, found and measured, with its boxes in original-image pixels."""

    info: NewImage
    sources: list[DocImage]
    boxes: list[tuple[str | None, Box4]] = field(default_factory=list)
    embedded: EmbeddedImage | None = None  # written into the assets folder by ``apply_import``


@dataclass(frozen=True)
class EmbeddedImage:
    """An image the dataset file holds itself (labelme's imageData), to be written to ``info.path``."""

    read: Callable[[], bytes]
    sha256: str


@dataclass
class ImportReport:
    """What an import would do (dry run) or did; ``to_dict`` is the CLI's ``--json`` document."""

    format: str
    source: str
    dry_run: bool = True
    images_new: int = 0
    images_existing: int = 0
    boxes: int = 0
    boxes_existing: int = 0
    captions: int = 0
    phrases: int = 0
    vqa_pairs: int = 0
    splits: int = 0
    new_labels: list[str] = field(default_factory=list)
    unused_labels: list[str] = field(default_factory=list)  # declared by the dataset, used by no imported box
    images_named: int = 0  # images the dataset names (found or not)
    missing: list[tuple[str, str, str]] = field(default_factory=list)  # (file as named, where, reason)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "format": self.format,
            "source": self.source,
            "dry_run": self.dry_run,
            "images_new": self.images_new,
            "images_existing": self.images_existing,
            "boxes": self.boxes,
            "boxes_existing": self.boxes_existing,
            "captions": self.captions,
            "phrases": self.phrases,
            "vqa_pairs": self.vqa_pairs,
            "splits": self.splits,
            "new_labels": self.new_labels,
            "unused_labels": self.unused_labels,
            "images_named": self.images_named,
            "images_not_found": [{"file": f, "where": w, "reason": r} for f, w, r in self.missing],
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
        }

    def summary(self) -> str:
        verb = "Would import" if self.dry_run else "Imported"
        lines = [
            f"{verb} {self.images_new:,} new images ({self.images_existing:,} already in the project), "
            f"{self.boxes:,} boxes, {self.captions:,} captions, {self.phrases:,} phrases, "
            f"{self.vqa_pairs:,} VQA pairs from {self.source} ({self.format})",
        ]
        if self.boxes_existing:
            lines.append(f"{self.boxes_existing:,} boxes were already there and are not added again")
        if self.new_labels:
            lines.append(f"New labels ({len(self.new_labels)}): {', '.join(self.new_labels)}")
        if self.unused_labels:
            lines.append(
                f"Categories no imported box uses, not created ({len(self.unused_labels)}): "
                + ", ".join(self.unused_labels)
            )
        if self.missing:
            lines.append(
                f"Missed {len(self.missing):,} of the {self.images_named:,} images the dataset names "
                "(not found or unreadable; their annotations are not imported):"
            )
            lines += missed_lines(self.missing)
        lines += [f"Note: {note}" for note in self.notes]
        return "\n".join(lines)


def missed_lines(missing: list[tuple[str, str, str]], names: int = 5) -> list[str]:
    """The images not imported, grouped by reason, naming the first few of each (``--json`` lists them all)."""
    by_reason: dict[str, list[tuple[str, str]]] = {}
    for file, where, reason in missing:
        by_reason.setdefault(reason, []).append((file, where))
    lines = []
    for reason, files in by_reason.items():
        lines.append(f"  {len(files):,} {'image' if len(files) == 1 else 'images'}: {reason}:")
        lines += [f"    {file} ({where})" for file, where in files[:names]]
        if len(files) > names:
            lines.append(f"    ... and {len(files) - names:,} more")
    return lines


@dataclass
class ImportPlan:
    doc: DatasetDoc
    images: list[PlannedImage]
    report: ImportReport


def plan_import(
    project: Project,
    format_name: str,
    path: str | Path,
    *,
    model: str | None = None,
    allow_outside: bool = False,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> ImportPlan:
    """Read and check the dataset and measure its images; the store is only read. Images are read only inside
    the dataset's folder (`scope.dataset_folder`) unless ``allow_outside``: others are reported as outside it."""
    started = time.perf_counter()
    fmt = get_format(format_name)
    path = Path(path).expanduser()
    if not path.exists():
        raise FormatError(path, "", "no such file or folder")
    progress(0, 0, f"reading {path.name}")
    scope = ImageScope(None if allow_outside else dataset_folder(path))
    with image_scope(scope):
        try:
            doc = fmt.read(path, model)
        except OSError as exc:  # a path the dataset names that the system refuses (too long, ...)
            named = str(exc.filename or "")
            named = named if len(named) <= 80 else f"{named[:40]}…{named[-30:]}"
            raise FormatError(path, "", f"names a file the system cannot open ({exc.strerror or exc}: {named})") \
                from None
    report = ImportReport(format=fmt.name, source=str(path), notes=list(doc.notes))
    known = {image.path for image in project.images()}
    planned: dict[str, PlannedImage] = {}
    measured: dict[Path, NewImage | str] = {}
    outside = mismatched = rotated = 0
    report_progress = throttled(progress)
    for index, image in enumerate(doc.images):
        if cancel is not None:
            cancel.raise_if_cancelled()
        report_progress(index, len(doc.images), image.file)
        try:
            info = _find(image, doc.root, measured, scope)
        except OSError as exc:  # a name the system refuses (too long, ...): this image only
            info = f"unusable file name ({exc.strerror or exc})"
        embedded = None
        if isinstance(info, str) and image.embedded is not None:
            info, embedded = _measure_embedded(image, project.assets_dir, info)
        if isinstance(info, str):
            report.missing.append((image.file, image.where, info))
            continue
        plan = planned.get(info.path)
        if plan is None:
            plan = planned[info.path] = PlannedImage(info, [], embedded=embedded)
        plan.sources.append(image)
        width, height = info.width, info.height
        raw_frame = (
            info.orientation in _SWAPS_AXES
            and (image.width, image.height) == (info.height, info.width)
            and info.width != info.height
            and image.frame.name == "pixels"
        )
        if raw_frame:
            rotated += 1
        elif image.width and image.height and (image.width, image.height) != (width, height):
            mismatched += 1
        for number, box in enumerate(image.boxes, 1):
            xyxy = (box.frame or image.frame).to_pixels(box.xyxy, width, height)
            if raw_frame:
                xyxy = _orient(xyxy, info.orientation, info.height, info.width)
            check_corners(doc.source, f"{image.where} box {number} in pixels", xyxy)
            if xyxy[0] < -0.5 or xyxy[1] < -0.5 or xyxy[2] > width + 0.5 or xyxy[3] > height + 0.5:
                outside += 1
            plan.boxes.append(((box.label or "").strip() or None, xyxy))
    progress(len(doc.images), len(doc.images), "")
    if rotated:
        report.notes.append(
            f"{rotated:,} images are stored rotated (EXIF orientation) and the dataset gives the "
            "stored size: their boxes were turned to the upright image"
        )
    if mismatched:
        report.notes.append(
            f"{mismatched:,} images have a different size in the dataset than on disk; boxes were kept as written"
        )
    if outside:
        report.notes.append(f"{outside:,} boxes reach outside their image; they were kept as written")
    elsewhere = sum(reason == OUTSIDE for _file, _where, reason in report.missing)
    if elsewhere:
        report.notes.append(
            f"{elsewhere:,} {'image lies' if elsewhere == 1 else 'images lie'} outside the dataset folder "
            f"{scope.folder} and {'was' if elsewhere == 1 else 'were'} not read: choose a folder that holds them "
            "too, or, if you trust this dataset, allow images outside the dataset folder (the import dialog's "
            "option, or --allow-outside)"
        )
    embedded_count = sum(1 for item in planned.values() if item.embedded and item.info.path not in known)
    if embedded_count:
        report.notes.append(
            f"{embedded_count:,} images were taken from the image data embedded in the dataset files (their image "
            f"path names no readable image); they are written to the project's assets folder {project.assets_dir}"
        )
    report.images_named = len(doc.images)
    if not planned:
        raise FormatError(doc.source, "", _nothing_found(report))
    _count(project, list(planned.values()), doc, known, report)
    report.seconds = time.perf_counter() - started
    return ImportPlan(doc, list(planned.values()), report)


def _nothing_found(report: ImportReport) -> str:
    """Why an import that found no image fails, saying where it looked."""
    if not report.missing:
        return "names no images; nothing was imported"
    count = len(report.missing)
    lines = [
        f"none of the {count:,} images it names was found or readable, so nothing was imported"
        if count > 1
        else "the one image it names was not found or is unreadable, so nothing was imported",
        *missed_lines(report.missing, names=3),
    ]
    return "\n".join(lines)


def apply_import(
    project: Project,
    plan: ImportPlan,
    *,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> ImportReport:
    """Write the plan to the store in one transaction; raises (and changes nothing) on error or cancel."""
    started = time.perf_counter()
    report = plan.report
    written: list[Path] = []
    try:
        with project.transaction(_TABLES):
            _apply(project, plan, written, progress, cancel)
    except BaseException:
        for path in written:  # the images written for this import belong to no image row now
            path.unlink(missing_ok=True)
        raise
    progress(len(plan.images), len(plan.images), "")
    report.dry_run = False
    report.seconds += time.perf_counter() - started
    return report


def _apply(
    project: Project, plan: ImportPlan, written: list[Path], progress: Progress, cancel: CancelToken | None
) -> None:
    """The body of ``apply_import``'s transaction; ``written`` collects the embedded images it wrote."""
    report = plan.report
    by_path = {image.path: image for image in project.images()}
    new = []
    for item in plan.images:
        if item.info.path in by_path:
            continue
        if item.embedded is not None:
            item.info = _write_embedded(item, written)
        new.append(item.info)
    project.add_images(new)
    by_path = {image.path: image for image in project.images()}
    used = {label for item in plan.images for label, _box in item.boxes if label}
    labels = {name: project.ensure_label(name).id for name in [*report.new_labels, *sorted(used)]}
    report_progress = throttled(progress)
    for index, item in enumerate(plan.images):
        if cancel is not None:
            cancel.raise_if_cancelled()
        report_progress(index, len(plan.images), Path(item.info.path).name)
        _write_image(project, by_path[item.info.path], item, labels)


def import_dataset(
    project: Project,
    format_name: str,
    path: str | Path,
    *,
    model: str | None = None,
    dry_run: bool = False,
    allow_outside: bool = False,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> ImportReport:
    """Plan, and unless ``dry_run``, apply an import; returns the report."""
    plan = plan_import(project, format_name, path, model=model, allow_outside=allow_outside, progress=progress,
                       cancel=cancel)
    if dry_run:
        return plan.report
    return apply_import(project, plan, progress=progress, cancel=cancel)


# ---------------------------------------------------------------- finding and measuring images
def _find(image: DocImage, root: Path, measured: dict[Path, NewImage | str], scope: ImageScope) -> NewImage | str:
    """The measured file the dataset names, or the reason it cannot be used; places outside ``scope`` are not
    looked at (the reason is then `OUTSIDE`, whether or not a file is there)."""
    name = image.file.replace("\\", "/")
    if not name.strip():
        return "no file name given"
    given = Path(name).expanduser()
    folders = list(dict.fromkeys([*image.search, root, root / "images"]))
    candidates = [given] if given.is_absolute() else [folder / given for folder in folders]
    candidates += [folder / given.name for folder in folders if given.name != name]
    for candidate in candidates:
        if not scope.allows(candidate):  # never looked at: whether a file is there stays unknown
            continue
        if candidate in measured:
            return measured[candidate]
        if candidate.is_file():
            try:
                result: NewImage | str = read_image_info(candidate)
            except ImageError as exc:
                result = str(exc)
            measured[candidate] = result
            return result
    if not scope.allows(given if given.is_absolute() else root / given):
        return OUTSIDE
    looked = [str(folder) for folder in folders if scope.allows(folder)]
    return "file not found" + ("" if given.is_absolute() else f" (looked in {', '.join(looked)})")


# ---------------------------------------------------------------- images embedded in the dataset files
_UNSAFE_NAME = re.compile(r"[^\w.-]+")
_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "BMP": ".bmp", "GIF": ".gif", "TIFF": ".tif", "WEBP": ".webp"}


def _measure_embedded(
    image: DocImage, assets: Path, reason: str
) -> tuple[NewImage | str, EmbeddedImage | None]:
    """The embedded image measured, with the assets file it will be written to (named after the image and its
    content, so a re-import finds it again); or why neither the named file nor the embedded image can be used."""
    assert image.embedded is not None
    try:
        data = image.embedded()
    except (FormatError, OSError, ValueError) as exc:
        return f"{reason}; its embedded image is unusable ({exc})", None
    with tempfile.TemporaryDirectory(prefix="vlm-studio-embedded-") as folder:
        probe = Path(folder) / "image"
        probe.write_bytes(data)
        try:
            info = read_image_info(probe)
        except ImageError as exc:
            return f"{reason}; its embedded image is unusable ({exc})", None
    digest = hashlib.sha256(data).hexdigest()
    stem = _UNSAFE_NAME.sub("_", Path(image.file.replace("\\", "/")).stem).strip("._")[:60] or "embedded"
    name = f"{stem}_{digest[:12]}{_EXTENSIONS.get(info.format, '.img')}"
    return replace(info, path=str(assets.resolve() / name)), EmbeddedImage(image.embedded, digest)


def _write_embedded(item: PlannedImage, written: list[Path]) -> NewImage:
    """Write an embedded image into the assets folder (under a temporary name, then renamed: a crash leaves no
    half-written image) unless the same content is there already; returns it measured."""
    assert item.embedded is not None
    target = Path(item.info.path)
    data = item.embedded.read()
    if hashlib.sha256(data).hexdigest() != item.embedded.sha256:
        where = item.sources[0].where
        raise FormatError(where, "", "the embedded image changed since the preview; preview the import again")
    if not (target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == item.embedded.sha256):
        with replaced_atomically(target, durable=True) as partial:
            partial.write_bytes(data)
        written.append(target)
    return read_image_info(target)


def _orient(box: Box4, orientation: int, width: int, height: int) -> Box4:
    """Map a box from the stored image (``width`` x ``height``) to the upright one, per EXIF orientation."""

    def point(x: float, y: float) -> tuple[float, float]:
        return {
            2: (width - x, y),
            3: (width - x, height - y),
            4: (x, height - y),
            5: (y, x),
            6: (height - y, x),
            7: (height - y, width - x),
            8: (y, width - x),
        }.get(orientation, (x, y))

    (ax, ay), (bx, by) = point(box[0], box[1]), point(box[2], box[3])
    return (min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))


# ---------------------------------------------------------------- counting (dry run) and writing
def _count(
    project: Project, planned: list[PlannedImage], doc: DatasetDoc, known: set[str], report: ImportReport
) -> None:
    labels = {label.name for label in project.labels()}
    used = {label for item in planned for label, _box in item.boxes if label}
    named = list(dict.fromkeys(name.strip() for name in doc.used_labels() if name.strip()))
    report.new_labels = [name for name in named if name in used and name not in labels]
    report.unused_labels = [name for name in named if name not in used and name not in labels]
    ids = {image.path: image.id for image in project.images()}
    names = {label.id: label.name for label in project.labels()}
    for item in planned:
        existing = item.info.path in known
        report.images_new += not existing
        report.images_existing += existing
        old_boxes = [(names.get(b.label_id), b.xyxy) for b in project.boxes(ids[item.info.path])] if existing else []
        for label, xyxy in item.boxes:
            if any(_same(label, xyxy, old) for old in old_boxes):
                report.boxes_existing += 1
            else:
                report.boxes += 1
        for source in item.sources:
            _check(doc, source)
            report.captions += bool(source.caption)
            report.phrases += len(source.phrases)
            report.vqa_pairs += len(source.vqa)
            report.splits += bool(source.split)


def _check(doc: DatasetDoc, image: DocImage) -> None:
    """Phrase spans inside the caption and links to boxes that exist (a reader's promise, checked once)."""
    for phrase in image.phrases:
        if not 0 <= phrase.start < phrase.end <= len(image.caption):
            raise FormatError(
                doc.source,
                image.where,
                f"phrase span {phrase.start}..{phrase.end} is outside the caption ({len(image.caption)} characters)",
            )
        if any(not 0 <= i < len(image.boxes) for i in phrase.boxes):
            raise FormatError(doc.source, image.where, "a phrase links to a box that does not exist")


def _same(label: str | None, xyxy: Box4, other: tuple[str | None, Box4]) -> bool:
    return (label or None) == (other[0] or None) and all(
        abs(a - b) <= BOX_TOLERANCE for a, b in zip(xyxy, other[1], strict=True)
    )


def _write_image(project: Project, image, item: PlannedImage, labels: dict[str, int]) -> None:
    names = {label_id: name for name, label_id in labels.items()}
    existing = [(names.get(b.label_id) if b.label_id else None, b.xyxy, b.id) for b in project.boxes(image.id)]
    box_ids: list[int] = []
    for label, xyxy in item.boxes:
        same = next((old[2] for old in existing if _same(label, xyxy, (old[0], old[1]))), None)
        if same is None:
            same = project.add_box(image.id, labels.get(label) if label else None, *xyxy)
        box_ids.append(same)
    offset = 0
    vqa = {(p.question, p.answer) for p in project.vqa(image.id)}
    split = ""
    for source in item.sources:
        links = box_ids[offset : offset + len(source.boxes)]
        offset += len(source.boxes)
        split = source.split or split
        if source.caption:
            caption = project.caption(image.id)
            if caption not in ("", source.caption):
                continue  # keeps the caption already there; its phrases would not fit the new text
            if not caption:
                project.set_caption(image.id, source.caption)
            spans = {(p.start, p.end) for p in project.phrases(image.id)}
            for phrase in source.phrases:
                if (phrase.start, phrase.end) not in spans:
                    project.add_phrase(image.id, phrase.start, phrase.end, [links[i] for i in phrase.boxes])
        for pair in source.vqa:
            if (pair.question, pair.answer) not in vqa:
                project.add_vqa(image.id, pair.question, pair.answer)
                vqa.add((pair.question, pair.answer))
    if split and not image.split_pinned and split != image.split:
        project.set_split([image.id], split)


# ---------------------------------------------------------------- for worker threads (own connection)
def plan_import_at(
    folder: str | Path,
    format_name: str,
    path: str | Path,
    *,
    model: str | None = None,
    allow_outside: bool = False,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> ImportPlan:
    """``plan_import`` on its own read-only connection to the project in ``folder``."""
    with Project.open(folder, read_only=True) as project:
        return plan_import(project, format_name, path, model=model, allow_outside=allow_outside, progress=progress,
                           cancel=cancel)


def apply_import_at(
    folder: str | Path, plan: ImportPlan, *, progress: Progress = no_progress, cancel: CancelToken | None = None
) -> ImportReport:
    """``apply_import`` on its own connection to the project in ``folder``."""
    with Project.open(folder) as project:
        return apply_import(project, plan, progress=progress, cancel=cancel)
