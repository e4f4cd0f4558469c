"""The pre-training script runs a few steps on the CPU, writes a loadable checkpoint and reports held-out IoU."""

from __future__ import annotations

import json

import pytest

from studio.adapters import get_adapter
from studio.training.pretrain import parse_args, pretrain


def test_a_short_run_writes_a_loadable_checkpoint(tmp_path):
    out = tmp_path / "ckpt"
    args = parse_args(
        [
            str(out),
            "--steps",
            "3",
            "--batch",
            "4",
            "--workers",
            "0",
            "--threads",
            "1",
            "--eval-images",
            "2",
            "--warmup",
            "1",
        ]
    )
    lines: list[str] = []
    summary = pretrain(args, log=lines.append)
    assert summary["steps"] == 3 and summary["samples"] == 12
    assert summary["samples_per_s"] > 0
    assert set(summary["held_out"]) == {"phrase", "caption"}
    assert summary["held_out"]["phrase"]["samples"] >= 2
    assert 0.0 <= summary["held_out"]["phrase"]["mean_iou"] <= 1.0
    for name in (
        "model.safetensors",
        "config.json",
        "generation_config.json",
        "tokenizer.json",
        "processor_config.json",
        "chat_template.jinja",
        "pretrain.json",
    ):
        assert (out / name).is_file(), name
    assert json.loads((out / "pretrain.json").read_text())["final"] is True
    assert any("steps/s" in line for line in lines)
    adapter = get_adapter("tiny")
    model = adapter.load_model(folder=out)
    processor = adapter.load_processor(folder=out)
    assert processor.tokenizer.pad_token_id is not None
    assert sum(p.numel() for p in model.parameters()) > 1e6


def test_the_sample_project_stream_is_refused(tmp_path):
    with pytest.raises(ValueError, match="sample project"):
        parse_args([str(tmp_path), "--seed", "0"])


def test_tasks_name_the_samples_each_scene_yields(tmp_path):
    assert parse_args([str(tmp_path), "--tasks", "phrases"]).tasks == "phrases"
    with pytest.raises(SystemExit):
        parse_args([str(tmp_path), "--tasks", "phrases,pictures"])


def test_zero_steps_write_the_initial_checkpoint_with_the_vocabulary_grown(tmp_path):
    """A checkpoint from before the spare words continues with their rows added; its own rows stay as they were."""
    import torch
    from transformers import Qwen3VLForConditionalGeneration

    adapter = get_adapter("tiny")
    old = adapter.load_model()
    old.resize_token_embeddings(1817)  # the vocabulary before the spare words
    old.save_pretrained(tmp_path / "old")
    out = tmp_path / "grown"
    args = parse_args([str(out), "--init", str(tmp_path / "old"), "--steps", "0", "--workers", "0",
                       "--eval-images", "0"])
    summary = pretrain(args, log=lambda line: None)
    assert summary["steps"] == 0 and summary["final"] is True
    grown = Qwen3VLForConditionalGeneration.from_pretrained(out, local_files_only=True)
    rows = grown.get_input_embeddings().weight
    assert rows.shape[0] == len(adapter.load_processor().tokenizer) > 1817
    assert torch.equal(rows[:1817], old.get_input_embeddings().weight)
    assert torch.equal(grown.lm_head.weight[:1817], old.lm_head.weight)
    assert torch.equal(grown.model.visual.merger.linear_fc2.weight, old.model.visual.merger.linear_fc2.weight)
