"""The one internal model every dataset format reads into and writes from, and the error every reader raises.

A reader turns a dataset on disk into a ``DatasetDoc``: images as the dataset names them, each with boxes (in
the coordinate frame the dataset uses, see ``BoxFrame``), a caption, phrases linked to boxes, and VQA pairs.
The importer finds and measures the images, converts the boxes to original-image pixels and writes everything
to the store; the exporter builds a ``DatasetDoc`` from the store (pixels) and hands it to a writer.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Box4 = tuple[float, float, float, float]


class FormatError(ValueError):
    """Bad dataset input: names the file, the place in it and what was expected there."""

    def __init__(self, file: str | Path, place: str, problem: str) -> None:
        self.file, self.place, self.problem = str(file), place, problem
        super().__init__(f"{file}: {place}: {problem}" if place else f"{file}: {problem}")


class BoxFrame:
    """The coordinate frame a dataset writes boxes in; converts corners to and from original-image pixels."""

    name = "pixels"

    def to_pixels(self, box: Box4, width: int, height: int) -> Box4:
        return box

    def from_pixels(self, box: Box4, width: int, height: int) -> Box4:
        return box


class ScaledFrame(BoxFrame):
    """Corners relative to the image size: 0..``scale`` on both axes (1 for YOLO, 1000 for some VLMs)."""

    def __init__(self, scale: float, name: str) -> None:
        self.scale, self.name = scale, name

    def to_pixels(self, box: Box4, width: int, height: int) -> Box4:
        sx, sy = width / self.scale, height / self.scale
        return (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)

    def from_pixels(self, box: Box4, width: int, height: int) -> Box4:
        sx, sy = self.scale / width, self.scale / height
        return (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)


PIXELS = BoxFrame()
NORMALIZED = ScaledFrame(1.0, "normalized")


@dataclass
class DocBox:
    label: str | None
    x1: float
    y1: float
    x2: float
    y2: float
    frame: BoxFrame | None = None  # when not the image's frame

    @property
    def xyxy(self) -> Box4:
        return (self.x1, self.y1, self.x2, self.y2)


@dataclass
class DocPhrase:
    """``caption[start:end]``, linked to boxes by their index in the image's ``boxes`` list."""

    start: int
    end: int
    boxes: tuple[int, ...] = ()


@dataclass
class DocQA:
    question: str
    answer: str


@dataclass
class DocImage:
    """One image as the dataset names it, with everything annotated on it."""

    file: str  # as written in the dataset (relative or absolute)
    where: str = ""  # the place in the dataset that names it, for reports ("annotations.json: images[3]")
    width: int | None = None  # as the dataset declares it, when it does
    height: int | None = None
    boxes: list[DocBox] = field(default_factory=list)
    caption: str = ""
    phrases: list[DocPhrase] = field(default_factory=list)
    vqa: list[DocQA] = field(default_factory=list)
    frame: BoxFrame = PIXELS
    split: str = ""
    orientation: int = 1  # EXIF orientation of the file (exports write such files upright)
    search: tuple[Path, ...] = ()  # extra folders to look for ``file`` in, before the dataset's own


@dataclass
class DatasetDoc:
    """A whole dataset, independent of its format."""

    source: Path  # the file or folder it was read from (or will be written to)
    images: list[DocImage] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # declared label names in order (may include unused ones)
    notes: list[str] = field(default_factory=list)  # things the reader changed or skipped, for the report

    @property
    def root(self) -> Path:
        """The folder that relative image paths start from."""
        return self.source if self.source.is_dir() else self.source.parent

    def used_labels(self) -> list[str]:
        """Label names in first-use order: declared ones first, then those only boxes name."""
        seen = dict.fromkeys(self.labels)
        for image in self.images:
            for box in image.boxes:
                if box.label:
                    seen.setdefault(box.label)
        return list(seen)


# ---------------------------------------------------------------- helpers shared by the readers
def load_json(path: Path) -> Any:
    """Parse a JSON file; a syntax error becomes a ``FormatError`` with line and column."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(path, f"byte {exc.start}", "expected UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(path, f"line {exc.lineno} column {exc.colno}", f"invalid JSON ({exc.msg})") from None


def iter_jsonl(path: Path):
    """Yield ``(line_number, object)`` for each non-blank line of a JSON-lines file."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise FormatError(path, f"byte {exc.start}", "expected UTF-8 text") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise FormatError(path, f"line {number} column {exc.colno}", f"invalid JSON ({exc.msg})") from None


