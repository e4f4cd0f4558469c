"""labelme JSON: one file per image (``imagePath`` relative to the JSON file, ``imageWidth``/``imageHeight``,
``shapes`` with ``label``, ``points`` in pixels and ``shape_type``, and maybe the image itself, base64, in
``imageData``: the importer uses it when ``imagePath`` names no readable image, as in labelme's own tutorial file).

Rectangles (and masks, whose points span their box) import as boxes; polygons and circles become their
bounding box, with a note in the report; points and lines are not boxes and are skipped, also with a note.
"""

from __future__ import annotations

import base64
import binascii
import math
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

UNLABELED = "unlabeled"
LABELME_VERSION = "5.5.0"
_SKIPPED = ("point", "line", "linestrip", "points")


def read(path: Path, model: str | None = None) -> DatasetDoc:
    files = [path] if path.is_file() else sorted(path.rglob("*.json"))
    if not files:
        raise FormatError(path, "", "expected labelme JSON files in this folder")
    doc = DatasetDoc(source=path)
    counts = {"polygon": 0, "circle": 0, "skipped": 0}
    for file in files:
        doc.images.append(_read_file(file, counts))
    if counts["polygon"]:
        doc.notes.append(f"{counts['polygon']:,} polygons became their bounding boxes")
    if counts["circle"]:
        doc.notes.append(f"{counts['circle']:,} circles became their bounding boxes")
    if counts["skipped"]:
        doc.notes.append(f"{counts['skipped']:,} points and lines were skipped (they are not boxes)")
    return doc


def _read_file(file: Path, counts: dict[str, int]) -> DocImage:
    top = Fields(file, "$", load_json(file))
    if "shapes" not in top.value or "imagePath" not in top.value:
        raise FormatError(file, "$", "expected a labelme file (with 'shapes' and 'imagePath')")
    image = DocImage(
        file=top.text("imagePath"),
        where=str(file),
        width=top.integer("imageWidth", None),
        height=top.integer("imageHeight", None),
        search=(file.parent,),
    )
    if isinstance(top.value.get("imageData"), str) and top.value["imageData"]:
        image.embedded = lambda: _image_data(file)
    for shape in top.children("shapes"):
        kind = shape.text("shape_type", "polygon")
        points = shape.items("points")
        xy = [numbers(file, f"{shape.path}.points[{i}]", p, 2) for i, p in enumerate(points)]
        label = shape.text("label").strip() or None
        if kind in _SKIPPED:
            counts["skipped"] += 1
            continue
        if kind in ("rectangle", "mask") and len(xy) == 2:
            (ax, ay), (bx, by) = xy
            box = (min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))
        elif kind == "circle" and len(xy) == 2:
            (cx, cy), (px, py) = xy
            radius = math.hypot(px - cx, py - cy)
            box = (cx - radius, cy - radius, cx + radius, cy + radius)
            counts["circle"] += 1
        elif kind == "polygon" and len(xy) >= 3:
            xs, ys = [p[0] for p in xy], [p[1] for p in xy]
            box = (min(xs), min(ys), max(xs), max(ys))
            counts["polygon"] += 1
        else:
            raise shape.error(
                "points",
                f"a {kind} needs {'3 or more' if kind == 'polygon' else '2'} points, found {len(xy)}",
            )
        image.boxes.append(ordered_box(file, f"{shape.path}.points", label, *box))
    return image


def _image_data(file: Path) -> bytes:
    """The image a labelme file embeds (``imageData``, base64), read again from the file when needed."""
    data = Fields(file, "$", load_json(file)).text("imageData")
    try:
        return base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        raise FormatError(file, "$.imageData", "expected the image as base64 text") from None


def write(doc: DatasetDoc, output: Output, model: str | None = None) -> None:
    unlabeled = 0
    for image in doc.images:
        relative = output.image(image, "images")
        name = relative.split("/", 1)[1]
        shapes = []
        for box in image.boxes:
            unlabeled += box.label is None
            shapes.append(
                {
                    "label": box.label or UNLABELED,
                    "points": [
                        [fmt_number(box.x1), fmt_number(box.y1)],
                        [fmt_number(box.x2), fmt_number(box.y2)],
                    ],
                    "group_id": None,
                    "description": "",
                    "shape_type": "rectangle",
                    "flags": {},
                    "mask": None,
                }
            )
        output.write_json(
            f"images/{Path(name).stem}.json",
            {
                "version": LABELME_VERSION,
                "flags": {},
                "shapes": shapes,
                "imagePath": name,
                "imageData": None,
                "imageHeight": image.height,
                "imageWidth": image.width,
            },
        )
    if unlabeled:
        output.notes.append(f"{unlabeled:,} boxes without a label were written as {UNLABELED!r}")
