"""The model commands: models, tokens, budget, preview (in-process; --json output is one JSON document)."""

from __future__ import annotations

import json

import pytest

from studio.cli import run
from studio.dataset.sample import create_sample_project


@pytest.fixture(scope="module")
def sample_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli") / "sample"
    create_sample_project(folder, count=6).close()
    return folder


def _json(capsys, *argv: str):
    assert run(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_models_lists_the_catalog(capsys):
    rows = {r["id"]: r for r in _json(capsys, "models", "--json")}
    assert rows["tiny"]["class"] == "Qwen3VLForConditionalGeneration"
    assert rows["nvila-lite-2b"]["lora"] is False and rows["nvila-lite-2b"]["remote_code"] is True
    assert rows["deepseek-ocr-2"]["status"] == "coming_soon"


def test_tokens(capsys):
    data = _json(capsys, "tokens", "--model", "qwen3-vl-8b", "--size", "1280x720", "--json")
    assert data["resized"] == [1280, 704] and data["visual_tokens"] == 880 and data["total_tokens"] == 882
    small = _json(capsys, "tokens", "--model", "qwen3-vl-8b", "--size", "1280x720", "--max-pixels", "200000", "--json")
    assert small["visual_tokens"] < 880
    assert run(["tokens", "--model", "tiny", "--size", "12by3"]) == 2
    assert "expected WIDTHxHEIGHT" in capsys.readouterr().err


def test_budget_and_preview(capsys, sample_folder):
    data = _json(capsys, "budget", str(sample_folder), "--model", "tiny", "--max-seq-len", "120", "--json")
    assert data["images"] == 6 and data["text_counts"] == "tokenizer"
    assert data["over_budget"] == len(data["over_budget_images"]) > 0
    preview = _json(capsys, "preview", str(sample_folder), "--model", "tiny", "--image", "1", "--json")
    first = preview["samples"][0]
    assert first["task"] == "grounding" and first["prompt"].endswith("<|im_start|>assistant\n")
    assert first["target"].startswith('[{"bbox_2d": [') and first["boxes"] and first["problems"] == []
    assert run(["preview", str(sample_folder), "--model", "qwen3-vl-8b", "--image", "1"]) == 2
    assert "never downloads" in capsys.readouterr().err


def test_memory(capsys):
    lora = _json(capsys, "memory", "--model", "qwen2.5-vl-7b", "--json")
    qlora = _json(capsys, "memory", "--model", "qwen2.5-vl-7b", "--method", "qlora4", "--json")
    assert 0 < qlora["estimate_gib"] < lora["estimate_gib"]
    assert lora["visual_tokens"] == 12845056 // 28**2 and "weights" in lora["parts_gib"]
    assert run(["memory", "--model", "qwen2.5-vl-7b"]) == 0
    assert "16,384 visual tokens, more than --seq-len 4,096" in capsys.readouterr().out
    assert run(["memory", "--model", "qwen2.5-vl-7b", "--max-pixels", "1000000"]) == 0
    assert "more than --seq-len" not in capsys.readouterr().out
    assert run(["memory", "--model", "nvila-lite-2b"]) == 2
    assert "LoRA is not supported" in capsys.readouterr().err
