"""Reusing an image's encoding across prompts: the key/value cache of the prompt prefix that ends with the image
(system prompt and image come first in the chat), computed once with the vision tower and reused while only the
question after it changes.

Works for models whose forward accepts precomputed ``mm_encoder_outputs`` and keeps M-RoPE offsets in
``model.rope_deltas`` (the Qwen-VL families in transformers 5); for any other model `supports` is False and the
predictor simply runs the whole prompt."""

from __future__ import annotations

import copy
import hashlib
import inspect
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_ENTRIES = 4


def core_model(model: Any) -> Any:
    """The transformers model under a peft wrapper."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def supports(model: Any) -> bool:
    core = core_model(model)
    inner = getattr(core, "model", None)
    return (
        "mm_encoder_outputs" in inspect.signature(core.forward).parameters
        and hasattr(inner, "rope_deltas")
        and hasattr(inner, "get_image_features")
    )


def image_key(image: Any, path: str | Path | None = None) -> str:
    """A key for an image: its file (path, size, modification time) or a hash of its pixels."""
    if path is not None:
        stat = Path(path).stat()
        return f"file:{Path(path).resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    digest = hashlib.blake2b(image.tobytes(), digest_size=16)
    digest.update(f"{image.size}{image.mode}".encode())
    return f"pixels:{digest.hexdigest()}"


def prefix_length(mm_token_type_ids: Any) -> int:
    """Tokens up to and including the last image token (0 when there is no image)."""
    flags = mm_token_type_ids[0].nonzero()
    return int(flags[-1]) + 1 if len(flags) else 0


@dataclass
class _Entry:
    prefix_ids: Any  # (1, L) token ids
    cache: Any  # the model's KV cache after the prefix
    rope_deltas: Any


class PrefixCache:
    """KV caches of image prefixes, the most recent ``MAX_ENTRIES`` images."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def prepare(self, model: Any, key: str, inputs: Any) -> tuple[dict[str, Any], bool]:
        """Generation kwargs for ``inputs`` that start from the cached prefix (computing and storing it when
        missing), and whether it was already cached. The returned cache is a copy: generation may extend it."""
        import torch

        length = prefix_length(inputs["mm_token_type_ids"])
        prefix_ids = inputs["input_ids"][:, :length]
        entry = self._entries.get(key)
        hit = entry is not None and torch.equal(entry.prefix_ids, prefix_ids)
        core = core_model(model)
        if not hit:
            entry = self._encode(model, core, inputs, length)
            self._entries[key] = entry
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
        self._entries.move_to_end(key)
        core.model.rope_deltas = entry.rope_deltas
        kwargs = {k: v for k, v in inputs.items() if k != "pixel_values"}
        kwargs["cache"] = copy.deepcopy(entry.cache)
        return kwargs, hit

    @staticmethod
    def _encode(model: Any, core: Any, inputs: Any, length: int) -> _Entry:
        import torch
        from transformers import DynamicCache

        with torch.inference_mode():
            features = core.model.get_image_features(inputs["pixel_values"], inputs["image_grid_thw"],
                                                     return_dict=True)
            cache = DynamicCache(config=core.config)
            model(
                input_ids=inputs["input_ids"][:, :length],
                attention_mask=inputs["attention_mask"][:, :length],
                mm_token_type_ids=inputs["mm_token_type_ids"][:, :length],
                image_grid_thw=inputs["image_grid_thw"],
                mm_encoder_outputs={"image": features},
                cache=cache,
                use_cache=True,
                logits_to_keep=1,
            )
        return _Entry(inputs["input_ids"][:, :length].clone(), cache, core.model.rope_deltas.clone())
