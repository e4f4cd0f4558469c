"""Reading a COCO ground-truth file and a COCO detection-results file for `coco_box_ap`, with errors that name
the file and the problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from studio.evaluation.coco import CocoResult, Detection, GroundTruth, coco_box_ap


def _read_json(path: str | Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise OSError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


def _bbox(value: Any, where: str) -> tuple[float, float, float, float]:
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise ValueError(f"{where}: bbox must be [x, y, width, height]")
    try:
        x, y, w, h = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: bbox values must be numbers") from None
    return (x, y, w, h)


ZERO_ID_NOTE = ("{count} ground-truth annotation(s) have id 0 (labelme's COCO converter writes them): pycocotools "
                "counts a detection matched to such an annotation as a miss, so its AP for this file is lower than "
                "the one here, which scores those matches")


def read_ground_truth(path: str | Path) -> tuple[list[GroundTruth], list[int], dict[int, str]]:
    """Ground-truth boxes, every image id, and category names by id."""
    data = _read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise ValueError(f"{path}: not a COCO ground-truth file (no \"images\" list)")
    try:
        image_ids = [int(image["id"]) for image in data["images"]]
        categories = {int(c["id"]): str(c.get("name", c["id"])) for c in data.get("categories", [])}
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{path}: every image and category needs an integer \"id\"") from None
    boxes = []
    for n, ann in enumerate(data.get("annotations", [])):
        where = f"{path}: annotation {n}"
        try:
            image_id, category_id = int(ann["image_id"]), int(ann["category_id"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{where}: needs integer image_id and category_id") from None
        bbox = _bbox(ann.get("bbox"), where)
        area = ann.get("area")
        number = ann.get("id")
        boxes.append(GroundTruth(image_id, category_id, bbox, None if area is None else float(area),
                                 bool(ann.get("iscrowd", 0)), number if isinstance(number, int) else None))
    return boxes, image_ids, categories


def read_detections(path: str | Path, image_ids: set[int]) -> list[Detection]:
    """Detections from a COCO results file (a list, or an object with an ``annotations`` list)."""
    data = _read_json(path)
    if isinstance(data, dict):
        data = data.get("annotations")
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of detections (COCO results format)")
    detections = []
    for n, det in enumerate(data):
        where = f"{path}: detection {n}"
        try:
            image_id, category_id = int(det["image_id"]), int(det["category_id"])
            score = float(det.get("score", 1.0))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{where}: needs integer image_id and category_id and a numeric score") from None
        if image_id not in image_ids:
            raise ValueError(f"{where}: image_id {image_id} is not an image of the ground-truth file")
        detections.append(Detection(image_id, category_id, _bbox(det.get("bbox"), where), score))
    return detections


def evaluate_files(gt_path: str | Path, pred_path: str | Path) -> tuple[CocoResult, dict[str, Any]]:
    """Score a detections file against a ground-truth file; also returns counts for the report."""
    ground_truth, image_ids, categories = read_ground_truth(gt_path)
    detections = read_detections(pred_path, set(image_ids))
    result = coco_box_ap(ground_truth, detections, image_ids, categories or None)
    zero_ids = sum(1 for g in ground_truth if g.annotation_id == 0)
    counts = {"images": len(image_ids), "categories": len(categories), "ground_truth": len(ground_truth),
              "detections": len(detections), "category_names": {str(k): v for k, v in categories.items()},
              "notes": [ZERO_ID_NOTE.format(count=f"{zero_ids:,}")] if zero_ids else []}
    return result, counts

