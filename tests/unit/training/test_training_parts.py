"""Batching, schedules, scene samples and the IoU matching used by training."""

from __future__ import annotations

import pytest
import torch

from studio.training.batching import IGNORE_INDEX, collate
from studio.training.scenes import scene_samples
from studio.training.schedule import LrFactor


def _example(n: int, fill: int) -> dict:
    return {
        "input_ids": torch.full((n,), fill),
        "attention_mask": torch.ones(n, dtype=torch.long),
        "labels": torch.full((n,), fill),
        "mm_token_type_ids": torch.zeros(n, dtype=torch.long),
        "pixel_values": torch.zeros(4, 3),
        "image_grid_thw": torch.tensor([[1, 2, 2]]),
    }


@pytest.mark.parametrize("side", ["left", "right"])
def test_collate_pads_on_the_chosen_side(side):
    batch = collate([_example(3, 7), _example(5, 8)], pad_id=0, padding_side=side)
    assert batch["input_ids"].shape == (2, 5)
    row = batch["input_ids"][0].tolist()
    assert row == ([7, 7, 7, 0, 0] if side == "right" else [0, 0, 7, 7, 7])
    assert batch["labels"][0].tolist().count(IGNORE_INDEX) == 2
    assert batch["attention_mask"][0].sum() == 3
    assert batch["pixel_values"].shape == (8, 3) and batch["image_grid_thw"].shape == (2, 3)


def test_cosine_schedule_warms_up_then_decays_to_the_floor():
    factor = LrFactor(total=100, warmup=10, kind="cosine", floor=0.05)
    assert factor(0) < factor(5) < factor(9) <= 1.0
    assert factor(10) == pytest.approx(1.0)
    assert factor(55) == pytest.approx(0.525)
    assert factor(100) == pytest.approx(0.05) and factor(500) == pytest.approx(0.05)
    assert LrFactor(100, 0, "linear", 0.0)(50) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown schedule"):
        LrFactor(10, 0, "step")


def test_scene_samples_are_the_adapter_samples_and_refuse_the_sample_stream():
    items = scene_samples(5, 3, vqa_per_scene=1)
    tasks = [s.task for s, _ in items]
    assert tasks.count("vqa") == 1 and tasks[0] == "grounding"
    assert items[0][0].prompt.startswith("Locate every phrase of this caption")
    sample, image = items[0]
    assert image.size == (sample.width, sample.height)
    assert scene_samples(5, 3, vqa_per_scene=1)[0][0] == sample  # deterministic
    with pytest.raises(ValueError, match="sample project"):
        scene_samples(0, 1)


def test_the_memory_check_covers_the_longest_answer_and_the_cached_images(small_project):
    """The loss's logits cover the answer tokens: the estimate is made for the longest answer of the train split,
    and for the vision outputs of its 24 images, cached on the device."""
    from studio.adapters import get_adapter
    from studio.adapters.memory import estimate_memory
    from studio.training.preflight import check_project_data
    from studio.training.workflows import get_workflow

    config = get_workflow(small_project, "quick").config
    facts = check_project_data(small_project.folder, config).facts
    assert 10 < facts["longest_answer_tokens"] < facts["train_longest_tokens"] - 49  # the image is prompt, not answer
    assert config.caches_vision  # the default: vision frozen, no augmentation
    estimate = estimate_memory(get_adapter("tiny").entry, config.mode, batch=config.batch_size,
                               seq_len=facts["train_longest_tokens"], visual_tokens=49,
                               grad_checkpointing=config.grad_checkpointing,
                               answer_tokens=facts["longest_answer_tokens"], cached_images=24)
    assert facts["memory_estimate_bytes"] == int(estimate.total)


def test_the_data_check_names_the_annotated_images_in_no_split(small_project):
    from studio.training.preflight import check_project_data
    from studio.training.workflows import get_workflow

    config = get_workflow(small_project, "quick").config
    assert not any("no split" in w for w in check_project_data(small_project.folder, config).warnings)
    small_project.set_split([1, 2, 3], "")
    report = check_project_data(small_project.folder, config)
    assert report.ok and any(w.startswith("3 annotated images have no split") for w in report.warnings)


@pytest.mark.parametrize(("free_gib", "outcome"), [(0.01, "error"), ("between", "warning"), (64, "ok")])
def test_memory_against_the_gpu_refuses_only_what_cannot_fit(monkeypatch, free_gib, outcome):
    """Over the free memory with the tensors alone: refused; only with the margins for fragmentation: a warning."""
    from studio.adapters import get_adapter
    from studio.adapters.memory import GIB, estimate_memory
    from studio.training.config import WorkflowConfig
    from studio.training.preflight import Preflight, check_memory

    adapter, config = get_adapter("tiny"), WorkflowConfig(mode="full", batch_size=64)
    estimate = estimate_memory(adapter.entry, "full", batch=64, seq_len=500, visual_tokens=49, answer_tokens=80,
                               grad_checkpointing=False, lora_rank=config.lora_r, cached_images=100)
    tensors = sum(estimate.parts.values())
    free = (tensors + estimate.total) / 2 if free_gib == "between" else free_gib * GIB
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda index: (int(free), 80 * GIB))
    report = Preflight()
    check_memory(report, adapter, config, "cuda", 500, 49, 80, 100)
    found = {"error": bool(report.errors), "warning": bool(report.warnings)}
    assert found == {"error": outcome == "error", "warning": outcome == "warning"}
    assert report.facts["device_memory_bytes"] == 80 * GIB
