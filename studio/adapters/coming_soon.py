"""Families listed as "coming soon" (LLaVA-NeXT, DeepSeek-OCR 2): their visual tokens and box text already work,
so the budget and the catalog can show them; training them is not offered yet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from studio.adapters.base import Adapter, RefBoxText, RelativeBoxes, VisionSettings
from studio.adapters.boxes import DEEPSEEK_TAGS
from studio.adapters.qwen import QwenJsonBoxes
from studio.adapters.vision_tokens import anyres_tokens, tile_grid


class ComingSoonAdapter(Adapter):
    """Loading and training refuse with the catalog's status until the family is supported."""

    def _refuse(self) -> None:
        raise ValueError(f"{self.entry.name} is coming soon: VLM Studio cannot train or run it yet")

    def load_processor(self, settings: VisionSettings | None = None, folder: str | Path | None = None) -> Any:
        self._refuse()

    def load_model(self, folder: str | Path | None = None, **kwargs: Any) -> Any:
        self._refuse()


class LlavaNextAdapter(RelativeBoxes, QwenJsonBoxes, ComingSoonAdapter):
    """LLaVA-NeXT: "anyres" canvases of 336 px tiles; no native box format (taught Qwen JSON, 0-1000). The Mistral
    chat template ends an answer with the tokenizer's end of sequence."""

    end_token = "</s>"

    def visual_tokens_batch(self, widths, heights, settings: VisionSettings | None = None):
        v = self.entry.vision
        return anyres_tokens(widths, heights, v.tile_size, v.patch_size, v.grid_pinpoints, v.base_tokens)


class DeepseekOcr2Adapter(RelativeBoxes, RefBoxText, ComingSoonAdapter):
    """DeepSeek-OCR 2: a global view plus 768 px local tiles for large images; boxes 0-999 in ref/det tags. Its
    DeepSeek-V2 tokenizer ends an answer with its end of sentence token."""

    end_token = "<｜end▁of▁sentence｜>"
    box_scale = 999
    box_tags = DEEPSEEK_TAGS

    def visual_tokens_batch(self, widths, heights, settings: VisionSettings | None = None):
        s = settings or self.settings()
        v = self.entry.vision
        cols, rows = tile_grid(widths, heights, v.tile_size, v.min_tiles, s.max_tiles)
        large = np.maximum(np.asarray(widths), np.asarray(heights)) > v.tile_size
        return v.base_tokens + v.tokens_per_tile * np.where(large, cols * rows, 0)
