"""NVIDIA NVILA-Lite: full fine-tuning only (LoRA is refused with the catalog's reason) and its own remote
code, loaded only with the user's consent for this model and revision (`studio.adapters.trust`). There is no
transformers-native processor to check token counts against, so `visual_tokens` is a documented estimate:
dynamic 448 px tiles (up to ``max_tiles`` plus a thumbnail, chosen like InternVL's) of 121 tokens each (32 x 32
SigLIP patches merged 3 x 3, rounded up)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.adapters import trust
from studio.adapters.base import Adapter, RelativeBoxes, TiledVision, VisionSettings
from studio.adapters.qwen import QwenJsonBoxes
from studio.adapters.samples import Sample
from studio.mlstack import import_ml_stack


class NvilaAdapter(TiledVision, RelativeBoxes, QwenJsonBoxes, Adapter):
    exact_visual_tokens = False
    unquantised_modules = ("vision_tower", "mm_projector", "lm_head")

    def load_processor(self, settings: VisionSettings | None = None, folder: str | Path | None = None) -> Any:
        import_ml_stack()
        from transformers import AutoProcessor

        return trust.from_pretrained(AutoProcessor, self.entry, self.checkpoint_folder(folder))

    def _encode(
        self, text: str, sample: Sample, processor: Any, image: Any, settings: VisionSettings | None
    ) -> Any:
        return processor(text=[text], images=[self._image(sample, image)], return_tensors="pt")
