"""The model card (README.md) of an exported model: what it is, how it was trained (from the run record), its
prompt format, its box convention with a worked example, and the image preprocessing a caller must repeat to get
the answers the app gets."""

from __future__ import annotations

import math
from typing import Any

from studio.adapters import Adapter, VisionSettings, prompts
from studio.training.runs import Run

UNRECORDED = "not recorded"
EXAMPLE_SIZE = (640, 480)
EXAMPLE_BOX = (64.0, 120.0, 320.0, 420.0)


def model_card(record: Run, meta: dict[str, Any], adapter: Adapter, kind: str, base: str) -> str:
    """Markdown with a Hugging Face front matter; ``kind`` is "adapter", "merged" or "full"."""
    entry = adapter.entry
    vision = meta.get("vision") or {}
    settings = adapter.settings(max_pixels=vision.get("max_pixels"), min_pixels=vision.get("min_pixels"))
    what = {
        "adapter": f"a LoRA adapter (peft) for {entry.name} (`{base}`)",
        "merged": f"{entry.name} (`{base}`) with a LoRA adapter merged into its weights",
        "full": f"a full fine-tune of {entry.name} (`{base}`)",
    }[kind]
    front = ["---", f"base_model: {base}", f"library_name: {'peft' if kind == 'adapter' else 'transformers'}",
             "pipeline_tag: image-text-to-text", "tags:", "- vlm-studio", "- visual-grounding", "---", ""]
    lines = [
        f"# {record.name}",
        "",
        f"This is {what}, trained with VLM Studio to locate what a prompt names in an image (boxes) and to answer "
        f"questions about images. Checkpoint: `{meta.get('checkpoint', UNRECORDED)}` of run `{record.name}`.",
        "",
        *_training(record),
        *_prompting(meta, record.config.get("task_mix") or {}),
        *_boxes(adapter, settings),
        *_preprocessing(adapter, settings),
    ]
    return "\n".join(front + lines) + "\n"


def _training(record: Run) -> list[str]:
    config = record.config
    workflow = config.get("workflow_config") or {}
    summary = record.summary
    dataset = config.get("dataset") or {}
    mode = config.get("mode") or workflow.get("mode") or UNRECORDED
    method = mode
    if mode in ("lora", "qlora"):
        method = (f"{'QLoRA' if mode == 'qlora' else 'LoRA'}: rank {workflow.get('lora_r', UNRECORDED)}, alpha "
                  f"{workflow.get('lora_alpha', UNRECORDED)}, dropout {workflow.get('lora_dropout', UNRECORDED)}, "
                  f"targets {', '.join(workflow.get('lora_targets') or []) or 'the model defaults'}")
    if workflow.get("train_vision") or workflow.get("train_projector"):
        method += " (vision encoder / projector trained too)"
    rows = [
        ("Model", f"`{config.get('model_id', UNRECORDED)}` (VLM Studio catalog id)"),
        ("Method", method),
        ("Workflow", config.get("workflow") or record.workflow_name or UNRECORDED),
        ("Training data", _split(dataset, "train")),
        ("Validation data", _split(dataset, "val")),
        ("Data content hash", f"`{dataset['content_hash']}`" if dataset.get("content_hash") else UNRECORDED),
        ("Epochs", _value(workflow.get("epochs"))),
        ("Steps / samples seen", f"{_value(summary.get('steps'))} / {_value(summary.get('samples'))}"),
        ("Learning rate / schedule", f"{_value(workflow.get('lr'))} / {workflow.get('schedule', UNRECORDED)}"),
        ("Batch (x accumulation)", f"{_value(workflow.get('batch_size'))} x {_value(workflow.get('grad_accum'))}"),
        ("Seed", _value(config.get("seed"))),
        ("Best validation loss", _value(summary.get("best_val_loss"))),
        ("Training time", f"{summary['train_seconds']:,} s" if summary.get("train_seconds") is not None
         else UNRECORDED),
        ("Libraries", ", ".join(f"{k} {v}" for k, v in (config.get("versions") or {}).items()) or UNRECORDED),
    ]
    lines = ["## Training", "", "| | |", "|---|---|", *(f"| {key} | {value} |" for key, value in rows), ""]
    evaluations = summary.get("evaluation") or {}
    if evaluations:
        lines += ["### Evaluation", "", "| Evaluation | Samples | Metrics |", "|---|---|---|"]
        for key, result in evaluations.items():
            numbers = ", ".join(f"{name} {value:.3f}" for name, value in result.items()
                                if isinstance(value, float) and math.isfinite(value))
            lines.append(f"| {key} | {result.get('samples', UNRECORDED)} | {numbers or UNRECORDED} |")
        lines.append("")
    else:
        lines += ["Not evaluated in VLM Studio yet (Evaluate page, or `vlm-studio evaluate`).", ""]
    return lines


