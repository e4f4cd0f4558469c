"""Helpers for the dataset-format tests: tiny PNG files and comparable snapshots of annotations."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from studio.dataset.store import Project


def make_png(path: Path, width: int, height: int, *, orientation: int = 1) -> Path:
    """Write a small PNG (with an EXIF orientation tag when asked)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (width, height), (200, 120, 40))
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        image.save(path, exif=exif)
    else:
        image.save(path)
    return path


def snapshot(project: Project) -> dict[str, dict]:
    """Everything annotated per image file name, boxes rounded to 0.01 px, in a comparable form."""
    names = {label.id: label.name for label in project.labels()}
    result = {}
    for image in project.images():
        boxes = project.boxes(image.id)
        coords = {b.id: tuple(round(v, 2) for v in b.xyxy) for b in boxes}
        result[Path(image.path).name] = {
            "size": (image.width, image.height),
            "boxes": sorted((names.get(b.label_id), coords[b.id]) for b in boxes),
            "caption": project.caption(image.id),
            "phrases": sorted(
                (p.text, p.start, p.end, tuple(sorted(coords[i] for i in p.box_ids))) for p in project.phrases(image.id)
            ),
            "vqa": [(p.question, p.answer) for p in project.vqa(image.id)],
        }
    return result


def close_boxes(a: dict, b: dict, tolerance: float = 0.01) -> bool:
    """Two snapshots match, with box corners within ``tolerance`` px."""
    if a.keys() != b.keys():
        return False
    for name in a:
        left, right = a[name], b[name]
        if {k: v for k, v in left.items() if k != "boxes"} != {k: v for k, v in right.items() if k != "boxes"}:
            return False
        if len(left["boxes"]) != len(right["boxes"]):
            return False
        for (la, ca), (lb, cb) in zip(left["boxes"], right["boxes"], strict=True):
            if la != lb or any(abs(x - y) > tolerance for x, y in zip(ca, cb, strict=True)):
                return False
    return True
