"""Qwen-VL families: Qwen3-VL / Qwen3.5 (boxes 0-1000) and Qwen2.5-VL / Cosmos-Reason1 (boxes in absolute
pixels of the resized image). Both write boxes as JSON ``[{"bbox_2d": [x1, y1, x2, y2], "label": ...}]``,
resize images with `smart_resize` to multiples of patch * merge pixels, and wrap image tokens in
``<|vision_start|>`` .. ``<|vision_end|>``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from studio.adapters.base import Adapter, VisionSettings, load_image
from studio.adapters.boxes import BoxMap, ParseResult, parse_qwen_json, write_qwen_json
from studio.adapters.samples import Sample

IGNORE_INDEX = -100


def smart_resize(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """The resized (height, width) of transformers' Qwen2-VL image processor (same arithmetic)."""
    if max(height, width) / min(height, width) > 200:
        raise ValueError(
            f"absolute aspect ratio must be smaller than 200, got {max(height, width) / min(height, width)}"
        )
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


class QwenVLAdapter(Adapter):
    """Shared by the Qwen-VL families; subclasses choose the box coordinates."""

    unquantised_modules = ("visual", "lm_head")

    def resized_size(
        self, width: int, height: int, settings: VisionSettings | None = None
    ) -> tuple[int, int]:
        """(width, height) of the image the model sees."""
        s = settings or self.settings()
        v = self.entry.vision
        h, w = smart_resize(height, width, v.patch_size * v.merge_size, s.min_pixels, s.max_pixels)
        return w, h

    def visual_tokens(self, width: int, height: int, settings: VisionSettings | None = None) -> int:
        w, h = self.resized_size(width, height, settings)
        v = self.entry.vision
        return (w // v.patch_size) * (h // v.patch_size) // (v.merge_size**2)

    def image_wrapper_tokens(self) -> int:
        return 2

    def write_boxes(self, phrases, width, height, settings=None) -> str:
        box_map = self.box_map(width, height, settings)
        return write_qwen_json(
            [(label, box_map.to_model_int(box)) for label, boxes in phrases for box in boxes]
        )

    def parse_boxes(
        self, text: str, width: int, height: int, settings: VisionSettings | None = None
    ) -> ParseResult:
        return parse_qwen_json(text, self.box_map(width, height, settings))

    # --- processor and tensors ----------------------------------------------------------------------------
    def load_processor(self, settings: VisionSettings | None = None, folder: str | Path | None = None) -> Any:
        from transformers import AutoProcessor
        from transformers.image_utils import SizeDict

        path = self.checkpoint_folder(folder)
        processor = AutoProcessor.from_pretrained(path, local_files_only=True)
        s = settings or self.settings()
        processor.image_processor.size = SizeDict(shortest_edge=s.min_pixels, longest_edge=s.max_pixels)
        return processor

    def prompt_inputs(
        self,
        sample: Sample,
        processor: Any,
        image: Any = None,
        settings: VisionSettings | None = None,
        system_prompt: str | None = None,
    ) -> Any:
        text = processor.apply_chat_template(
            self.messages(sample, system_prompt), tokenize=False, add_generation_prompt=True
        )
        return self._encode(text, sample, processor, image, settings)

    def supervised_example(
        self,
        sample: Sample,
        processor: Any,
        image: Any = None,
        settings: VisionSettings | None = None,
        system_prompt: str | None = None,
    ) -> dict[str, Any]:
        """input_ids, attention_mask, labels (-100 except the answer and its ``<|im_end|>``), pixel_values,
        image_grid_thw and mm_token_type_ids (1 on image tokens; transformers 5 needs it for M-RoPE)."""
        text = self.training_text(sample, processor, settings, system_prompt)
        batch = self._encode(text.full, sample, processor, image, settings)
        input_ids = batch["input_ids"][0]
        target_ids = processor.tokenizer(text.target, add_special_tokens=False)["input_ids"]
        n = len(target_ids)
        if input_ids[-n:].tolist() != list(target_ids):
            raise ValueError(
                f"{self.entry.id}: the answer tokenises differently inside the chat; cannot mask"
            )
        end_id = processor.tokenizer.convert_tokens_to_ids("<|im_end|>")
        learned = n - list(reversed(target_ids)).index(end_id)  # the answer up to and including <|im_end|>
        labels = input_ids.clone()
        labels[: len(input_ids) - n] = IGNORE_INDEX
        labels[len(input_ids) - n + learned :] = IGNORE_INDEX
        return {
            "input_ids": input_ids,
            "attention_mask": batch["attention_mask"][0],
            "labels": labels,
            "pixel_values": batch["pixel_values"],
            "image_grid_thw": batch["image_grid_thw"],
            "mm_token_type_ids": batch["mm_token_type_ids"][0],
        }

    def _encode(
        self, text: str, sample: Sample, processor: Any, image: Any, settings: VisionSettings | None
    ) -> Any:
        s = settings or self.settings()
        picture = image if image is not None else load_image(sample.image_path)
        if picture.size != (sample.width, sample.height):
            raise ValueError(
                f"{sample.image_path}: the image is {picture.size[0]}x{picture.size[1]} but the "
                f"project records {sample.width}x{sample.height}; re-import it"
            )
        return processor(
            text=[text],
            images=[picture],
            return_tensors="pt",
            return_mm_token_type_ids=True,
            size={"shortest_edge": s.min_pixels, "longest_edge": s.max_pixels},
        )


class Qwen3VLAdapter(QwenVLAdapter):
    """Qwen3-VL and Qwen3.5 (and the tiny model): boxes relative to the image, 0-1000."""

    def box_map(self, width: int, height: int, settings: VisionSettings | None = None) -> BoxMap:
        return BoxMap(1000 / width, 1000 / height, 1000, 1000)


class Qwen25VLAdapter(QwenVLAdapter):
    """Qwen2.5-VL and Cosmos-Reason1: boxes in absolute pixels of the resized image the model sees."""

    def box_map(self, width: int, height: int, settings: VisionSettings | None = None) -> BoxMap:
        rw, rh = self.resized_size(width, height, settings)
        return BoxMap(rw / width, rh / height, rw, rh)
