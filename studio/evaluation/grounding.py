"""Phrase-grounding metrics: per-phrase IoU after matching, precision / recall / F1 at IoU 0.5, COCO-style AP50 and
mAP@[.5:.95] (phrases as categories), and the rate of answers that could not be read.

One definition for every metric. A predicted box belongs to the true phrase its label reads as (to the only phrase
when the prompt named one). A box that belongs to no phrase with true boxes (its label names none, or its phrase
has no box) is a false positive everywhere: in precision and F1, and in AP as a detection of the case's phrase it
overlaps most that can match nothing. A phrase with no true boxes scores IoU 1 when nothing was predicted for it and
0 otherwise, as F1 scores an empty answer to an empty truth 1. AP averages, as COCO does, over the phrases that
have true boxes somewhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from studio.evaluation.coco import Detection, GroundTruth, box_iou_matrix, coco_box_ap, xyxy_to_xywh
from studio.evaluation.vqa import normalise

XYXY = tuple[float, float, float, float]
MATCH_IOU = 0.5


@dataclass(frozen=True)
class GroundingCase:
    """One grounding answer: the true phrases with their boxes and the labelled boxes the model gave
    (original-image pixels). ``parsed`` is False when nothing readable came back from a non-empty answer."""

    truth: tuple[tuple[str, tuple[XYXY, ...]], ...]
    predicted: tuple[tuple[str, XYXY], ...]
    parsed: bool = True
    score: float = 1.0  # the answer's confidence, used to rank detections for AP


def iou_matrix(a: Sequence[XYXY], b: Sequence[XYXY]) -> np.ndarray:
    """IoU of every box of ``a`` with every box of ``b`` (corners)."""
    return box_iou_matrix([xyxy_to_xywh(x) for x in a], [xyxy_to_xywh(x) for x in b], [False] * len(b))


def match_greedy(
    truth: Sequence[XYXY], predicted: Sequence[XYXY], min_iou: float = 0.0
) -> list[tuple[int, int, float]]:
    """One-to-one pairs (truth index, prediction index, IoU), highest IoU first, each above ``min_iou``."""
    ious = iou_matrix(predicted, truth).T if truth and predicted else np.zeros((len(truth), len(predicted)))
    pairs = sorted(((ious[t, p], t, p) for t in range(len(truth)) for p in range(len(predicted))), reverse=True)
    used_t, used_p, matches = set(), set(), []
    for iou, t, p in pairs:
        if iou <= min_iou or iou < 1e-12 or t in used_t or p in used_p:
            continue
        used_t.add(t)
        used_p.add(p)
        matches.append((t, p, float(iou)))
    return matches


def assign_phrases(case: GroundingCase) -> tuple[list[list[XYXY]], list[XYXY]]:
    """The predicted boxes of each true phrase (all of them when there is one phrase: the prompt named it, else
    those whose label reads as the phrase), and the boxes whose label names no phrase."""
    if len(case.truth) == 1:
        return [[box for _, box in case.predicted]], []
    keys = [normalise(text) for text, _ in case.truth]
    assigned: list[list[XYXY]] = [[] for _ in case.truth]
    unassigned: list[XYXY] = []
    for label, box in case.predicted:
        key = normalise(label)
        if key in keys:
            assigned[keys.index(key)].append(box)
        else:
            unassigned.append(box)
    return assigned, unassigned


def charged_phrase(case: GroundingCase, box: XYXY) -> int | None:
    """The phrase with true boxes that an unattributed box is charged to in AP: the one it overlaps most (the
    first on a tie), or None when no phrase of the case has a true box."""
    best, best_iou = None, -1.0
    for index, (_, boxes) in enumerate(case.truth):
        if boxes:
            iou = float(iou_matrix([box], list(boxes)).max())
            if iou > best_iou:
                best, best_iou = index, iou
    return best


@dataclass(frozen=True)
class CaseScore:
    phrase_ious: tuple[float, ...]  # per true phrase: mean IoU of its boxes after matching (0 when missed)
    true_positives: int  # matches at IoU >= 0.5
    predicted: int
    truth: int

    @property
    def f1(self) -> float:
        return _f1(self.true_positives, self.predicted, self.truth)

    @property
    def mean_iou(self) -> float:
        return float(np.mean(self.phrase_ious)) if self.phrase_ious else 0.0


def score_case(case: GroundingCase) -> CaseScore:
    ious, tp = [], 0
    for (_, boxes), predicted in zip(case.truth, assign_phrases(case)[0], strict=True):
        if not boxes:
            ious.append(0.0 if predicted else 1.0)
            continue
        matches = match_greedy(boxes, predicted)
        ious.append(sum(iou for _, _, iou in matches) / len(boxes))
        tp += len(match_greedy(boxes, predicted, min_iou=MATCH_IOU - 1e-12))
    n_truth = sum(len(boxes) for _, boxes in case.truth)
    return CaseScore(tuple(ious), tp, len(case.predicted), n_truth)


def _f1(tp: int, predicted: int, truth: int) -> float:
    return 2 * tp / (predicted + truth) if predicted + truth else 1.0


def grounding_metrics(cases: Sequence[GroundingCase]) -> dict[str, float]:
    """Every grounding metric over ``cases`` (each case is one "image" for AP; each phrase text a category)."""
    if not cases:
        return {"count": 0}
    scores = [score_case(c) for c in cases]
    categories: dict[str, int] = {}
    truth, detections = [], []
    unmatchable = len(cases)  # image ids past the cases': an unattributed box there has no truth to match
    for n, case in enumerate(cases):
        assigned, unassigned = assign_phrases(case)
        case_categories = [categories.setdefault(normalise(text), len(categories) + 1) for text, _ in case.truth]
        for (_, boxes), predicted, category in zip(case.truth, assigned, case_categories, strict=True):
            if not boxes:  # a phrase without true boxes: what was predicted for it is unattributed
                unassigned.extend(predicted)
                continue
            truth.extend(GroundTruth(n, category, xyxy_to_xywh(b)) for b in boxes)
            detections.extend(Detection(n, category, xyxy_to_xywh(b), case.score) for b in predicted)
        for box in unassigned:
            phrase = charged_phrase(case, box)
            if phrase is not None:
                detections.append(Detection(unmatchable, case_categories[phrase], xyxy_to_xywh(box), case.score))
                unmatchable += 1
    coco = coco_box_ap(truth, detections, range(unmatchable), categories.values())
    tp = sum(s.true_positives for s in scores)
    n_pred = sum(s.predicted for s in scores)
    n_truth = sum(s.truth for s in scores)
    phrase_ious = [iou for s in scores for iou in s.phrase_ious]
    return {
        "count": len(cases),
        "phrases": len(phrase_ious),
        "mean_phrase_iou": float(np.mean(phrase_ious)) if phrase_ious else 0.0,
        "precision@0.5": tp / n_pred if n_pred else 0.0,
        "recall@0.5": tp / n_truth if n_truth else 0.0,
        "f1@0.5": _f1(tp, n_pred, n_truth),
        "AP50": max(coco.ap50, 0.0),
        "mAP": max(coco.map, 0.0),
        "unparseable_rate": sum(not c.parsed for c in cases) / len(cases),
    }
