"""Scoring an image's annotations against a model's predictions: which boxes, labels, answers and phrase links are
probably wrong, each with a score in 0..1 and the model's suggestion as evidence. Pure: no model, no store.

What the model was asked (``run_review`` asks it): the image's caption ("locate every phrase of this caption"),
each label of a box no phrase names ("locate the red ball"), and every question. A box is judged only when a
question covered it (its phrase was in the caption, or its label was asked for), so a box the caption never
mentions is not called spurious for want of a prediction.

The scores (FiftyOne's mistakenness and cleanlab's overlooked / swap / bad-location scores, adapted: predictions
are labelled phrases, not classes with probabilities, so a box's confidence is its own tokens' probability):

- ``wrong_label``: a prediction overlaps the box (IoU >= 0.5) and names another of the project's labels:
  the prediction's confidence. Also along the phrase link: the box's phrase names another label and the model
  grounds that phrase: its confidence x how readily it would have written the annotated corners
  (their probability against its own box's, at most 1).
- ``misplaced``: no prediction overlaps the box well, but one of its phrase (anywhere) or of its label (near it)
  lies on no other annotated box: confidence x how far the IoU falls short of what the model usually reaches on the
  project (``localisation``: its mean IoU on boxes it found; 1 - IoU when unknown) x how many decades less likely
  the model finds the annotated corners than its own (``UNLIKELY``: 3 decades, sure).
- ``spurious``: nothing predicted overlaps the box although its phrase or label was asked for: the
  confidence of that answer (the model was sure it had said everything) x (1 - best IoU).
- ``missing``: a prediction overlaps no box: its confidence x (1 - best IoU with any box).
- ``wrong_link``: a phrase's prediction matches an existing box the phrase is not linked to, while a box it is
  linked to is matched by another phrase's prediction (the boxes are right, the link is not): the prediction's
  confidence.
- ``wrong_answer``: 1 - the probability the model gives the annotated answer (teacher-forced, the whole answer
  and its end token), reported when its own answer differs; the evidence holds its answer and that answer's
  probability.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from studio.dataset.label_match import LabelIndex, label_key
from studio.dataset.model import Annotation, Box, Label
from studio.evaluation.vqa import normalise
from studio.review.items import NewReviewItem, box_iou

XYXY = tuple[float, float, float, float]
MATCH_IOU = 0.5  # a prediction and a box are the same object from here on (COCO's threshold)
UNLIKELY = 1000.0  # annotated corners this many times less likely than the model's own: surely misplaced
MIN_SCORE = 0.05  # findings below this are not stored: the queue is for people
_NUMBER_WORDS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "some", "many"}


@dataclass(frozen=True)
class PredictedBox:
    """A box the model gave, in original-image pixels, with the label it wrote and its own confidence (the
    geometric mean of the probabilities of the tokens that wrote it)."""

    label: str
    box: XYXY
    confidence: float
    corners: float | None = None  # the geometric mean probability of the tokens that wrote its corners


@dataclass(frozen=True)
class GroundingAnswer:
    """One grounding question and the model's answer: ``subject`` is the caption (``kind`` "caption") or the label
    asked for (``kind`` "label"); ``confidence`` is the whole answer's, also when it holds no box."""

    kind: str
    subject: str
    boxes: tuple[PredictedBox, ...]
    confidence: float


@dataclass(frozen=True)
class AnswerCheck:
    """A question's annotated answer against the model's: its own greedy answer and that answer's probability,
    and the probability it gives the annotated answer."""

    vqa_id: int
    answer: str
    answer_probability: float
    annotated_probability: float


@dataclass(frozen=True)
class ImagePredictions:
    image_id: int
    grounding: tuple[GroundingAnswer, ...] = ()
    answers: tuple[AnswerCheck, ...] = ()
    seen_in_training: bool = False
    # box id -> the geometric mean probability the model gives the tokens of its annotated corners (teacher-forced)
    annotated_corners: Mapping[int, float] = field(default_factory=dict)


