"""Model adapters: the one place that knows each model family (loading, prompts, boxes, tokens, LoRA targets).

`get_adapter(model_id)` returns the adapter for a catalog entry (models/*.toml).
"""

from __future__ import annotations

from studio.adapters.base import Adapter, TrainingText, VisionSettings, load_image
from studio.adapters.catalog import CatalogEntry, CatalogError, get_entry, load_catalog
from studio.adapters.samples import GroundedPhrase, Sample, TaskMix, samples_from_annotation

__all__ = [
    "Adapter",
    "CatalogEntry",
    "CatalogError",
    "GroundedPhrase",
    "Sample",
    "TaskMix",
    "TrainingText",
    "VisionSettings",
    "adapter_for",
    "get_adapter",
    "get_entry",
    "load_catalog",
    "load_image",
    "samples_from_annotation",
]


def adapter_for(entry: CatalogEntry) -> Adapter:
    """The adapter class for ``entry``'s family (or its own ``adapter`` key)."""
    from studio.adapters.coming_soon import DeepseekOcr2Adapter, LlavaNextAdapter
    from studio.adapters.internvl import InternVLAdapter
    from studio.adapters.nvila import NvilaAdapter
    from studio.adapters.qwen import Qwen3VLAdapter, Qwen25VLAdapter
    from studio.adapters.tiny import TinyAdapter

    classes: dict[str, type[Adapter]] = {
        "tiny": TinyAdapter,
        "qwen3_vl": Qwen3VLAdapter,
        "qwen2_5_vl": Qwen25VLAdapter,
        "internvl": InternVLAdapter,
        "nvila": NvilaAdapter,
        "llava_next": LlavaNextAdapter,
        "deepseek_ocr2": DeepseekOcr2Adapter,
    }
    key = entry.adapter or entry.family
    if key not in classes:
        raise ValueError(f"{entry.path}: no adapter for {key!r} yet ({entry.name} is {entry.status})")
    return classes[key](entry)


def get_adapter(model_id: str) -> Adapter:
    """The adapter of the catalog entry ``model_id`` ("tiny", "qwen3-vl-8b", ...)."""
    return adapter_for(get_entry(model_id))
