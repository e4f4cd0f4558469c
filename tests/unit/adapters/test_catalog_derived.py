"""Catalog numbers derived from the real transformers classes, built empty on the meta device from the entry's own
sizes: a guessed or copied figure fails here."""

from __future__ import annotations

import pytest

from studio.adapters import get_adapter
from studio.adapters.catalog import load_catalog
from studio.adapters.memory import estimate_memory

VISION_INTERMEDIATE = {1152: 4304, 1024: 4096}  # the published vision configs' MLP width for each tower width
ATTENTION_HEADS = {"qwen3-vl-30b-a3b": 32, "qwen3-vl-235b-a22b": 64}  # published text configs
QWEN_VISION = sorted(e.id for e in load_catalog().values() if e.id.startswith(("qwen3-vl", "qwen3.5")))


def build(entry, text_heads: int | None = None):
    import torch
    import transformers

    cls = getattr(transformers, entry.transformers_class)
    config, m = cls.config_class(), entry.memory
    vision = config.vision_config
    vision.depth, vision.hidden_size, vision.out_hidden_size = m.vision_layers, m.vision_hidden_size, m.hidden_size
    vision.intermediate_size = VISION_INTERMEDIATE[m.vision_hidden_size]
    if text_heads:
        text = config.text_config
        text.hidden_size, text.num_hidden_layers, text.vocab_size = m.hidden_size, m.num_layers, m.vocab_size
        text.num_experts, text.moe_intermediate_size = m.experts, m.intermediate_size
        text.num_attention_heads = text_heads
        text.num_key_value_heads, text.head_dim = m.num_kv_heads, m.head_dim
        text.tie_word_embeddings = config.tie_word_embeddings = m.tied_embeddings
    with torch.device("meta"):
        return cls._from_config(config)


@pytest.mark.parametrize("model_id", QWEN_VISION)
def test_vision_tower_sizes_are_the_real_classes(model_id):
    """Qwen3.5's tower has no deepstack mergers: its 9B and 27B once carried Qwen3-VL-8B's 0.58 B."""
    entry = load_catalog()[model_id]
    model = build(entry)
    assert entry.memory.params_vision == sum(p.numel() for p in model.model.visual.parameters())


@pytest.mark.parametrize("model_id", sorted(ATTENTION_HEADS))
def test_moe_experts_are_counted_as_bitsandbytes_leaves_them(model_id):
    """The experts are fused 3-D parameters, not nn.Linear: QLoRA keeps them in bf16, and the estimate says so."""
    import torch

    entry = load_catalog()[model_id]
    model = build(entry, ATTENTION_HEADS[model_id])
    fused = sum(p.numel() for n, p in model.named_parameters() if "language_model" in n and p.dim() == 3)
    assert entry.memory.fused_expert_params == fused
    total = sum(p.numel() for p in model.parameters())
    assert entry.memory.params_total == pytest.approx(total, rel=0.01)
    linear = sum(mod.weight.numel() for n, mod in model.named_modules()
                 if isinstance(mod, torch.nn.Linear) and "language_model" in n)
    estimate = estimate_memory(entry, "qlora4", batch=1, seq_len=1024, visual_tokens=256, grad_checkpointing=True)
    half = total - linear  # everything but the language model's linear layers stays in half precision
    assert estimate.parts["weights"] == pytest.approx(half * 2 + linear * 4.13 / 8, rel=0.02)
    assert get_adapter(model_id).entry.notes.count("bitsandbytes") == 1
