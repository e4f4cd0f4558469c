"""Training samples built from the store's annotations; the adapters turn them into chat text and tensors."""

from __future__ import annotations

from dataclasses import dataclass

from studio.adapters import prompts
from studio.dataset.model import Annotation

XYXY = tuple[float, float, float, float]


@dataclass(frozen=True)
class GroundedPhrase:
    """A phrase and its boxes in original-image pixels."""

    text: str
    boxes: tuple[XYXY, ...]


@dataclass(frozen=True)
class Sample:
    """One supervised example: an image, a prompt and a target (boxes for grounding, text for VQA)."""

    image_id: int
    image_path: str
    width: int
    height: int
    task: str  # "grounding" or "vqa"
    prompt: str
    phrases: tuple[GroundedPhrase, ...] = ()
    answer: str = ""  # the VQA answer; grounding answers are written by the adapter from ``phrases``

    def __post_init__(self) -> None:
        if self.task not in prompts.TASKS:
            raise ValueError(f"unknown task {self.task!r}; expected one of {', '.join(prompts.TASKS)}")


@dataclass(frozen=True)
class TaskMix:
    """Which samples one annotated image yields."""

    caption: bool = True  # one grounding sample per caption: every linked phrase and its boxes
    phrases: bool = True  # one grounding sample per linked phrase
    vqa: bool = True  # one sample per question/answer pair
    detection: bool = False  # one grounding sample of every labelled box, named by its label (needs ``labels``)


def samples_from_annotation(
    annotation: Annotation, task_mix: TaskMix | None = None, labels: dict[int, str] | None = None
) -> list[Sample]:
    """The samples of one image, in a stable order: caption, phrases, detection, then VQA pairs. Phrases without
    boxes, empty questions or answers, and (for detection) boxes without a label in ``labels`` yield nothing."""
    mix = task_mix or TaskMix()
    image = annotation.image
    boxes = {box.id: box.xyxy for box in annotation.boxes}
    grounded = [
        GroundedPhrase(p.text, tuple(boxes[i] for i in p.box_ids if i in boxes))
        for p in sorted(annotation.phrases, key=lambda p: (p.start, p.end))
    ]
    grounded = [g for g in grounded if g.boxes and g.text.strip()]
    base = {"image_id": image.id, "image_path": image.path, "width": image.width, "height": image.height}
    samples: list[Sample] = []
    if mix.caption and grounded and annotation.caption.strip():
        samples.append(
            Sample(
                **base,
                task="grounding",
                prompt=prompts.caption_prompt(annotation.caption),
                phrases=tuple(grounded),
            )
        )
    if mix.phrases:
        samples.extend(
            Sample(**base, task="grounding", prompt=prompts.phrase_prompt(g.text), phrases=(g,))
            for g in grounded
        )
    if mix.detection and labels:
        named: dict[str, list] = {}
        for box in sorted(annotation.boxes, key=lambda b: b.id):
            if box.label_id in labels:
                named.setdefault(labels[box.label_id], []).append(box.xyxy)
        if named:
            detected = tuple(GroundedPhrase(name, tuple(boxes)) for name, boxes in named.items())
            samples.append(Sample(**base, task="grounding", prompt=prompts.DETECTION_PROMPT, phrases=detected))
    if mix.vqa:
        samples.extend(
            Sample(**base, task="vqa", prompt=pair.question.strip(), answer=pair.answer.strip())
            for pair in sorted(annotation.vqa, key=lambda p: p.position)
            if pair.question.strip() and pair.answer.strip()
        )
    return samples
