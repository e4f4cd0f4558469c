"""Reviewing a project with a trained run: the run's best checkpoint answers, for each image, its caption's
grounding prompt, a grounding prompt for each label of a box no phrase names, and every question; ``scoring`` turns
the answers into suspected mistakes, stored per batch of images in the review queue (``items``).

Resumable: the images a run has reviewed are recorded with their items in one transaction, and a later call skips
them (``restart`` reviews them again, keeping what a person decided about the same findings). Cancellable
between batches; what was stored stays.

Images the run was trained on. A model grades the annotations it was trained on too kindly: it may have learnt a
wrong box or answer by heart, and then agrees with it. Their items are flagged ``seen_in_training`` in the
evidence and their scores are *not* discounted: a model that contradicts an annotation it was trained on is, if
anything, surer than on one it never saw; memorising costs recall (errors it learnt go unflagged), not precision.
Review only held-out images with ``split="val"`` (or ``image_ids``); ``bench/bench_review.py`` measures the recall
on trained-on and held-out images apart. Cross-fitting (training K runs, each on all folds but one, and reviewing
each fold with the run that did not see it) would remove the bias at K trainings' cost.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from studio.adapters import Sample, TaskMix, load_image, prompts, samples_from_annotation
from studio.dataset.model import Annotation
from studio.dataset.store import Project
from studio.evaluation.vqa import normalise
from studio.inference.predictor import BatchAnswer, Predictor
from studio.jobs import CancelToken, Progress, no_progress
from studio.review import items as store
from studio.review.scoring import (
    AnswerCheck,
    GroundingAnswer,
    ImagePredictions,
    PredictedBox,
    score_image,
    written_boxes,
)
from studio.training.runs import Run, find_run

BATCH_IMAGES = 32
GENERATION_BATCH = 32
MAX_NEW_TOKENS = 256


@dataclass
class ReviewSummary:
    run_id: int
    run_name: str
    images: int = 0  # reviewed by this call
    skipped: int = 0  # reviewed before, not again
    items_by_kind: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    cancelled: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "run": self.run_name, "images": self.images, "skipped": self.skipped,
            "items_by_kind": self.items_by_kind, "found": sum(self.items_by_kind.values()),
            "seconds": round(self.seconds, 2), "cancelled": self.cancelled,
        }  # fmt: skip


def review_project(
    project: Project,
    run: str | int,
    *,
    image_ids: Iterable[int] | None = None,
    split: str | None = None,
    restart: bool = False,
    predictor: Predictor | None = None,
    batch_images: int = BATCH_IMAGES,
    threads: int | None = None,
    max_new_tokens: int = MAX_NEW_TOKENS,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> ReviewSummary:
    """Review the images (``image_ids``, else the ``split``, else every annotated image) with ``run``; returns
    what this call did. A cancel stops between batches and returns with ``cancelled`` set. ``threads`` sets
    torch's CPU threads (0: cores - 1; None: leave them)."""
    record = find_run(project, run)
    started = time.perf_counter()
    summary = ReviewSummary(record.id, record.name)
    wanted = _image_ids(project, image_ids, split)
    if restart:
        store.forget_reviewed(project, record.id, wanted)
    done = store.reviewed_image_ids(project, record.id)
    todo = [i for i in wanted if i not in done]
    summary.skipped = len(wanted) - len(todo)
    if not todo:
        progress(len(wanted), len(wanted), "every image already reviewed")
        summary.seconds = time.perf_counter() - started
        return summary
    progress(summary.skipped, len(wanted), "loading the model")
    if threads is not None:
        import torch

        from studio.training.device import default_threads

        torch.set_num_threads(threads or default_threads())
    predictor = predictor or Predictor.from_run(project, record.id)
    seen = set(record.config.get("dataset", {}).get("train_image_ids", []))
    reviewer = _Reviewer(project, predictor, seen, localisation(record), max_new_tokens)
    for start in range(0, len(todo), batch_images):
        if cancel is not None and cancel.cancelled:
            summary.cancelled = True
            break
        chunk = todo[start : start + batch_images]
        found = reviewer.review([project.annotation(i) for i in chunk])
        store.store_review(project, record.id, chunk, found)
        summary.images += len(chunk)
        for item in found:
            summary.items_by_kind[item.kind] = summary.items_by_kind.get(item.kind, 0) + 1
        progress(summary.skipped + summary.images, len(wanted), f"reviewed {summary.images:,} images")
    summary.seconds = time.perf_counter() - started
    return summary


def localisation(record: Run) -> float | None:
    """How well the run usually places boxes: its evaluation's mean phrase IoU on val, if it has one."""
    evaluation = (record.summary.get("evaluation") or {}).get("val") or {}
    value = (evaluation.get("grounding") or {}).get("mean_phrase_iou")
    return float(value) if value else None