@dataclass
class _Pred:
    """A predicted box while scoring: which phrase of the caption and which project label it names."""

    box: PredictedBox
    phrase_ids: frozenset[int]
    label: Label | None
    off_caption: bool = False  # a caption answer's box whose label names none of the caption's phrases
    used: bool = False


@dataclass
class _Scorer:
    annotation: Annotation
    labels: LabelIndex
    names: Mapping[int, str]
    seen: bool
    localisation: float
    corners: Mapping[int, float]
    items: list[NewReviewItem] = field(default_factory=list)

    def add(self, kind: str, score: float, message: str, evidence: dict[str, Any], **ids: int | None) -> None:
        score = min(max(score, 0.0), 1.0)
        if score < MIN_SCORE:
            return
        evidence = {"box": None, "label": None, "answer": None, **evidence, "seen_in_training": self.seen}
        self.items.append(NewReviewItem(self.annotation.image.id, kind, round(score, 4), message, evidence, **ids))


def score_image(
    annotation: Annotation,
    labels: Sequence[Label],
    predicted: ImagePredictions,
    *,
    localisation: float | None = None,
) -> list[NewReviewItem]:
    """The suspected mistakes of one image, worst first. ``localisation``: the model's usual IoU with the boxes
    it finds (None: a perfect localiser is assumed)."""
    scorer = _Scorer(annotation, LabelIndex(labels), {label.id: label.name for label in labels},
                     predicted.seen_in_training, localisation or 1.0, predicted.annotated_corners)  # fmt: skip
    _score_boxes(scorer, predicted.grounding)
    _score_answers(scorer, predicted.answers)
    return sorted(scorer.items, key=lambda item: -item.score)


# ---------------------------------------------------------------------------------------------------- boxes
def _score_boxes(scorer: _Scorer, grounding: Sequence[GroundingAnswer]) -> None:
    annotation = scorer.annotation
    phrases_of: dict[int, set[int]] = {}
    for phrase in annotation.phrases:
        for box_id in phrase.box_ids:
            phrases_of.setdefault(box_id, set()).add(phrase.id)
    preds, covered = _predictions(scorer, grounding, phrases_of)
    boxes = [b for b in annotation.boxes if b.id in covered]
    matched = _match(boxes, preds, phrases_of)
    matched_box_of = {id(p): b for b, p, _ in matched}
    for box, pred, iou in matched:
        _check_label(scorer, box, pred, iou)
    _check_links(scorer, matched, preds, matched_box_of)
    unmatched = [b for b in boxes if all(b is not m for m, _, _ in matched)]
    for box in unmatched:
        phrase_ids = phrases_of.get(box.id, set())
        if not _check_place(scorer, box, preds, phrase_ids):
            _check_support(scorer, box, preds, covered[box.id], phrase_ids)
    for pred in preds:
        if not pred.used and not pred.off_caption:
            _check_missing(scorer, pred)


def _predictions(
    scorer: _Scorer, grounding: Sequence[GroundingAnswer], phrases_of: Mapping[int, set[int]]
) -> tuple[list[_Pred], dict[int, GroundingAnswer]]:
    """Every predicted box with the phrase and label it names, and the boxes some answer covered (by the answer
    that asked for them)."""
    annotation = scorer.annotation
    phrase_ids_by_key: dict[str, set[int]] = {}
    for phrase in annotation.phrases:
        phrase_ids_by_key.setdefault(label_key(phrase.text), set()).add(phrase.id)
    preds: list[_Pred] = []
    covered: dict[int, GroundingAnswer] = {}
    for answer in grounding:
        if answer.kind == "caption":
            asked = {b for b, ids in phrases_of.items() if ids}
        else:
            asked = {b.id for b in annotation.boxes if _label_name(scorer, b) == answer.subject}
        for box_id in asked:
            covered.setdefault(box_id, answer)
        slots = [phrase_id for phrase_id, _ in written_boxes(annotation)] if answer.kind == "caption" else []
        aligned = len(slots) == len(answer.boxes)
        for n, box in enumerate(answer.boxes):
            if answer.kind == "label":
                preds.append(_Pred(box, frozenset(), _label_of(scorer.labels, answer.subject)))
                continue
            phrase_ids = frozenset(phrase_ids_by_key.get(label_key(box.label), ()))
            # a label that names no phrase of the caption is the model's slip: the box may explain an annotation
            # but says nothing about its label
            label = _label_of(scorer.labels, box.label) if phrase_ids else None
            if not phrase_ids and aligned:
                phrase_ids = frozenset({slots[n]})  # a slip of the word, in the slot of the phrase it answers
                preds.append(_Pred(box, phrase_ids, None, off_caption=True))
                continue
            preds.append(_Pred(box, phrase_ids, label, off_caption=not phrase_ids))
    return _without_duplicates(preds), covered


