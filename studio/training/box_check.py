"""A quick localisation check used by training: batched greedy answers for grounding samples and their mean IoU
against the ground truth (each true box matched to at most one predicted box, unmatched true boxes score 0).

A small local metric for training reports; the project-level evaluation lives in studio/evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from studio.adapters.samples import Sample
from studio.training.batching import collate, to_device

XYXY = tuple[float, float, float, float]


def box_iou(a: XYXY, b: XYXY) -> float:
    """Intersection over union of two boxes in pixels (edges exclusive, like the store's boxes)."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def matched_ious(predicted: Sequence[XYXY], truth: Sequence[XYXY]) -> list[float]:
    """One IoU per true box: greedy one-to-one matching by decreasing IoU; unmatched true boxes get 0."""
    pairs = sorted(((box_iou(p, t), i, j) for i, p in enumerate(predicted) for j, t in enumerate(truth)), reverse=True)
    best = [0.0] * len(truth)
    used_p: set[int] = set()
    used_t: set[int] = set()
    for iou, i, j in pairs:
        if iou > 0 and i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            best[j] = iou
    return best


def generate_answers(
    model: Any,
    processor: Any,
    adapter: Any,
    items: Sequence[tuple[Sample, Any]],
    *,
    settings: Any = None,
    system_prompts: dict[str, str] | None = None,
    batch_size: int = 16,
    max_new_tokens: int = 96,
) -> list[str]:
    """Greedy answers (left-padded batches) to each (sample, image) prompt, decoded without special tokens."""
    import torch

    device = next(model.parameters()).device
    tokenizer = processor.tokenizer
    prompts = system_prompts or {}
    answers: list[str] = []
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            encoded = []
            for sample, image in chunk:
                inputs = adapter.prompt_inputs(
                    sample, processor, image=image, settings=settings, system_prompt=prompts.get(sample.task)
                )
                encoded.append(
                    {
                        "input_ids": inputs["input_ids"][0],
                        "attention_mask": inputs["attention_mask"][0],
                        "mm_token_type_ids": inputs["mm_token_type_ids"][0],
                        "pixel_values": inputs["pixel_values"],
                        "image_grid_thw": inputs["image_grid_thw"],
                    }
                )
            batch = to_device(collate(encoded, tokenizer.pad_token_id, padding_side="left"), device)
            with torch.no_grad():
                out = model.generate(
                    **batch,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=tokenizer.pad_token_id,
                    eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
                )
            new = out[:, batch["input_ids"].shape[1] :]
            answers.extend(tokenizer.batch_decode(new, skip_special_tokens=True))
    finally:
        model.train(was_training)
    return answers


def grounding_iou(
    model: Any, processor: Any, adapter: Any, items: Sequence[tuple[Sample, Any]], **kwargs: Any
) -> dict[str, float]:
    """Mean IoU over the true boxes of the grounding samples among ``items`` and the share above 0.5."""
    grounding = [(s, im) for s, im in items if s.task == "grounding"]
    if not grounding:
        return {"mean_iou": 0.0, "iou_over_0_5": 0.0, "boxes": 0, "samples": 0}
    answers = generate_answers(model, processor, adapter, grounding, **kwargs)
    ious: list[float] = []
    for (sample, _image), text in zip(grounding, answers, strict=True):
        parsed = adapter.parse_boxes(text, sample.width, sample.height, kwargs.get("settings"))
        truth = [box for phrase in sample.phrases for box in phrase.boxes]
        ious.extend(matched_ious([b.box for b in parsed.boxes], truth))
    return {
        "mean_iou": sum(ious) / len(ious),
        "iou_over_0_5": sum(v > 0.5 for v in ious) / len(ious),
        "boxes": len(ious),
        "samples": len(grounding),
    }
