"""The Predictor on the other families' tiny random checkpoints (Qwen2.5-VL with the image-prefix reuse,
InternVL without it): answers, boxes and batches equal to one at a time."""

from __future__ import annotations

import dataclasses

import pytest

from studio.adapters import get_adapter, get_entry, load_image
from studio.adapters.internvl import InternVLAdapter
from studio.inference.generation import GenerationSettings
from studio.inference.loading import Loaded
from studio.inference.predictor import Predictor
from tests.unit.adapters.test_other_families import internvl_folder, qwen25_folder, sample  # noqa: F401

TOKENS = GenerationSettings(max_new_tokens=6)


def check(predictor: Predictor, sample) -> None:  # noqa: F811
    image = load_image(sample.image_path)
    first = predictor(image, sample.prompt, generation=TOKENS)
    second = predictor(image, "Find the red circle.", generation=TOKENS)
    assert first.new_tokens == second.new_tokens == 6
    batch = predictor.generate_batch([sample, sample], [image, image], max_new_tokens=6)
    assert batch[0].text == batch[1].text == predictor.generate_batch([sample], [image], max_new_tokens=6)[0].text
    assert batch[0].text == first.text.strip()
    if predictor.cache is not None:
        assert second.image_cached
        predictor.cache = None
        assert predictor(image, "Find the red circle.", generation=TOKENS).text == second.text


def test_qwen25_predictor_reuses_the_image(qwen25_folder, sample):  # noqa: F811
    adapter = get_adapter("qwen2.5-vl-7b")
    meta = {"model_id": "qwen2.5-vl-7b", "vision": {"max_pixels": 200 * 200, "min_pixels": 56 * 56}}
    settings = Loaded(None, None, adapter, meta).settings
    loaded = Loaded(adapter.load_model(qwen25_folder).eval(), adapter.load_processor(settings, folder=qwen25_folder),
                    adapter, meta)
    predictor = Predictor(loaded)
    assert predictor.cache is not None
    check(predictor, sample)


def test_internvl_predictor_without_prefix_reuse(internvl_folder, sample):  # noqa: F811
    entry = get_entry("internvl3.5-8b")
    small = dataclasses.replace(entry, vision=dataclasses.replace(entry.vision, tile_size=56, tokens_per_tile=4,
                                                                  max_tiles=4))
    adapter = InternVLAdapter(small)
    loaded = Loaded(adapter.load_model(internvl_folder).eval(), adapter.load_processor(folder=internvl_folder),
                    adapter, {"model_id": entry.id})
    predictor = Predictor(loaded)
    assert predictor.cache is None
    check(predictor, sample)
    parsed = adapter.parse_boxes("<ref>red circle</ref><box>[[133, 150, 333, 450]]</box>", 300, 200)
    assert parsed.boxes[0].box == pytest.approx((39.9, 30, 99.9, 90))
