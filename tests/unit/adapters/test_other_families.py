"""Qwen2.5-VL and InternVL adapters end to end on tiny random checkpoints of the real transformers classes (built
here with the tiny tokenizer; nothing downloaded): supervised example, masking, forward pass and generation."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from PIL import Image, ImageDraw

from studio.adapters import get_adapter, get_entry
from studio.adapters.internvl import InternVLAdapter
from studio.adapters.samples import GroundedPhrase, Sample
from studio.adapters.tiny import CHAT_TEMPLATE, SPECIAL_TOKENS, build_tokenizer

SEQUENCES = ("input_ids", "attention_mask", "labels", "mm_token_type_ids")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("img") / "circle.png"
    image = Image.new("RGB", (300, 200), "white")
    ImageDraw.Draw(image).ellipse((40, 30, 100, 90), fill="red")
    image.save(path)
    return Sample(1, str(path), 300, 200, "grounding", "Locate the red circle.",
                  (GroundedPhrase("red circle", ((40.0, 30.0, 100.0, 90.0),)),))


def _tokenizer(extra=(), template=CHAT_TEMPLATE, **specials):
    from tokenizers import AddedToken
    from transformers import TokenizersBackend

    backend = build_tokenizer()
    backend.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in extra])
    return TokenizersBackend(tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                             unk_token=None, chat_template=template, extra_special_tokens=specials or None)


@pytest.fixture(scope="module")
def qwen25_folder(tmp_path_factory):
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
    )
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    folder = tmp_path_factory.mktemp("qwen25")
    tokenizer = _tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    Qwen2_5_VLProcessor(image_processor=Qwen2VLImageProcessor(patch_size=14, merge_size=2), tokenizer=tokenizer,
                        video_processor=Qwen2VLVideoProcessor(), chat_template=CHAT_TEMPLATE).save_pretrained(folder)
    config = Qwen2_5_VLConfig(
        text_config={"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
                     "intermediate_size": 128, "vocab_size": len(tokenizer), "eos_token_id": ids["<|im_end|>"],
                     "rope_parameters": {"rope_type": "default", "rope_theta": 1e4, "mrope_section": [4, 6, 6]}},
        vision_config={"depth": 2, "hidden_size": 32, "num_heads": 2, "intermediate_size": 64, "out_hidden_size": 64,
                       "fullatt_block_indexes": [1], "window_size": 56},
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    torch.manual_seed(0)
    Qwen2_5_VLForConditionalGeneration(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def internvl_folder(tmp_path_factory):
    from transformers import GotOcr2ImageProcessor, InternVLConfig, InternVLForConditionalGeneration, InternVLProcessor
    from transformers.models.internvl.video_processing_internvl import InternVLVideoProcessor

    folder = tmp_path_factory.mktemp("internvl")
    template = CHAT_TEMPLATE.replace("<|vision_start|><|image_pad|><|vision_end|>", "<IMG_CONTEXT>\\n")
    tokenizer = _tokenizer(("<img>", "</img>", "<IMG_CONTEXT>", "<video>"), template, start_image_token="<img>",
                           end_image_token="</img>", context_image_token="<IMG_CONTEXT>", video_token="<video>")
    image_processor = GotOcr2ImageProcessor(size={"height": 56, "width": 56}, crop_to_patches=True, max_patches=4)
    InternVLProcessor(image_processor=image_processor, tokenizer=tokenizer, video_processor=InternVLVideoProcessor(),
                      image_seq_length=4, chat_template=template).save_pretrained(folder)
    config = InternVLConfig(
        vision_config={"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64,
                       "image_size": [56, 56], "patch_size": [14, 14]},
        text_config={"model_type": "qwen2", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                     "num_key_value_heads": 1, "intermediate_size": 128, "vocab_size": len(tokenizer)},
        image_token_id=tokenizer.convert_tokens_to_ids("<IMG_CONTEXT>"), image_seq_length=4)
    torch.manual_seed(0)
    InternVLForConditionalGeneration(config).save_pretrained(folder)
    return folder


def _train_and_generate(adapter, folder, sample, settings=None):
    processor = adapter.load_processor(settings, folder=folder)
    model = adapter.load_model(folder)
    example = adapter.supervised_example(sample, processor, settings=settings)
    learned = processor.tokenizer.decode(example["labels"][example["labels"] != -100])
    assert learned == adapter.answer_text(sample, settings) + "<|im_end|>"
    batch = {k: v.unsqueeze(0) if k in SEQUENCES else v for k, v in example.items()}
    with torch.no_grad():
        assert torch.isfinite(model(**batch).loss)
        inputs = adapter.prompt_inputs(sample, processor, settings=settings)
        out = model.generate(**inputs, max_new_tokens=3, do_sample=False)
    assert out.shape[1] <= inputs["input_ids"].shape[1] + 3
    return processor, example


def test_qwen25_adapter_end_to_end(qwen25_folder, sample):
    adapter = get_adapter("qwen2.5-vl-7b")
    settings = adapter.settings(max_pixels=200 * 200, min_pixels=56 * 56)
    processor, example = _train_and_generate(adapter, qwen25_folder, sample, settings)
    image_tokens = int((example["input_ids"] == processor.image_token_id).sum())
    assert image_tokens == adapter.visual_tokens(300, 200, settings) == 40
    resized = adapter.resized_size(300, 200, settings)
    assert resized == (224, 140)  # boxes are pixels of this image: 40 px * 224 / 300 = 29.9 -> 30
    assert adapter.answer_text(sample, settings) == '[{"bbox_2d": [30, 21, 75, 63], "label": "red circle"}]'


def test_internvl_adapter_end_to_end(internvl_folder, sample):
    entry = get_entry("internvl3.5-8b")
    small = dataclasses.replace(entry, vision=dataclasses.replace(entry.vision, tile_size=56, tokens_per_tile=4,
                                                                  max_tiles=4))
    adapter = InternVLAdapter(small)
    processor, example = _train_and_generate(adapter, internvl_folder, sample)
    image_tokens = int((example["input_ids"] == processor.image_token_id).sum())
    assert image_tokens == adapter.visual_tokens(300, 200) == 5 * 4  # 2 x 2 tiles + thumbnail
    assert adapter.answer_text(sample) == "<ref>red circle</ref><box>[[133, 150, 333, 450]]</box>"


@pytest.mark.parametrize(("model_id", "end"), [
    ("llava-next-mistral-7b", "</s>"),  # Mistral's [INST] template closes an answer with end of sequence
    ("deepseek-ocr-2", "<｜end▁of▁sentence｜>"),  # the DeepSeek-V2 tokenizer's end of sentence
    ("internvl3.5-8b", "<|im_end|>"),  # Qwen3 language model: ChatML
    ("qwen2.5-vl-7b", "<|im_end|>"),
])
def test_each_family_learns_its_own_end_token(model_id, end):
    assert get_adapter(model_id).end_token == end


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("qwen2.5-vl-7b", '[{"bbox_2d": [x1, y1, x2, y2], "label": …}] in pixels of the resized image'),
        ("qwen3-vl-2b", '[{"bbox_2d": [x1, y1, x2, y2], "label": …}] with coordinates 0–1000'),
        ("internvl3.5-8b", "<ref>label</ref><box>[[x1, y1, x2, y2]]</box> with coordinates 0–1000"),
    ],
)
def test_each_family_says_its_box_format_in_words(model_id, expected):
    assert get_adapter(model_id).box_format() == expected
