"""InternVL (transformers-native ``-HF`` checkpoints): 448 px tiles of 256 tokens each, a thumbnail when
tiled, ``<img>`` .. ``</img>`` around each image, and boxes written ``<ref>phrase</ref><box>[[x1, y1, x2,
y2]]</box>`` with coordinates 0-1000 relative to the image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.adapters import trust
from studio.adapters.base import Adapter, RefBoxText, RelativeBoxes, TiledVision, VisionSettings
from studio.adapters.boxes import INTERNVL_TAGS
from studio.adapters.samples import Sample
from studio.mlstack import import_ml_stack


class InternVLAdapter(TiledVision, RelativeBoxes, RefBoxText, Adapter):
    box_tags = INTERNVL_TAGS
    unquantised_modules = ("vision_tower", "multi_modal_projector", "lm_head")

    def image_wrapper_tokens(self) -> int:
        return 2

    def load_processor(self, settings: VisionSettings | None = None, folder: str | Path | None = None) -> Any:
        import_ml_stack()
        from transformers import AutoProcessor

        processor = trust.from_pretrained(AutoProcessor, self.entry, self.checkpoint_folder(folder))
        processor.image_processor.max_patches = (settings or self.settings()).max_tiles
        return processor

    def _encode(
        self, text: str, sample: Sample, processor: Any, image: Any, settings: VisionSettings | None
    ) -> Any:
        s = settings or self.settings()
        return processor(
            text=[text], images=[self._image(sample, image)], return_tensors="pt", max_patches=s.max_tiles
        )