class Fields:
    """Typed access to one JSON object, raising ``FormatError`` that names the file and the JSON path."""

    def __init__(self, file: Path | str, path: str, value: Any) -> None:
        if not isinstance(value, dict):
            raise FormatError(file, path, f"expected an object, found {_kind(value)}")
        self.file, self.path, self.value = file, path, value

    def error(self, key: str, problem: str) -> FormatError:
        return FormatError(self.file, f"{self.path}.{key}" if key else self.path, problem)

    def has(self, key: str) -> bool:
        return self.value.get(key) is not None

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.value or self.value[key] is None:
            if default is ...:
                raise self.error(key, f"missing (expected {_kind_name(kind)})")
            return default
        value = self.value[key]
        if isinstance(value, bool) and bool not in _as_tuple(kind):
            raise self.error(key, f"expected {_kind_name(kind)}, found {_kind(value)}")
        if not isinstance(value, kind):
            raise self.error(key, f"expected {_kind_name(kind)}, found {_kind(value)}")
        return value

    def text(self, key: str, default: Any = ...) -> str:
        return self.get(key, str, default)

    def integer(self, key: str, default: Any = ...) -> int:
        value = self.get(key, (int, float), default)
        if value is not None and (not math.isfinite(value) or value != int(value)):
            raise self.error(key, f"expected a whole number, found {value}")
        return value if value is None else int(value)

    def items(self, key: str, default: Any = ...) -> list[Any]:
        return self.get(key, list, default)

    def child(self, key: str, default: Any = ...) -> Fields | None:
        value = self.get(key, dict, default)
        return None if value is None else Fields(self.file, f"{self.path}.{key}", value)

    def children(self, key: str) -> list[Fields]:
        return [Fields(self.file, f"{self.path}.{key}[{i}]", item) for i, item in enumerate(self.items(key, []))]


def numbers(file: Path | str, place: str, value: Any, count: int) -> list[float]:
    """``value`` as a list of exactly ``count`` finite numbers, or a ``FormatError``."""
    if (
        not isinstance(value, list)
        or len(value) != count
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    ):
        raise FormatError(file, place, f"expected a list of {count} numbers, found {_short(value)}")
    result = [float(v) for v in value]
    if not all(abs(v) < float("inf") for v in result):
        raise FormatError(file, place, f"expected finite numbers, found {_short(value)}")
    return result


def ordered_box(file: Path | str, place: str, label: str | None, x1: float, y1: float, x2: float, y2: float) -> DocBox:
    """A box whose corners must be in order (x1 <= x2, y1 <= y2)."""
    if x2 < x1 or y2 < y1:
        raise FormatError(file, place, f"expected x1 <= x2 and y1 <= y2, found [{x1:g}, {y1:g}, {x2:g}, {y2:g}]")
    return DocBox(label, x1, y1, x2, y2)


def find_phrase_spans(caption: str, phrases: list[str]) -> list[tuple[int, int] | None]:
    """Char spans of each phrase in the caption; repeated phrases take successive occurrences."""
    used: dict[str, int] = {}
    spans: list[tuple[int, int] | None] = []
    for phrase in phrases:
        start = caption.find(phrase, used.get(phrase, 0)) if phrase else -1
        if start < 0 and phrase:
            start = caption.find(phrase)  # reuse an occurrence rather than lose the link
        if start < 0:
            spans.append(None)
            continue
        used[phrase] = start + len(phrase)
        spans.append((start, start + len(phrase)))
    return spans


def fmt_number(value: float) -> float | int:
    """A coordinate for writing: whole numbers as ints, others rounded to 1/1000 px (well inside 0.01 px)."""
    rounded = round(value, 3)
    return int(rounded) if rounded == int(rounded) else rounded


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "text",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "an object",
        bool: "true/false",
    }
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in _as_tuple(kind)))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {str: "text", int: "a number", float: "a number", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
