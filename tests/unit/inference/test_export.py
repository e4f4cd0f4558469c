"""Exported adapters reload with peft onto the base model with identical outputs; merged exports load with the
family's transformers class."""

from __future__ import annotations

import json
import re

import pytest
import torch

from studio.adapters import get_adapter
from studio.inference.export import export_model
from studio.inference.loading import load_checkpoint
from studio.inference.predictor import Predictor
from tests.unit.inference.conftest import SYSTEM, add_run


def forward_logits(model, inputs):
    with torch.no_grad():
        return model(**inputs).logits


@pytest.fixture
def inputs(shapes_image):
    from studio.adapters import Sample, load_image

    adapter = get_adapter("tiny")
    processor = adapter.load_processor()
    sample = Sample(0, str(shapes_image), 240, 160, "grounding", "Locate the red circle.")
    return adapter.prompt_inputs(sample, processor, load_image(shapes_image), system_prompt=SYSTEM["grounding"])


def test_adapter_export_reloads_with_peft_identically(project, tiny_checkpoints, tmp_path, inputs):
    from peft import PeftModel

    add_run(project, "lora run", tiny_checkpoints["lora"])
    report = export_model(project, "lora run", tmp_path / "out")
    out = tmp_path / "out"
    assert report["kind"] == "adapter"
    for name in ("adapter_config.json", "adapter_model.safetensors", "chat_template.jinja", "tokenizer.json",
                 "processor_config.json", "vlm_studio.json", "system_prompt_grounding.txt", "SERVE.md"):
        assert (out / name).is_file(), name
    assert (out / "system_prompt_grounding.txt").read_text().strip() == SYSTEM["grounding"]
    meta = json.loads((out / "vlm_studio.json").read_text())
    assert meta["run"] == "lora run" and meta["export"] == "adapter"
    assert "--enable-lora --lora-modules lora-run=" in report["vllm_command"]
    assert report["example_request"]["messages"][0] == {"role": "system", "content": SYSTEM["grounding"]}
    reloaded = PeftModel.from_pretrained(get_adapter("tiny").load_model(), out).eval()
    original = load_checkpoint(tiny_checkpoints["lora"]).model
    assert torch.equal(forward_logits(reloaded, inputs), forward_logits(original, inputs))
    base = forward_logits(get_adapter("tiny").load_model(), inputs)
    assert not torch.allclose(base, forward_logits(reloaded, inputs))  # the adapter does change the output
    with pytest.raises(ValueError, match="not empty"):
        export_model(project, "lora run", out)


def test_merged_export_loads_with_the_family_class(project, tiny_checkpoints, tmp_path, inputs):
    from transformers import AutoProcessor, Qwen3VLForConditionalGeneration

    add_run(project, "lora", tiny_checkpoints["lora"])
    report = export_model(project, "lora", tmp_path / "merged", merged=True)
    assert report["kind"] == "merged" and report["vllm_command"].startswith(f"vllm serve {tmp_path / 'merged'}")
    merged = Qwen3VLForConditionalGeneration.from_pretrained(tmp_path / "merged").eval()
    AutoProcessor.from_pretrained(tmp_path / "merged")
    original = load_checkpoint(tiny_checkpoints["lora"]).model
    assert torch.allclose(forward_logits(merged, inputs), forward_logits(original, inputs), atol=1e-4)
    exported = Predictor.from_checkpoint(tmp_path / "merged")  # the metadata makes it a checkpoint again
    assert exported.system_prompt("vqa") == SYSTEM["vqa"]


