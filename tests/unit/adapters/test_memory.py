"""The memory estimate: its documented components and how it moves with the settings."""

from __future__ import annotations

import pytest

from studio.adapters import get_entry
from studio.adapters.memory import GIB, VISION_CACHE_BUDGET, estimate_memory, lora_params

SETTINGS = {"batch": 1, "seq_len": 2048, "visual_tokens": 1024, "grad_checkpointing": True}


def test_components_follow_the_documented_formula():
    entry = get_entry("qwen3-vl-8b")
    m = entry.memory
    embedding = 151936 * 4096  # untied: lm_head as large again
    full = estimate_memory(entry, "full", **SETTINGS)
    trained = m.params_total - m.params_vision
    assert full.trainable_params == pytest.approx(trained)
    assert full.parts["weights"] == pytest.approx(4 * m.params_total + 2 * trained)
    assert full.parts["trainable_state"] == pytest.approx(12 * trained)
    assert full.parts["logits"] == pytest.approx(257 * 151936 * 8)  # 256 answer tokens when they are not known
    assert estimate_memory(entry, "full", **SETTINGS, answer_tokens=31).parts["logits"] == pytest.approx(
        32 * 151936 * 8)
    qlora4 = estimate_memory(entry, "qlora4", **SETTINGS)
    language = m.params_total - m.params_vision - 2 * embedding
    assert qlora4.parts["weights"] == pytest.approx(language * 4.13 / 8 + 2 * (m.params_vision + 2 * embedding))
    lora = estimate_memory(entry, "lora", **SETTINGS)
    assert lora.trainable_params == lora_params(entry, 16)
    # rank 16 on 36 layers of q, k, v, o, gate, up, down: about 43.6 M parameters
    per_layer = (4096 * 2) * 2 + (4096 + 1024) * 2 + (4096 + 12288) * 3
    assert lora.trainable_params == pytest.approx(16 * 36 * per_layer)
    assert lora.total == pytest.approx(sum(lora.parts.values()) * 1.1 + 0.5 * GIB)


def test_cached_vision_outputs_count_up_to_their_budget():
    entry = get_entry("qwen3-vl-8b")
    none = estimate_memory(entry, "lora", **SETTINGS)
    few = estimate_memory(entry, "lora", **SETTINGS, cached_images=10)
    many = estimate_memory(entry, "lora", **SETTINGS, cached_images=100_000)
    assert none.parts["vision_cache"] == 0
    assert few.parts["vision_cache"] == pytest.approx(10 * 1024 * 4096 * 2 * 4)  # tokens x hidden x bf16 x deepstack
    assert many.parts["vision_cache"] == VISION_CACHE_BUDGET and many.total > few.total > none.total


def test_ordering_and_settings():
    entry = get_entry("qwen2.5-vl-7b")
    totals = {m: estimate_memory(entry, m, **SETTINGS).total for m in ("qlora4", "qlora8", "lora", "full")}
    assert totals["qlora4"] < totals["qlora8"] < totals["lora"] < totals["full"]
    assert 8 * GIB < totals["qlora4"] < 16 * GIB and 16 * GIB < totals["lora"] < 32 * GIB
    base = estimate_memory(entry, "lora", **SETTINGS).total
    assert estimate_memory(entry, "lora", **{**SETTINGS, "grad_checkpointing": False}).total > base
    assert estimate_memory(entry, "lora", **{**SETTINGS, "batch": 4}).total > base
    assert estimate_memory(entry, "lora", **SETTINGS, train_vision=True).total > base


def test_lora_refused_for_nvila_and_unknown_methods():
    with pytest.raises(ValueError, match="LoRA is not supported"):
        estimate_memory(get_entry("nvila-lite-2b"), "lora", **SETTINGS)
    assert estimate_memory(get_entry("nvila-lite-2b"), "full", **SETTINGS).total > 0
    with pytest.raises(ValueError, match="unknown training method"):
        estimate_memory(get_entry("tiny"), "dpo", **SETTINGS)


def test_max_visual_tokens_is_the_largest_image_cost():
    from studio.adapters import get_adapter
    from studio.adapters.memory import max_visual_tokens

    for model_id, probe in [("qwen3-vl-8b", (4096, 4096)), ("internvl3.5-8b", (1344, 1792)),
                            ("llava-next-mistral-7b", (672, 672)), ("deepseek-ocr-2", (2304, 1536))]:
        entry = get_entry(model_id)
        assert get_adapter(model_id).visual_tokens(*probe) == max_visual_tokens(entry), model_id
    assert max_visual_tokens(get_entry("qwen3-vl-8b"), max_pixels=1024 * 1024) == 1024