def written_boxes(annotation: Annotation) -> list[tuple[int, int]]:
    """The (phrase id, box id) of each box a caption answer writes, in the order training writes them (as
    ``samples_from_annotation`` orders the phrases)."""
    present = {box.id for box in annotation.boxes}
    ordered = sorted(annotation.phrases, key=lambda p: (p.start, p.end))
    return [(phrase.id, box_id) for phrase in ordered if phrase.text.strip() for box_id in phrase.box_ids
            if box_id in present]  # fmt: skip


def _without_duplicates(preds: list[_Pred]) -> list[_Pred]:
    """One prediction per object: of two boxes with the same label overlapping at IoU >= 0.7 (a caption's and a
    label question's), the more confident."""
    kept: list[_Pred] = []
    for pred in sorted(preds, key=lambda p: -p.box.confidence):
        if not any(k.label == pred.label and box_iou(k.box.box, pred.box.box) >= 0.7 for k in kept):
            kept.append(pred)
    return kept


def _match(
    boxes: Sequence[Box], preds: Sequence[_Pred], phrases_of: Mapping[int, set[int]]
) -> list[tuple[Box, _Pred, float]]:
    """One-to-one pairs at IoU >= 0.5 whatever their labels, the best overlaps first (of equal ones, a prediction
    of the box's label or phrase, then the surest)."""
    pairs = sorted(
        (
            (box_iou(b.xyxy, p.box.box), _same_label(b, p) or bool(p.phrase_ids & phrases_of.get(b.id, set())), n, m)
            for n, b in enumerate(boxes)
            for m, p in enumerate(preds)
        ),
        key=lambda t: (-round(t[0], 2), not t[1], -preds[t[3]].box.confidence),
    )
    used_b, used_p, found = set(), set(), []
    for iou, _agrees, n, m in pairs:
        if iou < MATCH_IOU or n in used_b or m in used_p:
            continue
        used_b.add(n)
        used_p.add(m)
        preds[m].used = True
        found.append((boxes[n], preds[m], iou))
    return found


def _check_label(scorer: _Scorer, box: Box, pred: _Pred, iou: float) -> None:
    if pred.label is None or box.label_id is None or pred.label.id == box.label_id:
        return
    name = _label_name(scorer, box)
    scorer.add(
        "wrong_label", pred.box.confidence,
        f"Labelled '{name}', the model sees '{pred.label.name}' there ({_pct(pred.box.confidence)} sure)",
        {"box": _rounded(pred.box.box), "label": pred.label.name, "confidence": pred.box.confidence,
         "iou": round(iou, 3)},
        box_id=box.id,
    )  # fmt: skip


