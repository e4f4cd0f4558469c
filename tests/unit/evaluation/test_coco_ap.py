"""COCO-style AP against pycocotools itself on realistic random cases (to 1e-6)."""

from __future__ import annotations

import contextlib
import io
import json
import random

import pytest

from studio.evaluation.coco import Detection, GroundTruth, box_iou_matrix, coco_box_ap
from studio.evaluation.coco_files import evaluate_files

pycocotools = pytest.importorskip("pycocotools")
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402


def random_case(seed: int, n_images: int = 8, n_categories: int = 4, crowd: bool = False):
    """Ground truth with empty images and a category without boxes; detections jittered from the truth, missed,
    duplicated, on the wrong category and pure false positives, with scores (including ties)."""
    rng = random.Random(seed)
    images = [{"id": i + 1, "width": 640, "height": 480, "file_name": f"{i}.jpg"} for i in range(n_images)]
    categories = [{"id": c + 1, "name": f"c{c}"} for c in range(n_categories)]
    gt, dets = [], []
    for image in images:
        if rng.random() < 0.2:
            continue  # an image without ground truth
        for _ in range(rng.randint(1, 6)):
            w, h = rng.uniform(5, 200), rng.uniform(5, 200)
            x, y = rng.uniform(0, 640 - w), rng.uniform(0, 480 - h)
            cat = rng.randint(1, n_categories - 1)  # the last category never has ground truth
            is_crowd = crowd and rng.random() < 0.15
            gt.append({"id": len(gt) + 1, "image_id": image["id"], "category_id": cat, "bbox": [x, y, w, h],
                       "area": w * h * rng.uniform(0.6, 1.0), "iscrowd": int(is_crowd)})
            if rng.random() < 0.8:
                for _ in range(rng.choice([1, 1, 1, 2])):
                    j = lambda s: rng.gauss(0, s)  # noqa: E731
                    box = [x + j(w * 0.15), y + j(h * 0.15), max(1.0, w + j(w * 0.2)), max(1.0, h + j(h * 0.2))]
                    score = round(rng.random(), 1) if rng.random() < 0.3 else rng.random()
                    wrong = rng.random() < 0.1
                    dets.append({"image_id": image["id"], "category_id": rng.randint(1, n_categories) if wrong else cat,
                                 "bbox": box, "score": score})
    for _ in range(n_images * 2):
        w, h = rng.uniform(5, 150), rng.uniform(5, 150)
        dets.append({"image_id": rng.randint(1, n_images), "category_id": rng.randint(1, n_categories),
                     "bbox": [rng.uniform(0, 500), rng.uniform(0, 350), w, h], "score": rng.random() * 0.6})
    return {"images": images, "categories": categories, "annotations": gt}, dets


def pycoco_stats(gt_data, dets):
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = json.loads(json.dumps(gt_data))
        coco.createIndex()
        results = coco.loadRes(json.loads(json.dumps(dets))) if dets else COCO()
        evaluator = COCOeval(coco, results, "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator.stats


def ours(gt_data, dets):
    gts = [GroundTruth(a["image_id"], a["category_id"], tuple(a["bbox"]), a.get("area"), bool(a.get("iscrowd")))
           for a in gt_data["annotations"]]
    ds = [Detection(d["image_id"], d["category_id"], tuple(d["bbox"]), d["score"]) for d in dets]
    return coco_box_ap(gts, ds, [i["id"] for i in gt_data["images"]], [c["id"] for c in gt_data["categories"]])


@pytest.mark.parametrize("seed", range(6))
def test_matches_pycocotools(seed):
    gt_data, dets = random_case(seed, n_images=6 + seed * 3)
    stats = pycoco_stats(gt_data, dets)
    result = ours(gt_data, dets)
    assert result.map == pytest.approx(stats[0], abs=1e-6)
    assert result.ap50 == pytest.approx(stats[1], abs=1e-6)
    assert result.ap75 == pytest.approx(stats[2], abs=1e-6)
    assert result.ar100 == pytest.approx(stats[8], abs=1e-6)
    assert 0 < result.map < 1  # a realistic case: neither trivial nor empty


@pytest.mark.parametrize("seed", range(3))
def test_matches_pycocotools_with_crowd_boxes(seed):
    gt_data, dets = random_case(100 + seed, n_images=16, crowd=True)
    assert any(a["iscrowd"] for a in gt_data["annotations"])
    stats = pycoco_stats(gt_data, dets)
    result = ours(gt_data, dets)
    assert (result.map, result.ap50, result.ap75, result.ar100) == pytest.approx(
        (stats[0], stats[1], stats[2], stats[8]), abs=1e-6)


def test_more_than_100_detections_per_image_are_cut_like_pycocotools():
    gt_data, dets = random_case(7, n_images=3, n_categories=2)
    rng = random.Random(1)
    dets += [{"image_id": 1, "category_id": 1, "bbox": [rng.uniform(0, 600), rng.uniform(0, 400), 20, 20],
              "score": rng.random()} for _ in range(150)]
    stats = pycoco_stats(gt_data, dets)
    assert ours(gt_data, dets).map == pytest.approx(stats[0], abs=1e-6)


def test_perfect_and_empty_predictions():
    gt_data, _ = random_case(3)
    perfect = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
               for a in gt_data["annotations"]]
    assert ours(gt_data, perfect).map == pytest.approx(1.0)
    empty = ours(gt_data, [])
    assert empty.map == 0.0 and empty.ar100 == 0.0
    assert empty.per_category[4] == -1  # no ground truth in that category