@pytest.mark.slow
def test_cli_export_model_and_suggest(project, tiny_checkpoints, tmp_path, shapes_image):
    import subprocess
    import sys

    from studio.dataset.importer import import_images

    add_run(project, "r1", tiny_checkpoints["lora"])
    import_images(project, [str(shapes_image)])
    project.ensure_label("red circle")
    folder = str(project.folder)
    project.close()

    def vlm(*args):
        return subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True, text=True, timeout=180)

    result = vlm("export-model", folder, "--run", "r1", str(tmp_path / "exp"))
    assert result.returncode == 0, result.stderr
    assert "vllm serve" in result.stdout and "--lora-modules r1=" in result.stdout
    assert '"role": "system"' in result.stdout
    result = vlm("suggest", folder, "--run", "r1", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["prompts"] == 1
    result = vlm("accept-suggestions", folder, "--reject", "--json")
    assert result.returncode == 0, result.stderr


def test_model_card_says_what_the_model_is_and_how_to_feed_it(project, tiny_checkpoints, tmp_path):
    from studio.training.runs import find_run

    add_run(project, "card run", tiny_checkpoints["lora"])
    config = {"model_id": "tiny", "mode": "lora", "workflow": "default", "seed": 7,
              "workflow_config": {"epochs": 3.0, "lr": 2e-4, "lora_r": 16, "lora_alpha": 32, "batch_size": 4},
              "dataset": {"train_image_ids": [1, 2, 3], "train_samples": 12, "val_image_ids": [4], "val_samples": 2,
                          "content_hash": "abc123"}}
    summary = dict(find_run(project, "card run").summary, steps=9, samples=36, best_val_loss=0.5,
                   evaluation={"val-best": {"samples": 2, "mean_iou": 0.61}})
    with project.transaction({"runs"}) as conn:
        conn.execute("UPDATE runs SET config = ?, summary = ? WHERE name = 'card run'",
                     (json.dumps(config), json.dumps(summary)))
    export_model(project, "card run", tmp_path / "out")
    card = (tmp_path / "out" / "README.md").read_text()
    assert "Fill in" not in card and "[More Information Needed]" not in card  # not peft's template any more
    for expected in ("a LoRA adapter (peft) for Tiny built-in", "LoRA: rank 16, alpha 32", "| Epochs | 3 |",
                     "3 images, 12 samples", "1 images, 2 samples", "`abc123`", "| Best validation loss | 0.5 |",
                     "mean_iou 0.610", "Locate every phrase of this caption in the image:", SYSTEM["grounding"],
                     "qwen_json_rel1000", '"bbox_2d": [100, 250, 500, 875]',
                     "stretch every image to 160 x 160 pixels (bicubic)"):
        assert expected in card, expected
    assert "README.md" in (tmp_path / "out" / "SERVE.md").read_text()


def test_model_card_stretch_reproduces_the_apps_input(project, tiny_checkpoints, shapes_image, tmp_path):
    """The card's instruction (stretch to the run's square, then the exported processor) gives the tensors the app
    feeds the model."""
    from PIL import Image, ImageOps
    from transformers import AutoProcessor

    from studio.adapters import Sample, load_image

    add_run(project, "stretch", tiny_checkpoints["lora"])
    adapter = get_adapter("tiny")
    settings = adapter.settings(max_pixels=25600, min_pixels=25600)  # the run's (its checkpoint records them)
    # training saves the processor it loaded with the run's settings
    checkpoint = project.folder / "runs" / "stretch" / "checkpoints" / "step-000010"
    adapter.load_processor(settings).save_pretrained(checkpoint)
    export_model(project, "stretch", tmp_path / "out")
    sample = Sample(0, str(shapes_image), 240, 160, "grounding", "Locate the red circle.")
    app = adapter.prompt_inputs(sample, adapter.load_processor(settings), load_image(shapes_image), settings)
    processor = AutoProcessor.from_pretrained(tmp_path / "out")
    image = ImageOps.exif_transpose(Image.open(shapes_image)).convert("RGB")
    plain = processor(images=[image], text=["<|vision_start|><|image_pad|><|vision_end|>"], return_tensors="pt")
    assert not torch.equal(plain["image_grid_thw"], app["image_grid_thw"])  # why the card asks for the stretch
    card = (tmp_path / "out" / "README.md").read_text()
    side = int(re.search(r"stretch every image to (\d+) x \1 pixels", card).group(1))
    image = image.resize((side, side), Image.Resampling.BICUBIC)
    theirs = processor(images=[image], text=["<|vision_start|><|image_pad|><|vision_end|>"], return_tensors="pt")
    assert torch.equal(theirs["image_grid_thw"], app["image_grid_thw"])
    assert torch.allclose(theirs["pixel_values"], app["pixel_values"])
