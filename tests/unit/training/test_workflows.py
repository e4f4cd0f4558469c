"""Workflow settings: validation, defaults, saving per project; box-aware augmentation; the batch order."""

from __future__ import annotations

import random

import pytest
from PIL import Image

from studio.adapters.samples import GroundedPhrase, Sample
from studio.training.config import AugmentConfig, WorkflowConfig, default_workflow
from studio.training.data import augment, batch_plan
from studio.training.workflows import delete_workflow, get_workflow, list_workflows, save_workflow


def test_every_bad_setting_is_named():
    config = WorkflowConfig(mode="qlora3", epochs=0, lr=2.0, batch_size=0, min_pixels=900, max_pixels=100,
                            train_split="val", precision="fp8")
    problems = " | ".join(config.problems())
    for words in ("qlora3", "epochs", "learning rate", "batch size", "min pixels", "must differ", "fp8"):
        assert words in problems
    with pytest.raises(ValueError, match="invalid workflow"):
        config.validate()
    assert default_workflow("tiny").problems() == []


def test_settings_round_trip_and_unknown_keys_are_refused():
    config = default_workflow("tiny")
    config.augment.hflip = True
    config.system_prompts = {"grounding": "Boxes, please."}
    again = WorkflowConfig.from_dict(config.to_dict())
    assert again == config and again.system_prompt("grounding") == "Boxes, please."
    assert again.system_prompt("vqa").startswith("You are a helpful assistant")  # studio/resources/prompts default
    with pytest.raises(ValueError, match="unknown workflow setting"):
        WorkflowConfig.from_dict({"learning_rate": 1})


def test_workflows_are_saved_per_project(project):
    save_workflow(project, "b", default_workflow("tiny"))
    changed = default_workflow("tiny")
    changed.lr = 1e-3
    save_workflow(project, "a", changed)
    assert [w.name for w in list_workflows(project)] == ["a", "b"]
    assert get_workflow(project, "a").config.lr == 1e-3
    with pytest.raises(ValueError, match="invalid workflow"):
        save_workflow(project, "bad", WorkflowConfig(epochs=-1))
    delete_workflow(project, "b")
    with pytest.raises(KeyError, match="saved: a"):
        get_workflow(project, "b")


def _sample(prompt: str, box=(10.0, 20.0, 40.0, 60.0)) -> Sample:
    return Sample(1, "x.png", 100, 80, "grounding", prompt, (GroundedPhrase("a red circle", (box,)),))


def test_flips_move_boxes_and_skip_texts_that_name_a_side():
    image = Image.new("RGB", (100, 80))
    cfg = AugmentConfig(hflip=True)
    flipped = [augment(image, _sample("Locate the red circle."), [], cfg, random.Random(n))[1] for n in range(8)]
    boxes = {s.phrases[0].boxes[0] for s in flipped}
    assert boxes == {(10.0, 20.0, 40.0, 60.0), (60.0, 20.0, 90.0, 60.0)}
    sided = [augment(image, _sample("Locate the circle left of the square."), [], cfg, random.Random(n))[1]
             for n in range(8)]
    assert {s.phrases[0].boxes[0] for s in sided} == {(10.0, 20.0, 40.0, 60.0)}


def test_crops_and_scales_keep_every_box_inside_and_aligned():
    image = Image.new("RGB", (100, 80))
    cfg = AugmentConfig(crop=0.4, scale=0.3)
    other = (70.0, 5.0, 95.0, 30.0)
    for n in range(20):
        picture, sample = augment(image, _sample("Find the red circle."), [(10.0, 20.0, 40.0, 60.0), other], cfg,
                                  random.Random(n))
        assert picture.size == (sample.width, sample.height)
        x1, y1, x2, y2 = sample.phrases[0].boxes[0]
        assert 0 <= x1 < x2 <= sample.width and 0 <= y1 < y2 <= sample.height
        assert (x2 - x1) / (y2 - y1) == pytest.approx(30 / 40, rel=0.1)


def test_the_batch_order_is_seeded_length_grouped_and_complete():
    lengths = [random.Random(i).randint(20, 200) for i in range(300)]
    plan = batch_plan(lengths, 16, seed=3, epoch=0)
    assert sorted(i for b in plan for i in b) == list(range(300))
    assert plan == batch_plan(lengths, 16, seed=3, epoch=0)
    assert plan != batch_plan(lengths, 16, seed=3, epoch=1)
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in plan) / len(plan)
    assert spread < 40  # random batches of this data spread over ~150 tokens


def test_the_choices_the_train_page_offers_are_checked_and_each_problem_names_its_setting():
    from studio.adapters import get_adapter
    from studio.training.preflight import check_settings

    keyed = dict(WorkflowConfig(model_id="nope", device="gpu", train_split="dev", lora_r=0).keyed_problems())
    assert "not in the model catalog" in keyed["model_id"] and "qwen3-vl-2b" in keyed["model_id"]
    assert keyed["device"] == "device 'gpu' is not one of auto, cpu, cuda, cuda:N, mps"
    assert keyed["train_split"] == "train split 'dev' is not one of train, val, test"
    assert keyed["lora_r"] == "LoRA rank must be between 1 and 1,024"
    assert "is coming soon" in WorkflowConfig(model_id="deepseek-ocr-2").problems()[0]
    assert WorkflowConfig(device="cuda:1").problems() == []
    no_lora = WorkflowConfig(model_id="nvila-lite-2b", mode="lora")
    assert dict(no_lora.keyed_problems())["mode"].endswith("choose full fine-tuning")
    errors = check_settings(get_adapter("nvila-lite-2b"), no_lora, "cpu").errors  # said once, not twice
    assert sum("does not support LoRA" in e for e in errors) == 1


def test_every_number_setting_has_the_bounds_the_train_page_offers():
    from dataclasses import fields

    from studio.training.config import BOUNDS, TaskMixConfig

    numbers = {f.name for f in fields(WorkflowConfig) if f.type in ("int", "float")}
    numbers |= {f"augment.{f.name}" for f in fields(AugmentConfig) if f.type in ("int", "float")}
    assert numbers == set(BOUNDS) and not any(f.type in ("int", "float") for f in fields(TaskMixConfig))
    assert dict(WorkflowConfig(epochs=0.05, lr=0.7, seed=-1).keyed_problems()) == {
        "epochs": "epochs must be between 0.1 and 1,000", "lr": "learning rate must be between 1e-07 and 0.5",
        "seed": "seed must be between 0 and 2,147,483,647"}


def test_max_tiles_is_a_workflow_setting_that_reaches_the_processor_settings():
    """InternVL's tiles: the budget advises lowering them, so training (and, through the run's record, inference)
    must be able to use fewer."""
    from studio.adapters import get_adapter
    from studio.training.data import vision_settings

    adapter = get_adapter("internvl3.5-8b")
    fewer = WorkflowConfig(model_id="internvl3.5-8b", max_tiles=2)
    assert vision_settings(adapter, fewer).max_tiles == 2
    default = vision_settings(adapter, WorkflowConfig(model_id="internvl3.5-8b"))
    assert default.max_tiles == adapter.entry.vision.max_tiles
    big = adapter.visual_tokens(4000, 3000, default)
    assert adapter.visual_tokens(4000, 3000, vision_settings(adapter, fewer)) < big
    problems = WorkflowConfig(model_id="internvl3.5-8b", max_tiles=500).keyed_problems()
    assert any(key == "max_tiles" for key, _ in problems)