def test_iou_matrix_and_crowd_union():
    ious = box_iou_matrix([(0, 0, 10, 10)], [(5, 0, 10, 10), (0, 0, 20, 20), (50, 50, 5, 5)], [False, True, False])
    assert ious[0].tolist() == pytest.approx([50 / 150, 1.0, 0.0])


def test_files_round_trip_and_errors(tmp_path):
    gt_data, dets = random_case(2)
    (tmp_path / "gt.json").write_text(json.dumps(gt_data))
    (tmp_path / "det.json").write_text(json.dumps(dets))
    result, counts = evaluate_files(tmp_path / "gt.json", tmp_path / "det.json")
    assert result.map == pytest.approx(pycoco_stats(gt_data, dets)[0], abs=1e-6)
    assert counts["detections"] == len(dets)
    (tmp_path / "bad.json").write_text(json.dumps([{"image_id": 999, "category_id": 1, "bbox": [0, 0, 1, 1]}]))
    with pytest.raises(ValueError, match=r"bad\.json: detection 0: image_id 999"):
        evaluate_files(tmp_path / "gt.json", tmp_path / "bad.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ValueError, match=r"broken\.json: not valid JSON"):
        evaluate_files(tmp_path / "broken.json", tmp_path / "det.json")


def test_grounding_ap_equals_pycocotools_on_the_same_cases():
    from studio.evaluation.grounding import GroundingCase, grounding_metrics

    rng = random.Random(5)
    phrases = ["red circle", "blue square", "green triangle"]
    cases, gt, dets = [], [], []
    for n in range(12):
        truth = []
        for phrase in rng.sample(phrases, rng.randint(1, 3)):
            x, y = rng.uniform(0, 150), rng.uniform(0, 100)
            truth.append((phrase, ((x, y, x + 40, y + 30),)))
        predicted = []
        for phrase, ((x1, y1, x2, y2),) in truth:
            if rng.random() < 0.8:
                j = rng.uniform(-12, 12)
                predicted.append((phrase, (x1 + j, y1 + j / 2, x2 + j, y2)))
        score = rng.random()
        cases.append(GroundingCase(tuple(truth), tuple(predicted), score=score))
        for phrase, ((x1, y1, x2, y2),) in truth:
            gt.append({"id": len(gt) + 1, "image_id": n + 1, "category_id": phrases.index(phrase) + 1,
                       "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
        for phrase, (x1, y1, x2, y2) in predicted:
            dets.append({"image_id": n + 1, "category_id": phrases.index(phrase) + 1,
                         "bbox": [x1, y1, x2 - x1, y2 - y1], "score": score})
    data = {"images": [{"id": n + 1} for n in range(12)],
            "categories": [{"id": i + 1, "name": p} for i, p in enumerate(phrases)], "annotations": gt}
    stats = pycoco_stats(data, dets)
    metrics = grounding_metrics(cases)
    assert metrics["mAP"] == pytest.approx(stats[0], abs=1e-6)
    assert metrics["AP50"] == pytest.approx(stats[1], abs=1e-6)
    assert 0 < metrics["mAP"] < metrics["AP50"] <= 1
