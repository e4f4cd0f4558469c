"""A quick localisation check of a model in memory (pre-training's held-out score): batched greedy answers
through `studio.inference.Predictor`, scored with `studio.evaluation` like a run's evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from studio.adapters.samples import Sample


def grounding_iou(
    model: Any,
    processor: Any,
    adapter: Any,
    items: Sequence[tuple[Sample, Any]],
    *,
    batch_size: int = 32,
    max_new_tokens: int = 128,
) -> dict[str, float]:
    """Mean phrase IoU, F1 at IoU 0.5 and the unparseable rate of the grounding samples among ``items``."""
    from studio.evaluation.run_eval import score_answers
    from studio.inference.loading import Loaded
    from studio.inference.predictor import Predictor

    grounding = [(s, image) for s, image in items if s.task == "grounding"]
    meta = {"model_id": adapter.entry.id, "mode": "in-memory", "step": 0, "system_prompts": {}}
    predictor = Predictor(Loaded(model, processor, adapter, meta), use_cache=False)
    was_training = model.training
    model.eval()
    answers: list[Any] = []
    try:
        for start in range(0, len(grounding), batch_size):
            chunk = grounding[start : start + batch_size]
            answers += predictor.generate_batch([s for s, _ in chunk], [im for _, im in chunk],
                                                max_new_tokens=max_new_tokens)
    finally:
        model.train(was_training)
    metrics, _ = score_answers(predictor, [s for s, _ in grounding], [a.text for a in answers],
                               [a.confidence for a in answers])
    g = metrics["grounding"]
    return {
        "mean_iou": g.get("mean_phrase_iou", 0.0),
        "f1@0.5": g.get("f1@0.5", 0.0),
        "unparseable_rate": g.get("unparseable_rate", 0.0),
        "samples": len(grounding),
    }
