"""Cached vision outputs and CPU-computed M-RoPE positions give exactly the loss of the plain forward pass."""

from __future__ import annotations

import pytest
import torch

from studio.adapters import get_adapter
from studio.training.batching import collate, rope_index_for
from studio.training.scenes import scene_samples
from studio.training.vision_cache import VisionCache, accepts_encoder_outputs


def test_cached_forward_equals_the_plain_one():
    torch.set_num_threads(1)
    adapter = get_adapter("tiny")
    processor = adapter.load_processor()
    model = adapter.load_model().eval()
    items = [item for index in (1, 2, 3) for item in scene_samples(11, index, vqa_per_scene=1)][:8]
    examples = [adapter.supervised_example(s, processor, image=image) for s, image in items]
    pad = processor.tokenizer.pad_token_id
    plain = collate(examples, pad)
    positioned = collate(examples, pad, positions=rope_index_for(model))
    assert accepts_encoder_outputs(model)
    cache = VisionCache(model)
    keys = list(range(len(examples)))
    cache.add(keys, plain["pixel_values"], plain["image_grid_thw"])
    cached = {k: v for k, v in positioned.items() if k != "pixel_values"}
    cached["mm_encoder_outputs"] = cache.encoder_outputs(keys)
    with torch.no_grad():
        losses = [model(**batch).loss.item() for batch in (plain, positioned, cached)]
    assert losses[1] == pytest.approx(losses[0], rel=1e-6) and losses[2] == pytest.approx(losses[0], rel=1e-6)


def test_the_answer_only_loss_equals_the_full_one():
    from studio.training.loss import answer_loss, keeps_logits

    adapter = get_adapter("tiny")
    processor = adapter.load_processor()
    model = adapter.load_model().eval()
    items = [item for index in (4, 5) for item in scene_samples(12, index, vqa_per_scene=1)]
    batch = collate([adapter.supervised_example(s, processor, image=image) for s, image in items],
                    processor.tokenizer.pad_token_id)
    assert keeps_logits(model)
    with torch.no_grad():
        assert answer_loss(model, batch).item() == pytest.approx(model(**batch).loss.item(), rel=1e-5)
