"""The "training text" preview: for one image and model, the exact chat text and target of every sample the
trainer builds, and the boxes parsed back from that target (what the model is taught to write)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from studio.adapters import get_adapter, samples_from_annotation
from studio.adapters.base import Adapter, VisionSettings
from studio.adapters.boxes import ParsedBox
from studio.adapters.samples import TaskMix
from studio.dataset.model import Annotation
from studio.jobs import CancelToken, Progress, no_progress


@dataclass(frozen=True)
class PreviewSample:
    task: str
    request: str  # the user's prompt inside the chat text
    prompt: str  # the chat text before the answer (masked in training)
    target: str  # what the model learns: the answer and its end token
    boxes: list[ParsedBox] = field(default_factory=list)  # parsed back from ``target``, original-image pixels
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"task": self.task, "request": self.request, "prompt": self.prompt, "target": self.target,
                "problems": self.problems,
                "boxes": [{"label": b.label, "box": [round(v, 2) for v in b.box]} for b in self.boxes]}


def preview_samples(
    adapter: Adapter, processor: Any, annotation: Annotation, settings: VisionSettings | None = None,
    task_mix: TaskMix | None = None,
) -> list[PreviewSample]:
    """Every sample of ``annotation`` as the trainer will see it."""
    image = annotation.image
    out = []
    for sample in samples_from_annotation(annotation, task_mix):
        text = adapter.training_text(sample, processor, settings)
        parsed = adapter.parse_boxes(text.target, image.width, image.height, settings) \
            if sample.task == "grounding" else None
        out.append(PreviewSample(sample.task, sample.prompt, text.prompt, text.target, parsed.boxes if parsed else [],
                                 parsed.problems if parsed else []))
    return out


@lru_cache(maxsize=4)
def cached_processor(model_id: str) -> Any:
    """The model's processor (chat template and tokenizer), loaded once per process."""
    return get_adapter(model_id).load_processor()


def load_preview(
    folder: str | Path, image_id: int, model_id: str, settings: VisionSettings | None = None, *,
    progress: Progress = no_progress, cancel: CancelToken | None = None,
) -> tuple[Annotation, list[PreviewSample]]:
    """`preview_samples` for one image of a project folder (its own read-only connection: safe in a worker)."""
    from studio.dataset.store import Project

    progress(0, 2, "loading the model's chat template")
    processor = cached_processor(model_id)
    if cancel is not None:
        cancel.raise_if_cancelled()
    with Project.open(folder, read_only=True) as project:
        annotation = project.annotation(image_id)
    progress(1, 2, "building the training text")
    return annotation, preview_samples(get_adapter(model_id), processor, annotation, settings)
