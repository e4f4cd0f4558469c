"""Qwen-family behaviour on the tiny model: visual tokens, chat text, masking and box text."""

from __future__ import annotations

import pytest

from studio.adapters import get_adapter
from studio.adapters.loading import ModelNotAvailable

SIZES = [
    (240, 160),
    (160, 160),
    (256, 256),
    (200, 150),
    (1, 1),
    (17, 3000),
    (3000, 17),
    (4000, 3000),
    (31, 33),
    (9999, 61),
]


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_image_is_stretched_to_the_one_grid_the_budget_counts(tiny_adapter, tiny_processor, width, height):
    """The tiny model's catalog entry is ``square``: the adapter's own encoding (the processor after the stretch)
    gives every size 224 x 224 pixels, 49 visual tokens."""
    from PIL import Image

    from studio.adapters.samples import Sample

    sample = Sample(1, "memory", width, height, "vqa", "How many shapes are there?", answer="2")
    inputs = tiny_adapter.prompt_inputs(sample, tiny_processor, image=Image.new("RGB", (width, height)))
    image_tokens = int((inputs["input_ids"][0] == tiny_processor.image_token_id).sum())
    assert inputs["image_grid_thw"][0].tolist() == [1, 14, 14]
    assert tiny_adapter.visual_tokens(width, height) == image_tokens == 49
    assert tiny_adapter.resized_size(width, height) == (224, 224)


@pytest.mark.parametrize("max_pixels", [16384, 25600, 262144])
def test_visual_tokens_follow_max_pixels(tiny_adapter, tiny_processor, grounding_sample, max_pixels):
    settings = tiny_adapter.settings(max_pixels=max_pixels, min_pixels=4096)
    inputs = tiny_adapter.prompt_inputs(grounding_sample, tiny_processor, settings=settings)
    image_tokens = int((inputs["input_ids"][0] == tiny_processor.image_token_id).sum())
    assert image_tokens == tiny_adapter.visual_tokens(240, 160, settings)
    assert int(inputs["mm_token_type_ids"].sum()) == image_tokens


def test_a_smaller_square_costs_fewer_tokens(tiny_adapter):
    settings = tiny_adapter.settings(min_pixels=160 * 160, max_pixels=160 * 160)
    assert tiny_adapter.visual_tokens(256, 170, settings) == 25
    assert tiny_adapter.resized_size(256, 170, settings) == (160, 160)


def test_training_text_and_labels(tiny_adapter, tiny_processor, grounding_sample):
    text = tiny_adapter.training_text(grounding_sample, tiny_processor)
    assert text.prompt.startswith("<|im_start|>system\nYou are a helpful assistant.")
    assert text.prompt.endswith("a red circle left of a blue square<|im_end|>\n<|im_start|>assistant\n")
    assert text.target == (
        '[{"bbox_2d": [167, 188, 417, 562], "label": "red circle"}, '
        '{"bbox_2d": [625, 375, 875, 750], "label": "blue square"}]<|im_end|>\n'
    )
    example = tiny_adapter.supervised_example(grounding_sample, tiny_processor)
    learned = example["labels"][example["labels"] != -100]
    decoded = tiny_processor.tokenizer.decode(learned)
    assert decoded == text.target.rstrip("\n")
    assert example["input_ids"].shape == example["labels"].shape == example["mm_token_type_ids"].shape
    assert example["image_grid_thw"].tolist() == [[1, 14, 14]]


def test_vqa_example_learns_the_answer(tiny_adapter, tiny_processor, vqa_sample):
    example = tiny_adapter.supervised_example(vqa_sample, tiny_processor)
    learned = example["labels"][example["labels"] != -100]
    assert tiny_processor.tokenizer.decode(learned) == "two<|im_end|>"
    assert "Answer the question" in tiny_adapter.training_text(vqa_sample, tiny_processor).prompt


def test_box_text_round_trip(tiny_adapter, grounding_sample):
    text = tiny_adapter.answer_text(grounding_sample)
    parsed = tiny_adapter.parse_boxes(text, 240, 160)
    assert parsed.problems == []
    assert [b.label for b in parsed.boxes] == ["red circle", "blue square"]
    for got, want in zip(parsed.boxes, [(40, 30, 100, 90), (150, 60, 210, 120)], strict=True):
        # 0-1000 on a 240 x 160 image: one unit is 0.24 x 0.16 px, so rounding costs at most 0.12 px
        assert max(abs(a - b) for a, b in zip(got.box, want, strict=True)) <= 0.5


def test_lora_targets_language_model_only_unless_vision_unfrozen(tiny_adapter, tiny_model):
    import re

    names = [n for n, _ in tiny_model.named_modules()]
    pattern = tiny_adapter.lora_target_modules()
    hit = [n for n in names if re.fullmatch(pattern, n)]
    assert hit and all(n.startswith("model.language_model.") for n in hit)
    assert len(hit) == 4 * 7
    with_vision = [
        n for n in names if re.fullmatch(tiny_adapter.lora_target_modules(unfreeze_vision=True), n)
    ]
    assert any(n.startswith("model.visual.") for n in with_vision)


