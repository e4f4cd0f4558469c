"""Model-assisted labelling: ask a model for every label's boxes (and the answers of unanswered questions) on
selected or unannotated images, in batches, and store what it says as suggestions to accept or reject."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from studio.adapters import Sample, load_image, prompts
from studio.dataset.predictions import NewSuggestion, add_suggestions, clear_suggestions
from studio.dataset.store import Project
from studio.inference.predictor import Predictor
from studio.jobs import CancelToken, Progress, no_progress


def unannotated_images(project: Project) -> list[int]:
    """Images without any box."""
    return [row[0] for row in project.conn.execute(
        "SELECT id FROM images WHERE id NOT IN (SELECT DISTINCT image_id FROM boxes) ORDER BY id")]


def labelling_samples(project: Project, image_id: int, labels: Sequence[str]) -> list[Sample]:
    """One grounding prompt per label, and one VQA prompt per question still without an answer."""
    image = project.image(image_id)
    base = {"image_id": image.id, "image_path": image.path, "width": image.width, "height": image.height}
    samples = [Sample(**base, task="grounding", prompt=prompts.phrase_prompt(name, 0), phrases=())
               for name in labels]
    samples += [Sample(**base, task="vqa", prompt=pair.question.strip())
                for pair in project.vqa(image_id) if pair.question.strip() and not pair.answer.strip()]
    return samples


def suggest(
    project: Project,
    predictor: Predictor,
    image_ids: Sequence[int] | None = None,
    *,
    labels: Sequence[str] | None = None,
    run_id: int | None = None,
    batch_size: int = 8,
    max_new_tokens: int = 128,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> dict[str, Any]:
    """Suggest boxes for ``labels`` (default: every project label) and answers on ``image_ids`` (default: the
    unannotated images). Earlier open suggestions of those images are replaced. Returns counts."""
    ids = list(image_ids) if image_ids is not None else unannotated_images(project)
    names = list(labels) if labels is not None else [label.name for label in project.labels()]
    if not names:
        raise ValueError(f"{project.folder}: no labels yet; add the labels to look for first")
    samples = [s for i in ids for s in labelling_samples(project, i, names)]
    clear_suggestions(project, ids)
    label_of = {prompts.phrase_prompt(name, 0): name for name in names}
    stored = {"images": len(ids), "prompts": len(samples), "boxes": 0, "answers": 0}
    progress(0, len(samples), "suggesting")
    for start in range(0, len(samples), batch_size):
        if cancel is not None:
            cancel.raise_if_cancelled()
        chunk = samples[start:start + batch_size]
        answers = predictor.generate_batch(chunk, [load_image(s.image_path) for s in chunk],
                                           max_new_tokens=max_new_tokens)
        new: list[NewSuggestion] = []
        for sample, answer in zip(chunk, answers, strict=True):
            if sample.task == "vqa":
                if answer.text:
                    new.append(NewSuggestion(sample.image_id, "answer", sample.prompt, text=answer.text,
                                             score=answer.confidence))
                continue
            parsed = predictor.adapter.parse_boxes(answer.text, sample.width, sample.height, predictor.settings)
            new += [NewSuggestion(sample.image_id, "box", label_of[sample.prompt], box=b.box, text=answer.text,
                                  score=answer.confidence) for b in parsed.boxes]
        add_suggestions(project, new, run_id)
        stored["boxes"] += sum(s.kind == "box" for s in new)
        stored["answers"] += sum(s.kind == "answer" for s in new)
        progress(start + len(chunk), len(samples), f"{stored['boxes']:,} boxes suggested")
    return stored
