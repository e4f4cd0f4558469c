"""Writes this folder's datasets with fiftyone's own exporters (run by a Python holding fiftyone):
``python write.py [FOLDER]``; prints what it wrote as JSON.

coco/: COCODetectionDataset (labels.json beside data/), with two categories no box uses.
yolo/: YOLOv5Dataset, the Ultralytics layout (images/<split>, labels/<split>, dataset.yaml without ``path:``).
voc/: VOCDetectionDataset (data/ beside labels/, one XML per image).
"""

import json
import sys
import tempfile
from pathlib import Path

import fiftyone as fo
from PIL import Image

here = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent)


def sample(folder: Path, name: str, size: tuple[int, int], colour, boxes, split: str = "") -> fo.Sample:
    """An image of ``size`` with ``boxes`` (label, x1, y1, x2, y2 in pixels)."""
    path = folder / name
    Image.new("RGB", size, colour).save(path, quality=80)
    w, h = size
    detections = [
        fo.Detection(label=label, bounding_box=[x1 / w, y1 / h, (x2 - x1) / w, (y2 - y1) / h])
        for label, x1, y1, x2, y2 in boxes
    ]
    tags = [split] if split else []
    return fo.Sample(filepath=str(path), ground_truth=fo.Detections(detections=detections), tags=tags)


with tempfile.TemporaryDirectory() as scratch:
    source = Path(scratch)
    coco = fo.Dataset()
    coco.add_samples(
        [
            sample(
                source, "000001.jpg", (32, 24), (90, 140, 200), [("cat", 2.5, 3, 14.5, 13.25), ("dog", 16, 4, 30, 22)]
            ),
            sample(source, "000002.jpg", (20, 20), (40, 160, 90), [("cat", 1, 1, 9, 9)]),
        ]
    )
    coco.compute_metadata()
    coco.export(
        export_dir=str(here / "coco"),
        dataset_type=fo.types.COCODetectionDataset,
        label_field="ground_truth",
        classes=["airplane", "bird", "cat", "dog"],
    )
    coco.export(export_dir=str(here / "voc"), dataset_type=fo.types.VOCDetectionDataset, label_field="ground_truth")

    yolo = fo.Dataset()
    yolo.add_samples(
        [
            sample(source, "a.jpg", (40, 20), (200, 200, 60), [("person", 10, 5, 30, 15)], "train"),
            sample(source, "b.jpg", (20, 40), (60, 60, 200), [("bicycle", 0, 20, 10, 40)], "val"),
        ]
    )
    for split in ("train", "val"):
        yolo.match_tags(split).export(
            export_dir=str(here / "yolo"),
            dataset_type=fo.types.YOLOv5Dataset,
            label_field="ground_truth",
            split=split,
            classes=["person", "bicycle", "car"],
            include_path=False,
        )

print(
    json.dumps(
        {
            "tool": f"fiftyone {fo.__version__}",
            "coco": {"images": 2, "boxes": 3},
            "voc": {"images": 2, "boxes": 3},
            "yolo": {"images": 2, "boxes": 2},
        }
    )
)
