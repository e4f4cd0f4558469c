"""COCO detection JSON (``instances_*.json``: images, annotations with ``bbox`` [x, y, w, h] in pixels,
categories), plus the COCO captions file (``captions_*.json``) when one is present.

Images are looked for next to the JSON file, in ``data/`` beside it (fiftyone's export: ``labels.json`` and
``data/``), in its parent folder, in ``images/`` and in the folder named after the split
(``annotations/instances_val2017.json`` -> ``val2017/``). The first caption of an image becomes its caption.
"""

from __future__ import annotations

import re
from pathlib import Path

from studio.dataset.formats.base import (
    DatasetDoc,
    DocImage,
    Fields,
    FormatError,
    fmt_number,
    load_json,
    numbers,
    ordered_box,
)
from studio.dataset.formats.exporting import Output

UNLABELED = "unlabeled"  # the category written for boxes without a label (COCO requires one)
_SPLIT_WORDS = (("train", {"train"}), ("val", {"val", "valid", "validation"}), ("test", {"test"}))


def read(path: Path, model: str | None = None) -> DatasetDoc:
    instances, captions = _files(path)
    doc = DatasetDoc(source=path)
    for file in instances:
        _read_instances(file, doc, _split_of(file))
    by_file = {image.file: image for image in doc.images}
    for file in captions:
        _read_captions(file, doc, by_file)
    return doc


def _files(path: Path) -> tuple[list[Path], list[Path]]:
    """The instances and captions files to read for ``path`` (a JSON file or a folder)."""
    if path.is_file():
        sibling = path.with_name(path.name.replace("instances", "captions", 1))
        if "instances" in path.name and sibling.is_file():
            return [path], [sibling]
        if path.name.startswith("captions"):
            return [], [path]
        return [path], []
    found = sorted(path.glob("*.json")) + sorted(path.glob("annotations/*.json"))
    captions = [f for f in found if f.name.startswith("captions")]
    instances = [f for f in found if f not in captions]
    if not instances and not captions:
        raise FormatError(path, "", "expected COCO JSON files (instances_*.json, captions_*.json) in this folder")
    return instances, captions


def _split_of(file: Path) -> str:
    """The split a file name states (``instances_train2017.json`` -> train), or ''."""
    words = set(re.split(r"[^a-z]+", file.stem.lower()))
    return next((split for split, names in _SPLIT_WORDS if words & names), "")


def _search(file: Path) -> tuple[Path, ...]:
    folders = [file.parent, file.parent / "data", file.parent.parent, file.parent.parent / "images"]
    for prefix in ("instances_", "captions_"):
        if file.stem.startswith(prefix):
            folders.append(file.parent.parent / file.stem[len(prefix) :])
    return tuple(folders)


def _read_instances(file: Path, doc: DatasetDoc, split: str) -> None:
    top = Fields(file, "$", load_json(file))
    categories: dict[int, str] = {}
    for category in top.children("categories"):
        categories[category.integer("id")] = category.text("name")
    doc.labels.extend(name for name in categories.values() if name not in doc.labels)
    images = _read_images(top, doc, split, _search(file))
    crowd = polygons = 0
    for ann in top.children("annotations"):
        image = images.get(_image_key(ann))
        if image is None:
            raise ann.error("image_id", f"names image {ann.value['image_id']!r}, which is not in $.images")
        category_id = ann.integer("category_id", None)
        if category_id is not None and category_id not in categories:
            raise ann.error("category_id", f"{category_id} is not in $.categories")
        if ann.has("bbox"):
            x, y, w, h = numbers(file, f"{ann.path}.bbox", ann.value["bbox"], 4)
        elif isinstance(ann.value.get("segmentation"), list) and ann.value["segmentation"]:
            x, y, w, h = _polygon_bbox(ann)
            polygons += 1
        else:
            raise ann.error("bbox", "missing (expected [x, y, width, height] in pixels)")
        if w < 0 or h < 0:
            raise ann.error("bbox", f"expected a width and height >= 0, found {w:g} x {h:g}")
        crowd += bool(ann.value.get("iscrowd"))
        label = categories[category_id] if category_id is not None else None
        image.boxes.append(ordered_box(file, f"{ann.path}.bbox", label, x, y, x + w, y + h))
    if crowd:
        doc.notes.append(f"{file.name}: {crowd:,} crowd annotations (iscrowd=1) were imported as ordinary boxes")
    if polygons:
        doc.notes.append(f"{file.name}: {polygons:,} annotations had no bbox; their polygon's bounding box was used")


