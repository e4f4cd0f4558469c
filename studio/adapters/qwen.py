"""Qwen-VL families: Qwen3-VL / Qwen3.5 (boxes 0-1000) and Qwen2.5-VL / Cosmos-Reason1 (boxes in absolute
pixels of the resized image). Both write boxes as JSON ``[{"bbox_2d": [x1, y1, x2, y2], "label": ...}]``,
resize images with ``smart_resize`` to multiples of patch * merge pixels, and wrap image tokens in
``<|vision_start|>`` .. ``<|vision_end|>``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage

from studio.adapters import trust
from studio.adapters.base import Adapter, RelativeBoxes, VisionSettings
from studio.adapters.boxes import BoxMap, ParseResult, parse_qwen_json, write_qwen_json
from studio.adapters.samples import Sample
from studio.adapters.vision_tokens import qwen_resized, qwen_tokens
from studio.mlstack import import_ml_stack


class QwenJsonBoxes:
    """Boxes written and read as Qwen JSON (``bbox_2d``) in the coordinates of ``self.box_map``."""

    box_template = '[{"bbox_2d": [x1, y1, x2, y2], "label": …}]'

    def write_boxes(self, phrases, width, height, settings=None) -> str:
        box_map = self.box_map(width, height, settings)
        return write_qwen_json(
            [(label, box_map.to_model_int(box)) for label, boxes in phrases for box in boxes]
        )

    def parse_boxes(
        self, text: str, width: int, height: int, settings: VisionSettings | None = None
    ) -> ParseResult:
        return parse_qwen_json(text, self.box_map(width, height, settings))


class QwenVLAdapter(QwenJsonBoxes, Adapter):
    """Shared by the Qwen-VL families; subclasses choose the box coordinates."""

    unquantised_modules = ("visual", "lm_head")

    def resized_size(
        self, width: int, height: int, settings: VisionSettings | None = None
    ) -> tuple[int, int]:
        """(width, height) of the image the model sees."""
        s = settings or self.settings()
        v = self.entry.vision
        if v.square:
            width = height = math.isqrt(s.max_pixels)
        w, h = qwen_resized([width], [height], v.patch_size * v.merge_size, s.min_pixels, s.max_pixels)
        return int(w[0]), int(h[0])

    def visual_tokens_batch(self, widths, heights, settings: VisionSettings | None = None):
        s = settings or self.settings()
        v = self.entry.vision
        if v.square:
            widths = heights = np.full(len(widths), math.isqrt(s.max_pixels))
        return qwen_tokens(widths, heights, v.patch_size, v.merge_size, s.min_pixels, s.max_pixels)

    def image_wrapper_tokens(self) -> int:
        return 2

    # --- processor and tensors ----------------------------------------------------------------------------
    def load_processor(self, settings: VisionSettings | None = None, folder: str | Path | None = None) -> Any:
        import_ml_stack()
        from transformers import AutoProcessor
        from transformers.image_utils import SizeDict

        path = self.checkpoint_folder(folder)
        processor = trust.from_pretrained(AutoProcessor, self.entry, path)
        s = settings or self.settings()
        processor.image_processor.size = SizeDict(shortest_edge=s.min_pixels, longest_edge=s.max_pixels)
        return processor

    def _encode(
        self, text: str, sample: Sample, processor: Any, image: Any, settings: VisionSettings | None
    ) -> Any:
        """input_ids, attention_mask, pixel_values, image_grid_thw and mm_token_type_ids (1 on image tokens;
        transformers 5 needs it for M-RoPE)."""
        s = settings or self.settings()
        picture = self._image(sample, image)
        if self.entry.vision.square:  # relative box coordinates do not change
            picture = picture.resize(self.resized_size(*picture.size, s), PILImage.Resampling.BICUBIC)
        return processor(
            text=[text],
            images=[picture],
            return_tensors="pt",
            return_mm_token_type_ids=True,
            size={"shortest_edge": s.min_pixels, "longest_edge": s.max_pixels},
        )


class Qwen3VLAdapter(RelativeBoxes, QwenVLAdapter):
    """Qwen3-VL and Qwen3.5 (and the tiny model): boxes relative to the image, 0-1000."""


class Qwen25VLAdapter(QwenVLAdapter):
    """Qwen2.5-VL and Cosmos-Reason1: boxes in absolute pixels of the resized image the model sees."""

    def box_map(self, width: int, height: int, settings: VisionSettings | None = None) -> BoxMap:
        rw, rh = self.resized_size(width, height, settings)
        return BoxMap(rw / width, rh / height, rw, rh)