def _split(dataset: dict[str, Any], split: str) -> str:
    if f"{split}_samples" not in dataset:
        return UNRECORDED
    return (f"{len(dataset.get(f'{split}_image_ids') or []):,} images, "
            f"{dataset[f'{split}_samples']:,} samples (split `{split}`)")


def _value(value: Any) -> str:
    if value is None:
        return UNRECORDED
    return f"{value:,.4g}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else str(value)


def _prompting(meta: dict[str, Any], task_mix: dict[str, Any]) -> list[str]:
    system = meta.get("system_prompts") or {}
    lines = [
        "## Prompt format",
        "",
        "Use the chat template in this folder (`chat_template.jinja`). Each conversation is: a system message with "
        "the task's system prompt (also in `system_prompt_<task>.txt`), a user message with the image first and "
        "then the text, and the assistant's answer.",
        "",
    ]
    for task in prompts.TASKS:
        text = system.get(task) or prompts.system_prompt(task)
        lines += [f"System prompt for {task}:", "", "```text", text, "```", ""]
    lines += [
        "User prompts it was trained on:",
        "",
        f"- one phrase: {', '.join(f'`{p}`' for p in prompts.PHRASE_PROMPTS)} (`the` added before a bare noun)",
        f"- every phrase of a caption: `{prompts.CAPTION_PROMPT}`",
        *([f"- every labelled object: `{prompts.DETECTION_PROMPT}`"] if task_mix.get("detection") else []),
        "- a question: the question itself (the answer is short text)",
        "",
    ]
    return lines


def _boxes(adapter: Adapter, settings: VisionSettings) -> list[str]:
    entry = adapter.entry
    width, height = EXAMPLE_SIZE
    answer = adapter.write_boxes([("red circle", [EXAMPLE_BOX])], width, height, settings)
    box_map = adapter.box_map(width, height, settings)
    if entry.box_convention.startswith("qwen_json_abs"):
        rule = ("corners in pixels of the image the model sees after the processor's resize (below): multiply x by "
                "original width / resized width, y by original height / resized height to get original pixels")
    else:
        scale = box_map.limit_x
        rule = (f"corners relative to the image, 0-{scale:g} on each axis whatever its size: x pixels = "
                f"x * width / {scale:g}, y pixels = y * height / {scale:g}")
    return [
        "## Boxes",
        "",
        f"Convention `{entry.box_convention}`: {rule}. Corners are (x1, y1, x2, y2), top-left and bottom-right.",
        "",
        f"For example, a {width} x {height} image with a red circle at pixels "
        f"({', '.join(f'{v:g}' for v in EXAMPLE_BOX)}) is answered:",
        "",
        "```json",
        answer,
        "```",
        "",
    ]


def _preprocessing(adapter: Adapter, settings: VisionSettings) -> list[str]:
    vision = adapter.entry.vision
    lines = ["## Image preprocessing", "",
             "Apply the file's EXIF orientation first (`PIL.ImageOps.exif_transpose`) and convert to RGB: boxes are "
             "in the upright image's frame."]
    if vision.square:
        side = math.isqrt(settings.max_pixels)
        lines += [
            "",
            f"**Then stretch every image to {side} x {side} pixels (bicubic), ignoring its aspect ratio, before "
            "passing it to the processor.** The model was trained and is evaluated on that square only; the "
            "processor's own resize keeps the aspect ratio (it cannot stretch), so without this step a non-square "
            "image reaches the model on a different grid and the answers differ from the app's. Boxes are relative, "
            "so they apply to the original image unchanged.",
            "",
            "```python",
            "from PIL import Image, ImageOps",
            "",
            f"image = ImageOps.exif_transpose(Image.open(path)).convert('RGB').resize(({side}, {side}), "
            "Image.Resampling.BICUBIC)",
            "```",
        ]
    elif vision.kind == "dynamic_resolution":
        lines += ["", f"The processor configuration in this folder resizes as in training (min_pixels "
                      f"{settings.min_pixels:,}, max_pixels {settings.max_pixels:,}); keep those settings."]
    else:
        lines += ["", f"The processor configuration in this folder tiles as in training (up to "
                      f"{settings.max_tiles} tiles); keep that setting."]
    return [*lines, ""]
