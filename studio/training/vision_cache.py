"""Frozen vision outputs computed once per image and reused every epoch.

When the vision tower and projector do not train and augmentation is off, an image's visual embeddings never
change. `VisionCache` keeps them (and Qwen3-VL's deepstack features) per image and hands the model
``mm_encoder_outputs`` instead of ``pixel_values``, so a training step runs only the language model."""

from __future__ import annotations

import inspect
import sys
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
            self._put(key, [out.pooler_output[n].detach(), *(layer[n].detach() for layer in deepstack)])

    def _put(self, key: Hashable, parts: list[Any]) -> None:
        """Keep one image's outputs on the model's device while the budget allows, in CPU memory after."""
        size = sum(p.numel() * p.element_size() for p in parts)
        if self._bytes + size > VISION_CACHE_BUDGET:
            parts = [p.to("cpu") for p in parts]
        else:
            device = next(self._base.parameters()).device
            parts = [p.to(device) for p in parts]
            self._bytes += size
        self._pooled[key] = parts[0]
        self._deepstack[key] = parts[1:]

    @property
    def output_type(self) -> str:
        """The name of the model's vision output class (in the model's module), for `restore`."""
        return self._output_type.__name__ if self._output_type is not None else ""

    def entries(self, keys: Sequence[Hashable]) -> dict[Hashable, list[Any]]:
        """The cached outputs of ``keys``: pooled output first, then the deepstack layers."""
        return {key: [self._pooled[key], *self._deepstack[key]] for key in keys}

    def restore(self, entries: dict[Hashable, list[Any]], output_type: str) -> None:
        """Take back outputs from `entries` without running the vision tower; ``output_type`` names a class of
        the model's own module or of transformers' model outputs (`output_type`), so nothing else is imported.
        Raises `ValueError` when neither has it."""
        from transformers import modeling_outputs
        from transformers.utils import ModelOutput

        found = getattr(sys.modules[type(self._base).__module__], output_type, None) or getattr(
            modeling_outputs, output_type, None)
        if not (isinstance(found, type) and issubclass(found, ModelOutput)):
            raise ValueError(f"{type(self._base).__name__} has no vision output class {output_type!r}")
        self._output_type = found
        for key, parts in entries.items():
            self._put(key, parts)

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
