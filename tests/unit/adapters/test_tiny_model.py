"""The tiny built-in model builds deterministically, loads offline, runs a forward pass and generates."""

from __future__ import annotations

import copy
import filecmp

import pytest
import torch

from studio.adapters.tiny import SPECIAL_TOKENS, build_tiny_checkpoint, build_tokenizer
from studio.shipped import RESOURCES_DIR

TINY_FOLDER = RESOURCES_DIR / "tiny-model"


def test_shipped_files_equal_a_fresh_build(tmp_path):
    build_tiny_checkpoint(tmp_path, weights=False)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(p.name for p in TINY_FOLDER.iterdir() if p.suffix != ".safetensors")
    _match, mismatch, errors = filecmp.cmpfiles(tmp_path, TINY_FOLDER, names, shallow=False)
    assert (mismatch, errors) == ([], [])


@pytest.mark.parametrize(
    "text",
    [
        '[{"bbox_2d": [12, 345, 999, 1000], "label": "red circle"}]',
        "Ünïcode 北京 zebra\ttabs\n\nand   spaces 12345 ünknown wörds 🙂",
    ],
)
def test_tokenizer_never_loses_text(text):
    tokenizer = build_tokenizer()
    assert tokenizer.decode(tokenizer.encode(text).ids, skip_special_tokens=False) == text


def test_tokenizer_keeps_words_numbers_and_special_tokens_whole():
    tokenizer = build_tokenizer()
    tokens = tokenizer.encode("Locate the red circle. Where are three triangles? 0 7 512 1000").tokens
    assert tokens == [
        "Locate",
        "Ġthe",
        "Ġred",
        "Ġcircle",
        ".",
        "ĠWhere",
        "Ġare",
        "Ġthree",
        "Ġtriangles",
        "?",
        "Ġ",
        "0",
        "Ġ",
        "7",
        "Ġ",
        "512",
        "Ġ",
        "1000",
    ]
    for special in SPECIAL_TOKENS:
        assert tokenizer.encode(f"x{special}y").tokens == ["x", special, "y"]


def test_checkpoint_loads_offline_and_the_same_seed_gives_the_same_weights(tmp_path):
    from transformers import AutoProcessor, Qwen3VLForConditionalGeneration

    build_tiny_checkpoint(tmp_path / "a", seed=0)
    build_tiny_checkpoint(tmp_path / "b", seed=0)
    assert filecmp.cmp(
        tmp_path / "a" / "model.safetensors", tmp_path / "b" / "model.safetensors", shallow=False
    )
    processor = AutoProcessor.from_pretrained(tmp_path / "a", local_files_only=True)
    model = Qwen3VLForConditionalGeneration.from_pretrained(tmp_path / "a", local_files_only=True)
    assert type(processor).__name__ == "Qwen3VLProcessor"
    assert 1.7e6 < sum(p.numel() for p in model.parameters()) < 1.9e6
    assert model.config.text_config.rope_parameters["mrope_section"] == [6, 5, 5]
    assert not model.config.tie_word_embeddings


def test_forward_pass_learns_only_the_answer(tiny_adapter, tiny_processor, tiny_model, grounding_sample):
    example = tiny_adapter.supervised_example(grounding_sample, tiny_processor)
    batch = {
        k: v.unsqueeze(0) if k in ("input_ids", "attention_mask", "labels", "mm_token_type_ids") else v
        for k, v in example.items()
    }
    with torch.no_grad():
        out = tiny_model(**batch)
    assert out.logits.shape[:2] == batch["input_ids"].shape
    assert torch.isfinite(out.loss)
    # near ln(vocab) ~ 7.5 with random weights, lower with the shipped pre-trained weights
    assert 0.0 < out.loss.item() < 10.0


def test_generate_offline(tiny_adapter, tiny_processor, tiny_model, grounding_sample):
    inputs = tiny_adapter.prompt_inputs(grounding_sample, tiny_processor)
    with torch.no_grad():
        out = tiny_model.generate(**inputs, max_new_tokens=6, do_sample=False)
    assert out.shape[1] == inputs["input_ids"].shape[1] + 6 or out[0, -1].item() in (
        tiny_model.generation_config.eos_token_id or []
    )
    again = tiny_model.generate(**inputs, max_new_tokens=6, do_sample=False)
    assert torch.equal(out, again)


def test_spare_words_are_whole_tokens_after_every_other_id():
    from studio.adapters.tiny import SPARE_WORDS

    tokenizer = build_tokenizer()
    last_special = max(tokenizer.token_to_id(t) for t in SPECIAL_TOKENS)
    assert last_special == len(SPECIAL_TOKENS) + min(tokenizer.token_to_id(t) for t in SPECIAL_TOKENS) - 1
    for word in ("ball", "blocks", "Wedge", "Knobs"):
        assert word.lower().rstrip("s") in SPARE_WORDS
        encoded = tokenizer.encode(f"a {word}")
        assert encoded.tokens[1] == f"Ġ{word}" and encoded.ids[1] > last_special
    assert tokenizer.get_vocab_size() == last_special + 1 + 8 * len(SPARE_WORDS)


def test_grow_vocabulary_adds_the_same_rows_for_the_same_seed_and_keeps_the_rest(tiny_model):
    from studio.adapters.tiny import grow_vocabulary

    size = tiny_model.get_input_embeddings().num_embeddings
    copies = [copy.deepcopy(tiny_model) for _ in range(2)]  # resizing changes the model's config too
    for model in copies:
        grow_vocabulary(model, size + 5, seed=3)
    for model in copies:
        assert model.get_input_embeddings().weight.shape[0] == model.lm_head.weight.shape[0] == size + 5
        assert torch.equal(model.get_input_embeddings().weight[:size], tiny_model.get_input_embeddings().weight)
    assert torch.equal(copies[0].lm_head.weight, copies[1].lm_head.weight)
    grow_vocabulary(copies[0], size, seed=4)  # never shrinks
    assert copies[0].lm_head.weight.shape[0] == size + 5
