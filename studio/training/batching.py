"""Batches of supervised examples: padding, the packed image tensors, and M-RoPE positions computed on the CPU
side (in data-loader workers) so that the training step never loops over samples on the device."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

IGNORE_INDEX = -100
_PADDED = {"input_ids": None, "attention_mask": 0, "labels": IGNORE_INDEX, "mm_token_type_ids": 0}


class RopeIndex:
    """Qwen3-VL's ``get_rope_index`` run on CPU tensors without the model (it only needs the config).

    Picklable, so data-loader workers can compute the 3-D position ids of each batch."""

    def __init__(self, model_class: type, config: Any) -> None:
        self.model_class = model_class
        self.config = config

    def get_vision_position_ids(self, *args: Any, **kwargs: Any) -> Any:
        return self.model_class.get_vision_position_ids(self, *args, **kwargs)

    def __call__(self, batch: dict[str, Any]) -> Any:
        positions, _deltas = self.model_class.get_rope_index(
            self,
            batch["input_ids"],
            mm_token_type_ids=batch["mm_token_type_ids"],
            image_grid_thw=batch["image_grid_thw"],
            attention_mask=batch["attention_mask"],
        )
        return positions


def rope_index_for(model: Any) -> RopeIndex | None:
    """A `RopeIndex` for Qwen3-VL-class models (also under peft wrappers); None for other families."""
    inner = model
    for _ in range(4):  # PeftModel -> LoraModel -> ForConditionalGeneration -> Model
        if type(inner).__name__ == "Qwen3VLModel":
            return RopeIndex(type(inner), inner.config)
        inner = getattr(inner, "model", None) or getattr(inner, "base_model", None)
        if inner is None:
            return None
    return None


def collate(
    examples: Sequence[dict[str, Any]],
    pad_id: int,
    *,
    padding_side: str = "right",
    positions: Callable[[dict[str, Any]], Any] | None = None,
) -> dict[str, Any]:
    """Pad the token sequences of `supervised_example`/`prompt_inputs` outputs (1-D each) into one batch,
    concatenate ``pixel_values`` and ``image_grid_thw``, and add ``position_ids`` when ``positions`` is given."""
    import torch

    if padding_side not in ("left", "right"):
        raise ValueError(f"padding_side must be left or right, not {padding_side!r}")
    length = max(len(e["input_ids"]) for e in examples)
    batch: dict[str, Any] = {}
    for key, fill in _PADDED.items():
        if key not in examples[0]:
            continue
        value = pad_id if fill is None else fill
        rows = []
        for example in examples:
            row = example[key]
            pad = row.new_full((length - len(row),), value)
            rows.append(torch.cat([row, pad]) if padding_side == "right" else torch.cat([pad, row]))
        batch[key] = torch.stack(rows)
    if "pixel_values" in examples[0]:  # absent when the vision outputs come from a cache
        batch["pixel_values"] = torch.cat([e["pixel_values"] for e in examples])
    batch["image_grid_thw"] = torch.cat([e["image_grid_thw"] for e in examples])
    if positions is not None:
        batch["position_ids"] = positions(batch)
    return batch


def to_device(batch: dict[str, Any], device: Any) -> dict[str, Any]:
    """The batch with every tensor on ``device`` (non-blocking from pinned memory)."""
    return {k: v.to(device, non_blocking=True) if hasattr(v, "to") else v for k, v in batch.items()}
