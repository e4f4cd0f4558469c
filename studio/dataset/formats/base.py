"""The one internal model every dataset format reads into and writes from, and the error every reader raises.

A reader turns a dataset on disk into a ``DatasetDoc``: images as the dataset names them, each with boxes (in
the coordinate frame the dataset uses, see ``BoxFrame``), a caption, phrases linked to boxes, and VQA pairs.
The importer finds and measures the images, converts the boxes to original-image pixels and writes everything
to the store; the exporter builds a ``DatasetDoc`` from the store (pixels) and hands it to a writer.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable
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
    embedded: Callable[[], bytes] | None = None  # reads the image the dataset embeds (labelme's imageData)


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
MAX_WHOLE = 2**63 - 1  # the largest whole number the store (SQLite) holds
MAX_COORDINATE = 1e9  # a box corner further out than this is no box on any image (and w * h could overflow)
_BOM = b"\xef\xbb\xbf"
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # \ud800..\udfff in JSON text: maybe an unpaired surrogate
_DIGITS = sys.get_int_max_str_digits() or 4300  # Python refuses to read longer integers (0: no limit)
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|([\[{])|([\]}])|(-?\d{' + str(_DIGITS + 1) + ',})')


def read_text(path: Path) -> str:
    """A UTF-8 text file (a byte-order mark is dropped); bytes that are not UTF-8 and files that cannot be read
    become a ``FormatError`` naming the place."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FormatError(path, "", f"cannot read the file ({exc.strerror or exc})") from None
    start = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = data.count(b"\n", 0, offset) + 1
        column = offset - data.rfind(b"\n", 0, offset)
        raise FormatError(
            path, f"line {line} byte {column}", f"expected UTF-8 text, found the byte 0x{data[offset]:02x}"
        ) from None


def load_json(path: Path) -> Any:
    """Parse a JSON file; a syntax error becomes a ``FormatError`` with line and column."""
    return _parse_json(path, read_text(path))


def iter_jsonl(path: Path):
    """Yield ``(line_number, object)`` for each non-blank line of a JSON-lines file."""
    for number, line in enumerate(read_text(path).splitlines(), 1):
        if line.strip():
            yield number, _parse_json(path, line, number)


def _parse_json(file: Path | str, text: str, line: int | None = None) -> Any:
    """``text`` (the whole file, or its line ``line``) as JSON; anything Python cannot read or store (syntax,
    nesting deeper than its recursion limit, numbers over its digit limit, unpaired surrogates) becomes a
    ``FormatError`` naming the line and column."""

    def place(offset: int) -> str:
        if line is not None:
            return f"line {line} column {offset + 1}"
        row = text.count("\n", 0, offset) + 1
        return f"line {row} column {offset - text.rfind(chr(10), 0, offset)}"

    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {line} column {exc.colno}" if line is not None else f"line {exc.lineno} column {exc.colno}"
        raise FormatError(file, where, f"invalid JSON ({exc.msg})") from None
    except RecursionError:
        raise FormatError(file, place(_json_problem(text, deep=True)), "nested too deeply to read") from None
    except ValueError:  # an integer over Python's digit limit
        raise FormatError(
            file,
            place(_json_problem(text, deep=False)),
            f"a number with more than {_DIGITS:,} digits",
        ) from None
    if _SURROGATE_ESCAPE.search(text):
        check_unicode(file, f"line {line} $" if line is not None else "$", value)
    return value


def _json_problem(text: str, *, deep: bool) -> int:
    """Where JSON text first nests deeper than 500 levels (``deep``), or else holds an over-long integer."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        if match.group(1):
            depth += 1
            if deep and depth > 500:
                return match.start()
        elif match.group(2):
            depth -= 1
        elif match.group(3) and not deep:
            return match.start()
    return 0


def check_unicode(file: Path | str, root: str, value: Any) -> None:
    """Refuse text holding an unpaired UTF-16 surrogate (JSON allows ``"\\ud800"``; UTF-8 and the store do not)."""
    waiting = [(root, value)]
    while waiting:
        path, item = waiting.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                waiting.append((f"{path}.{key}" if path else str(key), child))
                waiting.append((path, key))  # checked first: the place above must not hold a bad key
        elif isinstance(item, list):
            waiting.extend((f"{path}[{i}]", child) for i, child in enumerate(item))
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise FormatError(
                    file, path, f"text holds an unpaired surrogate \\u{ord(item[exc.start]):04x} (not valid Unicode)"
                ) from None


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
        if value is None:
            return value
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            raise self.error(key, f"expected a whole number, found {_short(value)}")
        if abs(value) > MAX_WHOLE:
            raise self.error(key, f"expected a whole number up to {MAX_WHOLE:,}, found {_short(value)}")
        return int(value)

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
    try:
        result = [float(v) for v in value]
    except OverflowError:  # an integer beyond any float
        result = [math.inf]
    if not all(math.isfinite(v) for v in result):
        raise FormatError(file, place, f"expected finite numbers, found {_short(value)}")
    return result


def check_corners(file: Path | str, place: str, corners: Box4) -> None:
    """Refuse box corners that are not finite or lie further out than ``MAX_COORDINATE`` (checked where a
    reader builds a box and again after the conversion to pixels, whose arithmetic can overflow)."""
    if not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in corners):
        found = ", ".join(f"{v:g}" for v in corners)
        raise FormatError(file, place, f"expected finite coordinates within ±{MAX_COORDINATE:g}, found [{found}]")


def ordered_box(file: Path | str, place: str, label: str | None, x1: float, y1: float, x2: float, y2: float) -> DocBox:
    """A box whose corners must be finite and in order (x1 <= x2, y1 <= y2)."""
    check_corners(file, place, (x1, y1, x2, y2))
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
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):  # an integer over the digit limit, deep nesting
        return _kind(value)
    return text if len(text) <= 60 else text[:57] + "..."
