"""Inference: loading checkpoints and base models, the `Predictor` (streaming, boxes in original pixels, image
encoding reuse), batch pre-labelling and model export."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from studio.inference.predictor import Predictor


def load_run(project: Any, run: str | int, checkpoint: str = "best", **kwargs: Any) -> Predictor:
    """A `Predictor` for a run's checkpoint (``best``, ``last`` or ``step-…``)."""
    from studio.inference.predictor import Predictor

    return Predictor.from_run(project, run, checkpoint, **kwargs)


def __getattr__(name: str) -> Any:
    if name in ("Predictor", "Prediction"):
        from studio.inference import predictor

        return getattr(predictor, name)
    if name == "GenerationSettings":
        from studio.inference.generation import GenerationSettings

        return GenerationSettings
    raise AttributeError(name)
