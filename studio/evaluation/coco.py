"""COCO-style box average precision, computed the way pycocotools computes it (bbox, area "all", 100 detections
per image and category), so scores agree with pycocotools to floating-point precision without depending on it.

Boxes here are COCO ``[x, y, width, height]``; `xyxy_to_xywh` converts from the store's corners."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1)
RECALL_THRESHOLDS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1)
MAX_DETECTIONS = 100
AREA_ALL = (0.0, 1e5**2)

XYWH = tuple[float, float, float, float]


@dataclass(frozen=True)
class GroundTruth:
    image_id: int
    category_id: int
    bbox: XYWH
    area: float | None = None  # COCO's segment area; the box area when missing
    iscrowd: bool = False
    annotation_id: int | None = None  # the file's id, when read from one


@dataclass(frozen=True)
class Detection:
    image_id: int
    category_id: int
    bbox: XYWH
    score: float


@dataclass(frozen=True)
class CocoResult:
    """AP over IoU 0.50:0.95 (``map``), at 0.50 and 0.75, recall over 0.50:0.95 with 100 detections, and AP per
    category (-1 where the category has no ground truth, as in pycocotools)."""

    map: float
    ap50: float
    ap75: float
    ar100: float
    per_category: dict[int, float]

    def to_dict(self) -> dict:
        return {"mAP": self.map, "AP50": self.ap50, "AP75": self.ap75, "AR100": self.ar100,
                "per_category_AP": {str(k): v for k, v in self.per_category.items()}}


def xyxy_to_xywh(box: Sequence[float]) -> XYWH:
    x1, y1, x2, y2 = box
    return (float(x1), float(y1), float(x2) - float(x1), float(y2) - float(y1))


def box_iou_matrix(dets: Sequence[XYWH], gts: Sequence[XYWH], crowd: Sequence[bool]) -> np.ndarray:
    """IoU of every detection with every ground truth box; for a crowd box the union is the detection's area
    (pycocotools' ``maskUtils.iou`` for boxes)."""
    if not dets or not gts:
        return np.zeros((len(dets), len(gts)))
    d = np.asarray(dets, dtype=float)
    g = np.asarray(gts, dtype=float)
    d_end, g_end = d[:, None, :2] + d[:, None, 2:], g[None, :, :2] + g[None, :, 2:]
    overlap = np.minimum(d_end, g_end) - np.maximum(d[:, None, :2], g[None, :, :2])
    w, h = overlap[..., 0], overlap[..., 1]
    inter = np.where((w > 0) & (h > 0), w * h, 0.0)
    d_area = (d[:, 2] * d[:, 3])[:, None]
    union = np.where(np.asarray(crowd, dtype=bool)[None, :], d_area, d_area + (g[:, 2] * g[:, 3])[None, :] - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


@dataclass
class _ImageEval:
    scores: np.ndarray  # detections in score order (at most MAX_DETECTIONS)
    matched: np.ndarray  # (thresholds, detections) bool
    ignored: np.ndarray  # (thresholds, detections) bool
    gt_ignored: np.ndarray  # ground truth in evaluation order


def _evaluate_image(gts: list[GroundTruth], dets: list[Detection]) -> _ImageEval:
    order = np.argsort([-d.score for d in dets], kind="mergesort")[:MAX_DETECTIONS]
    dets = [dets[i] for i in order]
    area = [g.bbox[2] * g.bbox[3] if g.area is None else g.area for g in gts]
    ignore = [bool(g.iscrowd) or a < AREA_ALL[0] or a > AREA_ALL[1] for g, a in zip(gts, area, strict=True)]
    gt_order = np.argsort(np.asarray(ignore, dtype=int), kind="mergesort")
    gts = [gts[i] for i in gt_order]
    gt_ignore = np.asarray([ignore[i] for i in gt_order], dtype=bool)
    crowd = [bool(g.iscrowd) for g in gts]
    ious = box_iou_matrix([d.bbox for d in dets], [g.bbox for g in gts], crowd)
    n_t, n_d, n_g = len(IOU_THRESHOLDS), len(dets), len(gts)
    gt_taken = np.zeros((n_t, n_g), dtype=bool)
    matched = np.zeros((n_t, n_d), dtype=bool)
    ignored = np.zeros((n_t, n_d), dtype=bool)
    for t, threshold in enumerate(IOU_THRESHOLDS):
        for di in range(n_d):
            best_iou, best = min(threshold, 1 - 1e-10), -1
            for gi in range(n_g):
                if gt_taken[t, gi] and not crowd[gi]:
                    continue
                if best > -1 and not gt_ignore[best] and gt_ignore[gi]:
                    break  # ground truth is sorted with ignored boxes last
                if ious[di, gi] < best_iou:
                    continue
                best_iou, best = ious[di, gi], gi
            if best == -1:
                continue
            ignored[t, di] = gt_ignore[best]
            matched[t, di] = True
            gt_taken[t, best] = True
    det_area = np.asarray([d.bbox[2] * d.bbox[3] for d in dets])
    outside = (det_area < AREA_ALL[0]) | (det_area > AREA_ALL[1]) if n_d else np.zeros(0, dtype=bool)
    ignored |= ~matched & outside[None, :]
    return _ImageEval(np.asarray([d.score for d in dets], dtype=float), matched, ignored, gt_ignore)


def coco_box_ap(
    ground_truth: Iterable[GroundTruth],
    detections: Iterable[Detection],
    image_ids: Iterable[int] | None = None,
    category_ids: Iterable[int] | None = None,
) -> CocoResult:
    """pycocotools' bbox AP/AR. ``image_ids`` and ``category_ids`` default to those seen in the ground truth
    (COCO evaluates every image and category listed in the ground-truth file, even without boxes)."""
    gts_by: dict[tuple[int, int], list[GroundTruth]] = defaultdict(list)
    dets_by: dict[tuple[int, int], list[Detection]] = defaultdict(list)
    ground_truth = list(ground_truth)
    for g in ground_truth:
        gts_by[g.image_id, g.category_id].append(g)
    for d in detections:
        dets_by[d.image_id, d.category_id].append(d)
    images = sorted(set(image_ids) if image_ids is not None else {g.image_id for g in ground_truth})
    categories = sorted(set(category_ids) if category_ids is not None else {g.category_id for g in ground_truth})
    n_t, n_r = len(IOU_THRESHOLDS), len(RECALL_THRESHOLDS)
    precision = -np.ones((n_t, n_r, len(categories)))
    recall = -np.ones((n_t, len(categories)))
    for k, category in enumerate(categories):
        evals = [
            _evaluate_image(gts_by.get((i, category), []), dets_by.get((i, category), []))
            for i in images
            if gts_by.get((i, category)) or dets_by.get((i, category))
        ]
        if not evals:
            continue
        scores = np.concatenate([e.scores for e in evals])
        order = np.argsort(-scores, kind="mergesort")
        matched = np.concatenate([e.matched for e in evals], axis=1)[:, order]
        ignored = np.concatenate([e.ignored for e in evals], axis=1)[:, order]
        n_positive = int(np.count_nonzero(~np.concatenate([e.gt_ignored for e in evals])))
        if n_positive == 0:
            continue
        tp_sum = np.cumsum(matched & ~ignored, axis=1).astype(float)
        fp_sum = np.cumsum(~matched & ~ignored, axis=1).astype(float)
        for t in range(n_t):
            tp, fp = tp_sum[t], fp_sum[t]
            rc = tp / n_positive
            pr = tp / (fp + tp + np.spacing(1))
            recall[t, k] = rc[-1] if len(tp) else 0
            pr = np.maximum.accumulate(pr[::-1])[::-1] if len(pr) else pr
            q = np.zeros(n_r)
            inds = np.searchsorted(rc, RECALL_THRESHOLDS, side="left")
            valid = inds < len(pr)
            q[valid] = pr[inds[valid]]
            precision[t, :, k] = q

    def mean(values: np.ndarray) -> float:
        kept = values[values > -1]
        return float(np.mean(kept)) if kept.size else -1.0

    per_category = {c: mean(precision[:, :, k]) for k, c in enumerate(categories)}
    return CocoResult(
        map=mean(precision),
        ap50=mean(precision[0]),
        ap75=mean(precision[5]),
        ar100=mean(recall),
        per_category=per_category,
    )