def _check_links(
    scorer: _Scorer, matched: Sequence[tuple[Box, _Pred, float]], preds: Sequence[_Pred],
    matched_box_of: Mapping[int, Box],
) -> None:  # fmt: skip
    """A phrase whose predictions match boxes it is not linked to, while its linked boxes are another phrase's."""
    claimed = {b.id: p for b, p, _ in matched}
    for phrase in scorer.annotation.phrases:
        if not phrase.box_ids:
            continue
        own = [p for p in preds if phrase.id in p.phrase_ids]
        should = [(p, matched_box_of[id(p)]) for p in own if id(p) in matched_box_of]
        should = [(p, b) for p, b in should if b.id not in phrase.box_ids]
        wrongly = [
            b
            for b in phrase.box_ids
            if b in claimed and phrase.id not in claimed[b].phrase_ids and claimed[b].phrase_ids
        ]
        if not should or not wrongly:
            continue
        confidence = max(p.box.confidence for p, _ in should)
        scorer.add(
            "wrong_link", confidence,
            f"'{phrase.text}' is linked to another object than the one the model finds ({_pct(confidence)} sure)",
            {"box": _rounded(should[0][0].box.box), "label": phrase.text, "confidence": confidence,
             "link_box_ids": sorted(b.id for _, b in should)},
            phrase_id=phrase.id, box_id=wrongly[0],
        )  # fmt: skip


def _check_place(scorer: _Scorer, box: Box, preds: Sequence[_Pred], phrase_ids: set[int]) -> bool:
    """A free prediction of the box's phrase (anywhere: the model was asked for exactly that phrase), or of its
    label near it, that is not on another annotated object (that would be the model confusing two objects): the
    box is probably misplaced."""
    others = [b.xyxy for b in scorer.annotation.boxes if b.id != box.id]
    near = [
        (box_iou(box.xyxy, p.box.box), p.box.confidence, n)
        for n, p in enumerate(preds)
        if not p.used
        and (p.phrase_ids & phrase_ids or (_same_label(box, p) and _near(box.xyxy, p.box.box)))
        and not any(box_iou(p.box.box, other) >= MATCH_IOU for other in others)
    ]
    if not near:
        return False
    iou, confidence, n = max(near)
    pred = preds[n]
    pred.used = True
    annotated, own = scorer.corners.get(box.id), pred.box.corners
    # how readily the model would have written the annotated corners for this phrase, against its own (1: as readily)
    plausible = min(1.0, annotated / own) if annotated is not None and own else 0.0
    name = _label_name(scorer, box) or "this box"
    if pred.phrase_ids & phrase_ids and pred.label is not None and box.label_id not in (None, pred.label.id):
        # the box's phrase names another label, and the model grounds that phrase on the box: the label is wrong
        scorer.add(
            "wrong_label", confidence * plausible,
            f"Labelled '{name}', but it is the '{pred.label.name}' of the caption to the model "
            f"({_pct(confidence)} sure)",
            {"box": _rounded(pred.box.box), "label": pred.label.name, "confidence": confidence,
             "iou": round(iou, 3), "annotated_corners": annotated, "predicted_corners": own},
            box_id=box.id,
        )  # fmt: skip
    shortfall = max(0.0, 1.0 - iou / scorer.localisation)
    doubt = _unlikelihood(annotated, own)
    scorer.add(
        "misplaced", confidence * shortfall * doubt,
        f"'{name}' is probably misplaced: the model puts it elsewhere (IoU {iou:.2f}, {_pct(confidence)} sure)",
        {"box": _rounded(pred.box.box), "label": name, "confidence": confidence, "iou": round(iou, 3),
         "annotated_corners": annotated, "predicted_corners": own},
        box_id=box.id,
    )  # fmt: skip
    return True


def _unlikelihood(annotated: float | None, own: float | None) -> float:
    """How much less likely the model finds the annotated corners than its own, on a log scale: 0 when as likely,
    1 from ``UNLIKELY`` times less likely on (1 when unknown). A likelihood ratio is evidence in decades: 10 x and
    1,000 x less likely are different findings, which 1 - ratio (0.9 against 0.999) hardly tells apart."""
    if annotated is None or not own or annotated <= 0:
        return 1.0
    return min(1.0, max(0.0, math.log(own / annotated) / math.log(UNLIKELY)))


