"""Frozen vision outputs computed once per image and reused every epoch.

When the vision tower and projector do not train and augmentation is off, an image's visual embeddings never
change. `VisionCache` keeps them (and Qwen3-VL's deepstack features) per image and hands the model
``mm_encoder_outputs`` instead of ``pixel_values``, so a training step runs only the language model."""

from __future__ import annotations

import inspect
from collections.abc import Hashable, Sequence
from typing import Any

from studio.adapters.memory import VISION_CACHE_BUDGET


def accepts_encoder_outputs(model: Any) -> bool:
    """Whether the model's forward takes precomputed ``mm_encoder_outputs`` (transformers 5 VLMs do)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "mm_encoder_outputs" in inspect.signature(base.forward).parameters


class VisionCache:
    def __init__(self, model: Any) -> None:
        self._base = model.get_base_model() if hasattr(model, "get_base_model") else model
        self._bytes = 0
        self._pooled: dict[Hashable, Any] = {}
        self._deepstack: dict[Hashable, list[Any]] = {}
        self._output_type: type | None = None

    def __contains__(self, key: Hashable) -> bool:
        return key in self._pooled

    def __len__(self) -> int:
        return len(self._pooled)

    def add(self, keys: Sequence[Hashable], pixel_values: Any, image_grid_thw: Any) -> None:
        """Run the vision tower once on the images of ``keys`` (one ``image_grid_thw`` row each)."""
        import torch

        device = next(self._base.parameters()).device
        with torch.no_grad():
            out = self._base.get_image_features(pixel_values.to(device), image_grid_thw.to(device), return_dict=True)
        self._output_type = type(out)
        deepstack = getattr(out, "deepstack_features", None) or []
        for n, key in enumerate(keys):
            parts = [out.pooler_output[n].detach(), *(layer[n].detach() for layer in deepstack)]
            size = sum(p.numel() * p.element_size() for p in parts)
            if self._bytes + size > VISION_CACHE_BUDGET:
                parts = [p.to("cpu") for p in parts]
            else:
                self._bytes += size
            self._pooled[key] = parts[0]
            self._deepstack[key] = parts[1:]

    def encoder_outputs(self, keys: Sequence[Hashable]) -> dict[str, Any]:
        """``mm_encoder_outputs`` for a batch whose images are ``keys``, in order."""
        import torch

        device = next(self._base.parameters()).device
        pooled = (torch.cat([self._pooled[k].to(device, non_blocking=True) for k in keys]),)
        fields: dict[str, Any] = {"pooler_output": pooled}
        layers = len(self._deepstack[keys[0]])
        if layers:
            fields["deepstack_features"] = [
                (torch.cat([self._deepstack[k][layer].to(device, non_blocking=True) for k in keys]),)
                for layer in range(layers)
            ]
        return {"image": self._output_type(**fields)}