def test_real_checkpoint_absent_gives_an_actionable_message(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    adapter = get_adapter("qwen3-vl-8b")
    with pytest.raises(ModelNotAvailable, match=r"Qwen/Qwen3-VL-8B-Instruct .*never downloads.*hf download"):
        adapter.load_model()
    with pytest.raises(ModelNotAvailable, match=r"no config\.json"):
        adapter.load_model(tmp_path / "nowhere")


def test_quantisation_without_cuda_is_refused_clearly(tiny_adapter, monkeypatch):
    import torch

    from studio.adapters.loading import QuantizationUnavailable

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # on a CUDA machine too
    with pytest.raises(QuantizationUnavailable, match=r"bitsandbytes|CUDA"):
        tiny_adapter.load_model(quantization=4)


@pytest.mark.parametrize("bits", [4, 8])
def test_quantisation_settings_keep_vision_and_head_unquantised(monkeypatch, bits):
    import torch

    from studio.adapters import loading

    monkeypatch.setattr(loading, "check_quantization_available", lambda: None)
    config = loading.quantization_config(bits, list(get_adapter("qwen3-vl-8b").unquantised_modules))
    assert config.llm_int8_skip_modules == loading.skip_patterns(["visual", "lm_head"])
    if bits == 4:
        assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4" and config.bnb_4bit_use_double_quant
        assert config.bnb_4bit_compute_dtype == torch.bfloat16
    else:
        assert config.load_in_8bit and not config.load_in_4bit
    with pytest.raises(ValueError, match="4 or 8 bits"):
        loading.quantization_config(3, [])


@pytest.mark.parametrize("model_id", ["tiny", "qwen2.5-vl-7b", "qwen3-vl-8b", "qwen3.5-9b", "internvl3.5-8b"])
def test_quantisation_converts_the_language_model_only(model_id):
    """The skip patterns, matched by transformers' own rule against the real model's module names (built empty on
    the meta device): every linear layer of the vision tower, the projector and lm_head stays unquantised."""
    import torch
    import transformers
    from transformers.quantizers.quantizers_utils import should_convert_module

    from studio.adapters.loading import skip_patterns

    adapter = get_adapter(model_id)
    cls = getattr(transformers, adapter.entry.transformers_class)
    with torch.device("meta"):
        model = cls._from_config(cls.config_class())
    linears = [name for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)]
    patterns = skip_patterns(list(adapter.unquantised_modules))
    kept = {name for name in linears if not should_convert_module(name, patterns)}
    outside_language = {name for name in linears if "language_model" not in name}
    assert kept == outside_language and any("lm_head" in n for n in kept) and len(kept) < len(linears)


def test_hybrid_thinking_templates_learn_the_answer_without_a_think_block(tiny_adapter, grounding_sample):
    """Qwen3.5-style templates add an empty think block to the assistant turn; the adapter asks for it in the
    prompt (enable_thinking=False), so the learned target is still just the answer."""
    from studio.adapters.tiny import CHAT_TEMPLATE

    processor = tiny_adapter.load_processor()
    think = "{{- '<think>\\n\\n</think>\\n\\n' -}}"
    template = CHAT_TEMPLATE.replace(
        "{%- if message['content'] is string -%}",
        "{%- if message['role'] == 'assistant' -%}" + think + "{%- endif -%}{%- if message['content'] is string -%}",
    ).replace(
        "{{- '<|im_start|>assistant\\n' -}}",
        "{{- '<|im_start|>assistant\\n' -}}{%- if enable_thinking is defined and not enable_thinking -%}"
        + think + "{%- endif -%}",
    )
    processor.chat_template = template
    text = tiny_adapter.training_text(grounding_sample, processor)
    assert text.prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert text.target.startswith('[{"bbox_2d"') and "<think>" not in text.target
    example = tiny_adapter.supervised_example(grounding_sample, processor)
    assert processor.tokenizer.decode(example["labels"][example["labels"] != -100]) == text.target.rstrip("\n")


@pytest.mark.parametrize("model_id", ["tiny", "qwen2.5-vl-7b", "qwen3-vl-8b", "qwen3-vl-30b-a3b", "qwen3.5-9b",
                                      "internvl3.5-8b", "llava-next-mistral-7b"])
def test_vision_lora_targets_linear_layers_only(model_id):
    """With the vision tower unfrozen, LoRA wraps its attention and MLP projections, never the convolutional
    patch embedding (``proj`` alone matched ``visual.patch_embed.proj``, a Conv3d): real classes on the meta device."""
    import re

    import torch
    import transformers

    adapter = get_adapter(model_id)
    cls = getattr(transformers, adapter.entry.transformers_class)
    with torch.device("meta"):
        model = cls._from_config(cls.config_class())
    pattern = adapter.lora_target_modules(unfreeze_vision=True)
    vision = adapter.entry.lora.vision_prefix
    hit = {name: module for name, module in model.named_modules()
           if name.startswith(vision) and re.fullmatch(pattern, name)}
    assert hit and all(isinstance(module, torch.nn.Linear) for module in hit.values()), sorted(
        name for name, module in hit.items() if not isinstance(module, torch.nn.Linear))
    attention_out = [n for n in hit if n.endswith(("attn.proj", "attention.projection_layer", "self_attn.out_proj"))]
    assert len(attention_out) >= 2