def _check_support(
    scorer: _Scorer, box: Box, preds: Sequence[_Pred], answer: GroundingAnswer, phrase_ids: set[int]
) -> None:
    """Nothing predicted where the box is. A caption answer that grounded none of the box's phrases, or grounded
    them only on other annotated objects, said nothing about it (models skip and confuse phrases more often than
    people draw boxes around nothing)."""
    others = [b.xyxy for b in scorer.annotation.boxes if b.id != box.id]
    grounded = [p for p in preds if p.phrase_ids & phrase_ids]
    if answer.kind == "caption" and all(any(box_iou(p.box.box, o) >= MATCH_IOU for o in others) for p in grounded):
        return  # the phrase not grounded, or only on other annotated objects: the model is confused, not the box
    best = max((box_iou(box.xyxy, p.box.box) for p in preds), default=0.0)
    name = _label_name(scorer, box) or "this box"
    asked = "the caption" if answer.kind == "caption" else f"'{answer.subject}'"
    scorer.add(
        "spurious", answer.confidence * (1.0 - best),
        f"Nothing the model finds for {asked} is where '{name}' is ({_pct(answer.confidence)} sure)",
        {"confidence": answer.confidence, "iou": round(best, 3)},
        box_id=box.id,
    )  # fmt: skip


def _check_missing(scorer: _Scorer, pred: _Pred) -> None:
    best = max((box_iou(b.xyxy, pred.box.box) for b in scorer.annotation.boxes), default=0.0)
    name = pred.label.name if pred.label is not None else pred.box.label
    scorer.add(
        "missing",
        pred.box.confidence * (1.0 - best),
        f"The model finds '{name}' where there is no box ({_pct(pred.box.confidence)} sure)",
        {"box": _rounded(pred.box.box), "label": name, "confidence": pred.box.confidence, "iou": round(best, 3)},
    )


def _same_label(box: Box, pred: _Pred) -> bool:
    return pred.label is not None and pred.label.id == box.label_id


def _near(a: XYXY, b: XYXY) -> bool:
    """Overlapping, or centres closer than the larger box's longer side."""
    if box_iou(a, b) > 0:
        return True
    reach = max(a[2] - a[0], a[3] - a[1], b[2] - b[0], b[3] - b[1])
    dx, dy = (a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2
    return (dx * dx + dy * dy) ** 0.5 < reach


# ---------------------------------------------------------------------------------------------------- answers
def _score_answers(scorer: _Scorer, checks: Sequence[AnswerCheck]) -> None:
    pairs = {pair.id: pair for pair in scorer.annotation.vqa}
    for check in checks:
        pair = pairs.get(check.vqa_id)
        if pair is None or normalise(check.answer) == normalise(pair.answer):
            continue
        scorer.add(
            "wrong_answer", 1.0 - check.annotated_probability,
            f"'{pair.question}' is answered '{pair.answer}'; the model says '{check.answer}' "
            f"({_pct(check.answer_probability)} sure, {_pct(check.annotated_probability)} for '{pair.answer}')",
            {"answer": check.answer, "confidence": check.answer_probability,
             "annotated_probability": check.annotated_probability},
            vqa_id=pair.id,
        )  # fmt: skip


# ---------------------------------------------------------------------------------------------------- helpers
def _label_of(index: LabelIndex, name: str) -> Label | None:
    """The project label a model's phrase names: as written, else without a count word and a plural ending
    ("two red balls" -> "red ball")."""
    found = index.label(name)
    if found is not None or not name:
        return found
    words = label_key(name).split()
    if words and words[0] in _NUMBER_WORDS:
        words = words[1:]
    if not words:
        return None
    for singular in (re.sub(r"(ch|sh|ss|x)es$", r"\1", words[-1]), re.sub(r"(?<!s)s$", "", words[-1])):
        found = index.label(" ".join([*words[:-1], singular]))
        if found is not None:
            return found
    return None


def _label_name(scorer: _Scorer, box: Box) -> str:
    return scorer.names.get(box.label_id, "") if box.label_id is not None else ""


def _rounded(box: XYXY) -> list[float]:
    return [round(v, 1) for v in box]


def _pct(value: float) -> str:
    return f"{value:.0%}"
