"""Boxes in model text: the linear map between original-image pixels and a model's coordinates, writing boxes
as text and a lenient parser that recovers boxes from slightly malformed output and says what it could not
read."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

XYXY = tuple[float, float, float, float]


@dataclass(frozen=True)
class BoxMap:
    """Model coordinate = original pixel * scale, per axis (0-1000: 1000 / size; resized pixels: resized /
    size)."""

    scale_x: float
    scale_y: float
    limit_x: float  # the largest model coordinate (1000, or the resized width)
    limit_y: float

    def to_model(self, box: XYXY) -> XYXY:
        x1, y1, x2, y2 = box
        return (x1 * self.scale_x, y1 * self.scale_y, x2 * self.scale_x, y2 * self.scale_y)

    def to_model_int(self, box: XYXY) -> tuple[int, int, int, int]:
        """Rounded and clamped to the model's range, as written into training text."""
        x1, y1, x2, y2 = self.to_model(box)
        return (
            _clamp(round(x1), self.limit_x),
            _clamp(round(y1), self.limit_y),
            _clamp(round(x2), self.limit_x),
            _clamp(round(y2), self.limit_y),
        )

    def to_pixels(self, coords: Sequence[float]) -> XYXY:
        x1, y1, x2, y2 = coords
        return (x1 / self.scale_x, y1 / self.scale_y, x2 / self.scale_x, y2 / self.scale_y)


def _clamp(value: float, limit: float) -> int:
    return int(min(max(value, 0), limit))


@dataclass(frozen=True)
class ParsedBox:
    """A box read from model output, in original-image pixels."""

    label: str
    box: XYXY


@dataclass
class ParseResult:
    boxes: list[ParsedBox] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def write_qwen_json(items: Sequence[tuple[str, Sequence[int]]]) -> str:
    """``[{"bbox_2d": [x1, y1, x2, y2], "label": "red circle"}, ...]``, as Qwen-VL models write it."""
    return json.dumps(
        [{"bbox_2d": [int(v) for v in coords], "label": label} for label, coords in items], ensure_ascii=False
    )


_NUMBER = r"-?\d+(?:\.\d+)?"
_QUAD = rf"\[\s*({_NUMBER})\s*,\s*({_NUMBER})\s*,\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\]?"
_OBJECT = re.compile(r"\{[^{}]*\}?")
_BBOX = re.compile(rf"""["']?(?:bbox_2d|bbox|box)["']?\s*:\s*{_QUAD}""")
_LABEL = re.compile(r"""["']label["']\s*:\s*["']([^"'\]}]*)["']?""")


def parse_qwen_json(text: str, box_map: BoxMap) -> ParseResult:
    """Recover ``bbox_2d`` boxes from Qwen-style output: strict JSON first, then object by object, so a code
    fence, a missing bracket, single quotes or a cut-off tail lose only the unreadable part (reported in
    ``problems``)."""
    result = ParseResult()
    body = re.sub(r"```(?:json)?", "", text).strip()
    fragments = _OBJECT.findall(body)
    if not fragments and body and body not in ("[]", "None", "none"):
        result.problems.append(f"no box found in {short(body)!r}")
    for fragment in fragments:
        match = _BBOX.search(fragment)
        if not match:
            result.problems.append(f"no bbox_2d in {short(fragment)!r}")
            continue
        label_match = _LABEL.search(fragment)
        coords = [float(v) for v in match.groups()]
        append_box(result, label_match.group(1).strip() if label_match else "", coords, box_map, fragment)
    return result


def append_box(result: ParseResult, label: str, coords: list[float], box_map: BoxMap, fragment: str) -> None:
    """Add one box given in model coordinates: corners put in order and values clamped, each reported."""
    x1, y1, x2, y2 = coords
    if x1 > x2 or y1 > y2:
        result.problems.append(f"corners swapped in {short(fragment)!r} (fixed)")
        x1, x2, y1, y2 = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
    if max(x1, x2) > box_map.limit_x or max(y1, y2) > box_map.limit_y or min(x1, y1) < 0:
        result.problems.append(
            f"coordinates outside 0..{box_map.limit_x:g} x 0..{box_map.limit_y:g} in "
            f"{short(fragment)!r} (clamped)"
        )
        x1, x2 = (min(max(v, 0.0), box_map.limit_x) for v in (x1, x2))
        y1, y2 = (min(max(v, 0.0), box_map.limit_y) for v in (y1, y2))
    result.boxes.append(ParsedBox(label, box_map.to_pixels((x1, y1, x2, y2))))


def short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class RefBoxTags:
    """Tags of a ``<ref>label</ref><box>[[x1, y1, x2, y2], ...]</box>`` box format."""

    ref_open: str
    ref_close: str
    box_open: str
    box_close: str


INTERNVL_TAGS = RefBoxTags("<ref>", "</ref>", "<box>", "</box>")
DEEPSEEK_TAGS = RefBoxTags("<|ref|>", "<|/ref|>", "<|det|>", "<|/det|>")
_QUAD_ONLY = re.compile(rf"\[\s*({_NUMBER})\s*,\s*({_NUMBER})\s*,\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\]")


def write_ref_boxes(items: Sequence[tuple[str, Sequence[Sequence[int]]]], tags: RefBoxTags) -> str:
    """One ``ref`` + ``box`` pair per phrase, one line each."""
    lines = []
    for label, boxes in items:
        quads = ", ".join("[" + ", ".join(str(int(v)) for v in box) + "]" for box in boxes)
        lines.append(f"{tags.ref_open}{label}{tags.ref_close}{tags.box_open}[{quads}]{tags.box_close}")
    return "\n".join(lines)


def parse_ref_boxes(text: str, box_map: BoxMap, tags: RefBoxTags) -> ParseResult:
    """Boxes from ``ref``/``box`` output: each box takes the label of the nearest ``ref`` before it; a missing
    closing tag loses only that part, reported in ``problems``."""
    result = ParseResult()
    ref = re.compile(re.escape(tags.ref_open) + r"(.*?)" + re.escape(tags.ref_close), re.S)
    box = re.compile(re.escape(tags.box_open) + r"(.*?)(?:" + re.escape(tags.box_close) + r"|$)", re.S)
    refs = [(m.end(), m.group(1).strip()) for m in ref.finditer(text)]
    found = list(box.finditer(text))
    if not found and text.strip():
        result.problems.append(f"no {tags.box_open} found in {short(text)!r}")
    for match in found:
        label = next((name for end, name in reversed(refs) if end <= match.start()), "")
        quads = _QUAD_ONLY.findall(match.group(1))
        if not quads:
            result.problems.append(f"no coordinates in {short(match.group(0))!r}")
        for quad in quads:
            append_box(result, label, [float(v) for v in quad], box_map, match.group(0))
    return result