def _read_images(top: Fields, doc: DatasetDoc, split: str, search: tuple[Path, ...]) -> dict[object, DocImage]:
    images: dict[object, DocImage] = {}
    for entry in top.children("images"):
        key = entry.get("id", (int, str))
        if key in images:
            raise entry.error("id", f"image id {key!r} appears twice")
        image = DocImage(
            file=entry.text("file_name"),
            where=f"{top.file.name} {entry.path}",
            width=entry.integer("width", None),
            height=entry.integer("height", None),
            split=split,
            search=search,
        )
        images[key] = image
        doc.images.append(image)
    return images


def _image_key(ann: Fields) -> object:
    return ann.get("image_id", (int, str))


def _polygon_bbox(ann: Fields) -> tuple[float, float, float, float]:
    xs: list[float] = []
    ys: list[float] = []
    for i, polygon in enumerate(ann.value["segmentation"]):
        if not isinstance(polygon, list) or len(polygon) < 2 or len(polygon) % 2:
            raise ann.error(f"segmentation[{i}]", "expected a polygon [x1, y1, x2, y2, ...]")
        values = numbers(ann.file, f"{ann.path}.segmentation[{i}]", polygon, len(polygon))
        xs += values[0::2]
        ys += values[1::2]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def _read_captions(file: Path, doc: DatasetDoc, by_file: dict[str, DocImage]) -> None:
    top = Fields(file, "$", load_json(file))
    search = _search(file)
    images: dict[object, DocImage] = {}
    for entry in top.children("images"):
        key = entry.get("id", (int, str))
        name = entry.text("file_name")
        image = by_file.get(name)
        if image is None:
            image = DocImage(
                file=name,
                where=f"{file.name} {entry.path}",
                width=entry.integer("width", None),
                height=entry.integer("height", None),
                split=_split_of(file),
                search=search,
            )
            doc.images.append(image)
        images[key] = image
    extra = 0
    for ann in top.children("annotations"):
        image = images.get(_image_key(ann))
        if image is None:
            raise ann.error("image_id", f"names image {ann.value['image_id']!r}, which is not in $.images")
        text = ann.text("caption").strip()
        if image.caption:
            extra += text != image.caption
        else:
            image.caption = text
    if extra:
        doc.notes.append(f"{file.name}: {extra:,} further captions were not imported (an image keeps one caption)")


def write(doc: DatasetDoc, output: Output, model: str | None = None) -> None:
    labels = doc.used_labels()
    if any(box.label is None for image in doc.images for box in image.boxes):
        labels.append(UNLABELED)
        output.notes.append(f"boxes without a label were written with the category {UNLABELED!r}")
    category = {name: i for i, name in enumerate(labels, 1)}
    images, annotations, captions = [], [], []
    for image_id, image in enumerate(doc.images, 1):
        name = output.image(image, "images").split("/", 1)[1]
        images.append({"id": image_id, "file_name": name, "width": image.width, "height": image.height})
        for box in image.boxes:
            x, y = fmt_number(box.x1), fmt_number(box.y1)
            w, h = fmt_number(box.x2 - box.x1), fmt_number(box.y2 - box.y1)
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": category[box.label or UNLABELED],
                    "bbox": [x, y, w, h],
                    "area": fmt_number(w * h),
                    "iscrowd": 0,
                    "segmentation": [
                        [
                            x,
                            y,
                            fmt_number(box.x2),
                            y,
                            fmt_number(box.x2),
                            fmt_number(box.y2),
                            x,
                            fmt_number(box.y2),
                        ]
                    ],
                }
            )
        if image.caption:
            captions.append({"id": len(captions) + 1, "image_id": image_id, "caption": image.caption})
    info = {"description": "Exported by VLM Studio", "version": "1.0"}
    output.write_json(
        "annotations/instances.json",
        {
            "info": info,
            "licenses": [],
            "images": images,
            "annotations": annotations,
            "categories": [{"id": i, "name": name, "supercategory": ""} for name, i in category.items()],
        },
    )
    if captions:
        output.write_json(
            "annotations/captions.json",
            {"info": info, "licenses": [], "images": images, "annotations": captions},
        )
