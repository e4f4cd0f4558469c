"""Visual-token counts of every family equal what transformers' image processors produce (processors built
from the catalog's settings, nothing downloaded), for odd sizes: tiny, huge, extreme aspect ratios."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from studio.adapters import get_adapter, load_catalog

ODD_SIZES = [
    (2, 3),
    (27, 29),
    (28, 28),
    (55, 3000),
    (3000, 55),
    (640, 480),
    (1023, 769),
    (1920, 1080),
    (4000, 3000),
    (9000, 50),
]


def _qwen_processor(adapter, settings):
    from transformers import Qwen2VLImageProcessor

    v = adapter.entry.vision
    return Qwen2VLImageProcessor(
        patch_size=v.patch_size,
        merge_size=v.merge_size,
        temporal_patch_size=v.temporal_patch_size,
        size={"shortest_edge": settings.min_pixels, "longest_edge": settings.max_pixels},
    )


QWEN_MODELS = ["qwen2.5-vl-7b", "qwen3-vl-8b", "qwen3.5-9b"]  # the tiny model: tests/unit/adapters/test_qwen_adapter.py



@pytest.mark.parametrize("model_id", QWEN_MODELS)
@pytest.mark.parametrize(("width", "height"), ODD_SIZES)
def test_qwen_tokens_equal_the_processor_output(model_id, width, height):
    adapter = get_adapter(model_id)
    # a lower max_pixels keeps the real resize quick; the arithmetic is the same at any budget
    settings = adapter.settings(max_pixels=min(adapter.entry.vision.max_pixels, 600_000))
    grid = _qwen_processor(adapter, settings)(
        images=[Image.new("RGB", (width, height))], return_tensors="pt"
    )["image_grid_thw"][0]
    assert (
        adapter.visual_tokens(width, height, settings)
        == int(grid.prod()) // adapter.entry.vision.merge_size**2
    )


@pytest.mark.parametrize("model_id", QWEN_MODELS)
def test_qwen_tokens_at_catalog_defaults_equal_the_processor_arithmetic(model_id):
    adapter = get_adapter(model_id)
    settings = adapter.settings()
    processor = _qwen_processor(adapter, settings)
    sizes = [*ODD_SIZES, (12000, 9000), (20000, 101), (7, 7)]
    widths, heights = zip(*sizes, strict=True)
    ours = adapter.visual_tokens_batch(widths, heights, settings)
    theirs = [
        processor.get_number_of_image_patches(h, w, {}) // adapter.entry.vision.merge_size**2
        for w, h in sizes
    ]
    assert ours.tolist() == theirs


def test_aspect_ratio_over_200_is_refused_like_the_processor():
    with pytest.raises(ValueError, match="aspect ratio"):
        get_adapter("qwen3-vl-8b").visual_tokens(201, 1)


@pytest.mark.parametrize("max_tiles", [1, 12])
@pytest.mark.parametrize(("width", "height"), [*ODD_SIZES, (448, 448), (896, 448), (449, 448), (100, 1300)])
def test_internvl_tiles_equal_the_processor_output(width, height, max_tiles):
    from transformers import GotOcr2ImageProcessor

    adapter = get_adapter("internvl3.5-8b")
    v = adapter.entry.vision
    processor = GotOcr2ImageProcessor(
        size={"height": v.tile_size, "width": v.tile_size},
        crop_to_patches=True,
        min_patches=v.min_tiles,
        max_patches=max_tiles,
    )
    out = processor(images=[Image.new("RGB", (width, height))], return_tensors="pt")
    settings = adapter.settings(max_tiles=max_tiles)
    assert adapter.visual_tokens(width, height, settings) == out["pixel_values"].shape[0] * v.tokens_per_tile


def test_batch_and_single_counts_agree_for_every_model():
    rng = np.random.default_rng(0)
    widths = rng.integers(16, 5000, 200)
    heights = rng.integers(16, 5000, 200)
    for entry in load_catalog().values():
        adapter = get_adapter(entry.id)
        batch = adapter.visual_tokens_batch(widths, heights)
        assert [
            adapter.visual_tokens(int(w), int(h)) for w, h in zip(widths[:20], heights[:20], strict=True)
        ] == batch[:20].tolist()
        assert (batch > 0).all()


@pytest.fixture(scope="module")
def image_token_tokenizer():
    """The tiny tokenizer plus an ``<image>`` token, for processors that expand ``<image>``."""
    from tokenizers import AddedToken
    from transformers import TokenizersBackend

    from studio.adapters.tiny import build_tokenizer

    backend = build_tokenizer()
    backend.add_special_tokens([AddedToken("<image>", special=True, normalized=False)])
    return TokenizersBackend(tokenizer_object=backend, unk_token=None)


def _image_tokens(processor, tokenizer, width, height) -> int:
    out = processor(text=["<image>"], images=[Image.new("RGB", (width, height))], return_tensors="pt")
    return int((out["input_ids"] == tokenizer.convert_tokens_to_ids("<image>")).sum())


@pytest.mark.parametrize(("width", "height"), [*ODD_SIZES, (336, 336), (672, 336), (337, 1009), (100, 1000)])
def test_llava_next_tokens_equal_the_processor_output(image_token_tokenizer, width, height):
    from transformers import LlavaNextImageProcessor, LlavaNextProcessor

    adapter = get_adapter("llava-next-mistral-7b")
    v = adapter.entry.vision
    image_processor = LlavaNextImageProcessor(
        size={"shortest_edge": v.tile_size}, crop_size={"height": v.tile_size, "width": v.tile_size},
        image_grid_pinpoints=[list(p) for p in v.grid_pinpoints],
    )
    processor = LlavaNextProcessor(image_processor=image_processor, tokenizer=image_token_tokenizer,
                                   patch_size=v.patch_size, vision_feature_select_strategy="default",
                                   num_additional_image_tokens=1)
    assert adapter.visual_tokens(width, height) == _image_tokens(processor, image_token_tokenizer, width, height)


@pytest.mark.parametrize(("width", "height"), [*ODD_SIZES, (768, 768), (769, 768), (1536, 770)])
def test_deepseek_ocr2_tokens_equal_the_processor_output(image_token_tokenizer, width, height):
    from transformers.models.deepseek_ocr2 import DeepseekOcr2ImageProcessor, DeepseekOcr2Processor

    adapter = get_adapter("deepseek-ocr-2")
    processor = DeepseekOcr2Processor(image_processor=DeepseekOcr2ImageProcessor(), tokenizer=image_token_tokenizer)
    assert adapter.visual_tokens(width, height) == _image_tokens(processor, image_token_tokenizer, width, height)