def _image_ids(project: Project, image_ids: Iterable[int] | None, split: str | None) -> list[int]:
    if image_ids is not None:
        return list(dict.fromkeys(image_ids))
    if split is not None:
        return [image.id for image in project.images(split=split)]
    rows = project.conn.execute(
        "SELECT id FROM images i WHERE EXISTS (SELECT 1 FROM boxes b WHERE b.image_id = i.id)"
        " OR EXISTS (SELECT 1 FROM vqa v WHERE v.image_id = i.id AND v.answer != '') ORDER BY id"
    )
    return [i for (i,) in rows]


@dataclass(frozen=True)
class Query:
    """One prompt about one image: a grounding question (caption or label) or an annotated question."""

    image: int
    kind: str  # "caption", "label" or "vqa"
    subject: str  # the caption, the label, or the vqa id as text
    sample: Sample


class _Reviewer:
    def __init__(
        self, project: Project, predictor: Predictor, seen: set[int], localisation: float | None, max_new_tokens: int
    ) -> None:
        self.project = project
        self.max_new_tokens = max_new_tokens
        self.predictor = predictor
        self.seen = seen
        self.localisation = localisation

    def review(self, annotations: Sequence[Annotation]) -> list[store.NewReviewItem]:
        labels = self.project.labels()
        names = {label.id: label.name for label in labels}
        queries = [q for a in annotations for q in queries_for(a, names)]
        answers = self._answers(queries)
        checks = self._answer_checks(queries, answers)
        corners = self._annotated_corners(annotations)
        found = []
        for annotation in annotations:
            image = annotation.image
            mine = [(q, a) for q, a in zip(queries, answers, strict=True) if q.image == image.id]
            predicted = ImagePredictions(
                image.id,
                grounding=tuple(self._grounding(q, a) for q, a in mine if q.kind != "vqa"),
                answers=tuple(checks[q.subject] for q, _ in mine if q.kind == "vqa"),
                seen_in_training=image.id in self.seen,
                annotated_corners={b.id: corners[b.id] for b in annotation.boxes if b.id in corners},
            )
            found += score_image(annotation, labels, predicted, localisation=self.localisation)
        return found

    def _answers(self, queries: Sequence[Query]) -> list[BatchAnswer]:
        """Greedy answers in batches of one task (VQA answers are short; grounding ones long)."""
        order = sorted(range(len(queries)), key=lambda i: (queries[i].sample.task, i))
        found: dict[int, BatchAnswer] = {}
        for start in range(0, len(order), GENERATION_BATCH):
            chunk = order[start : start + GENERATION_BATCH]
            samples = [queries[i].sample for i in chunk]
            images = [load_image(s.image_path) for s in samples]
            found.update(zip(chunk, self.predictor.generate_batch(samples, images, max_new_tokens=self.max_new_tokens),
                             strict=True))  # fmt: skip
        return [found[i] for i in range(len(queries))]

    def _answer_checks(self, queries: Sequence[Query], answers: Sequence[BatchAnswer]) -> dict[str, AnswerCheck]:
        """Each question's model answer against the annotated one; the annotated answer's probability is the model
        answer's when they agree, else computed teacher-forced."""
        checks, disagree = {}, []
        for query, answer in zip(queries, answers, strict=True):
            if query.kind != "vqa":
                continue
            probability = math.exp(sum(answer.logprobs)) if answer.logprobs else answer.confidence
            if normalise(answer.text) == normalise(query.sample.answer):
                checks[query.subject] = AnswerCheck(int(query.subject), answer.text, probability, probability)
            else:
                disagree.append((query, answer, probability))
        for start in range(0, len(disagree), GENERATION_BATCH):
            chunk = disagree[start : start + GENERATION_BATCH]
            samples = [q.sample for q, _, _ in chunk]
            annotated = self.predictor.answer_probabilities(samples, [load_image(s.image_path) for s in samples])
            for (query, answer, probability), given in zip(chunk, annotated, strict=True):
                checks[query.subject] = AnswerCheck(int(query.subject), answer.text, probability, given)
        return checks

    def _grounding(self, query: Query, answer: BatchAnswer) -> GroundingAnswer:
        parse, decode = self._parse_and_decode(query.sample)

        boxes = parse(answer.text)
        confidences = box_confidences(answer, decode, parse) if boxes else []
        corners = corner_plausibilities(answer, decode, parse) if boxes else []
        predicted = tuple(
            PredictedBox(b.label, b.box, c, p) for b, c, p in zip(boxes, confidences, corners, strict=True)
        )
        return GroundingAnswer(query.kind, query.subject, predicted, answer.confidence)

    def _parse_and_decode(self, sample: Sample) -> tuple[Callable[[str], list[Any]], Callable[[Sequence[int]], str]]:
        predictor = self.predictor

        def parse(text: str) -> list[Any]:
            return predictor.adapter.parse_boxes(text, sample.width, sample.height, predictor.settings).boxes

        def decode(tokens: Sequence[int]) -> str:
            return predictor.processor.tokenizer.decode(list(tokens), skip_special_tokens=True)

        return parse, decode

    def _annotated_corners(self, annotations: Sequence[Annotation]) -> dict[int, float]:
        """How plausible the model finds each linked box's annotated corners: its caption's answer as training writes
        it, teacher-forced, box by box."""
        written = []
        for annotation in annotations:
            samples = samples_from_annotation(annotation, TaskMix(caption=True, phrases=False, vqa=False))
            if samples:
                written.append((samples[0], [box_id for _, box_id in written_boxes(annotation)]))
        found: dict[int, float] = {}
        for start in range(0, len(written), GENERATION_BATCH):
            chunk = written[start : start + GENERATION_BATCH]
            samples = [sample for sample, _ in chunk]
            scored = self.predictor.score_answers(samples, [load_image(s.image_path) for s in samples])
            for (sample, box_ids), answer in zip(chunk, scored, strict=True):
                parse, decode = self._parse_and_decode(sample)
                plausible = corner_plausibilities(answer, decode, parse)
                if len(plausible) != len(box_ids):
                    continue  # the answer does not read back box for box: no evidence
                for box_id, value in zip(box_ids, plausible, strict=True):
                    if value is not None:
                        found[box_id] = min(value, found.get(box_id, value))
        return found


