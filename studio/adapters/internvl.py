"""InternVL (transformers-native ``-HF`` checkpoints): 448 px tiles of 256 tokens each, a thumbnail when
tiled, ``<img>`` .. ``</img>`` around each image, and boxes written ``<ref>phrase</ref><box>[[x1, y1, x2,
y2]]</box>`` with coordinates 0-1000 relative to the image."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from studio.adapters.base import Adapter, Relative1000Boxes, VisionSettings
from studio.adapters.boxes import ParseResult, append_box, short
from studio.adapters.samples import Sample
from studio.adapters.vision_tokens import tile_count

_NUMBER = r"-?\d+(?:\.\d+)?"
_QUAD = re.compile(rf"\[\s*({_NUMBER})\s*,\s*({_NUMBER})\s*,\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\]")
_REF = re.compile(r"<ref>(.*?)</ref>", re.S)
_BOX = re.compile(r"<box>(.*?)(?:</box>|$)", re.S)


def write_ref_boxes(items: list[tuple[str, list[tuple[int, int, int, int]]]]) -> str:
    """One ``<ref>label</ref><box>[[..], [..]]</box>`` per phrase, one line each."""
    lines = []
    for label, boxes in items:
        quads = ", ".join("[" + ", ".join(str(int(v)) for v in box) + "]" for box in boxes)
        lines.append(f"<ref>{label}</ref><box>[{quads}]</box>")
    return "\n".join(lines)


def parse_ref_boxes(text: str, box_map) -> ParseResult:
    """Boxes from InternVL output: each ``<box>`` takes the label of the nearest ``<ref>`` before it; a
    missing ``</box>`` or ``</ref>`` loses only that part, reported in ``problems``."""
    result = ParseResult()
    refs = [(m.end(), m.group(1).strip()) for m in _REF.finditer(text)]
    boxes = list(_BOX.finditer(text))
    if not boxes and text.strip():
        result.problems.append(f"no <box> found in {short(text)!r}")
    for match in boxes:
        label = next((name for end, name in reversed(refs) if end <= match.start()), "")
        quads = _QUAD.findall(match.group(1))
        if not quads:
            result.problems.append(f"no coordinates in {short(match.group(0))!r}")
        for quad in quads:
            append_box(result, label, [float(v) for v in quad], box_map, match.group(0))
    return result


class InternVLAdapter(Relative1000Boxes, Adapter):
    unquantised_modules = ("vision_tower", "multi_modal_projector", "lm_head")

    def visual_tokens_batch(self, widths, heights, settings: VisionSettings | None = None):
        s = settings or self.settings()
        v = self.entry.vision
        tiles = tile_count(widths, heights, v.tile_size, v.min_tiles, s.max_tiles, v.use_thumbnail)
        return tiles * v.tokens_per_tile

    def image_wrapper_tokens(self) -> int:
        return 2

    def write_boxes(self, phrases, width, height, settings=None) -> str:
        box_map = self.box_map(width, height, settings)
        return write_ref_boxes([(name, [box_map.to_model_int(b) for b in boxes]) for name, boxes in phrases])

    def parse_boxes(
        self, text: str, width: int, height: int, settings: VisionSettings | None = None
    ) -> ParseResult:
        return parse_ref_boxes(text, self.box_map(width, height, settings))

    def load_processor(self, settings: VisionSettings | None = None, folder: str | Path | None = None) -> Any:
        from transformers import AutoProcessor

        processor = AutoProcessor.from_pretrained(self.checkpoint_folder(folder), local_files_only=True)
        processor.image_processor.max_patches = (settings or self.settings()).max_tiles
        return processor

    def _encode(
        self, text: str, sample: Sample, processor: Any, image: Any, settings: VisionSettings | None
    ) -> Any:
        s = settings or self.settings()
        return processor(
            text=[text], images=[self._image(sample, image)], return_tensors="pt", max_patches=s.max_tiles
        )
