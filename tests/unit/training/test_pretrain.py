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