def queries_for(annotation: Annotation, label_names: dict[int, str]) -> list[Query]:
    """The prompts that check an image's annotations: its caption (when it has phrases), each label
    of a box no phrase names, and each answered question."""
    image = annotation.image
    base = {"image_id": image.id, "image_path": image.path, "width": image.width, "height": image.height}
    queries = []
    linked = {box_id for phrase in annotation.phrases for box_id in phrase.box_ids}
    caption = annotation.caption.strip()
    if caption and annotation.phrases:
        queries.append(Query(image.id, "caption", caption,
                              Sample(**base, task="grounding", prompt=prompts.caption_prompt(caption))))  # fmt: skip
    asked = dict.fromkeys(
        label_names[box.label_id]
        for box in sorted(annotation.boxes, key=lambda b: b.id)
        if box.id not in linked and box.label_id in label_names
    )
    for label in asked:
        queries.append(Query(image.id, "label", label,
                              Sample(**base, task="grounding", prompt=prompts.phrase_prompt(label))))  # fmt: skip
    for pair in sorted(annotation.vqa, key=lambda p: p.position):
        if pair.question.strip() and pair.answer.strip():
            sample = Sample(**base, task="vqa", prompt=pair.question.strip(), answer=pair.answer.strip())
            queries.append(Query(image.id, "vqa", str(pair.id), sample))
    return queries


def box_confidences(
    answer: BatchAnswer, decode: Callable[[Sequence[int]], str], parse: Callable[[str], list[Any]]
) -> list[float]:
    """Each box's confidence that it is there with its label: the product of the probabilities of the tokens that
    wrote it, leaving out tokens with digits (how precisely the corners are written is the IoU's business, not the
    box's existence)."""
    return [math.exp(sum(words)) if words else answer.confidence for words, _ in box_tokens(answer, decode, parse)]


def corner_plausibilities(
    answer: BatchAnswer, decode: Callable[[Sequence[int]], str], parse: Callable[[str], list[Any]]
) -> list[float | None]:
    """Each box's corners' plausibility: the geometric mean probability of the tokens with digits that wrote it."""
    return [math.exp(sum(digits) / len(digits)) if digits else None for _, digits in box_tokens(answer, decode, parse)]


def box_tokens(
    answer: BatchAnswer, decode: Callable[[Sequence[int]], str], parse: Callable[[str], list[Any]]
) -> list[tuple[list[float], list[float]]]:
    """For each box of an answer, the log probabilities of the tokens that wrote it, split into word tokens and
    tokens with digits. A box's tokens run from the end of the previous box to the token after which the box reads
    as it finally does (its label included)."""
    tokens, logprobs = answer.tokens, answer.logprobs
    final = parse(decode(tokens))
    if not final or not tokens:
        return [([], []) for _ in final]
    ends: list[int] = []
    for t in range(1, len(tokens) + 1):
        boxes = parse(decode(tokens[:t]))
        while len(ends) < len(final) and len(boxes) > len(ends) and boxes[len(ends)] == final[len(ends)]:
            ends.append(t)
        if len(ends) == len(final):
            break
    ends += [len(tokens)] * (len(final) - len(ends))
    digits = [any(c.isdigit() for c in decode([token])) for token in tokens]
    segments, start = [], 0
    for end in ends:
        span = range(start, end)
        segments.append(([logprobs[n] for n in span if not digits[n]], [logprobs[n] for n in span if digits[n]]))
        start = max(start, end)
    return segments
