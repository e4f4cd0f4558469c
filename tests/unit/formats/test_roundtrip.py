"""Export -> import -> export -> import: every format keeps what it can carry, to 0.01 px."""

from __future__ import annotations

import math

import pytest

from studio.dataset.formats.exporting import export_dataset
from studio.dataset.formats.importing import import_dataset
from studio.dataset.store import Project
from tests.unit.formats.formats_helpers import close_boxes, snapshot

# The formats without a model; trainer formats have their own tests.
PLAIN = ["coco", "yolo", "voc", "labelme", "odvg"]


def expected(fmt: str, full: dict) -> dict:
    """What ``fmt`` can carry of the annotated project's snapshot."""
    result = {}
    for name, item in full.items():
        keep = dict(item, vqa=[])
        if fmt in ("yolo", "voc", "labelme"):
            keep.update(caption="", phrases=[])
        if fmt == "voc":  # whole pixels by default
            keep["boxes"] = sorted((label, tuple(float(math.floor(c + 0.5)) for c in xyxy)) for label, xyxy in
                                   keep["boxes"])
        if fmt == "coco":
            keep.update(phrases=[])
        result[name] = keep
    return result


@pytest.mark.parametrize("fmt", PLAIN)
def test_round_trip(fmt, annotated, other_project, tmp_path):
    first = export_dataset(annotated, fmt, tmp_path / "first")
    assert first.images == 3
    report = import_dataset(other_project, fmt, tmp_path / "first")
    assert report.missing == []
    assert report.images_new == 3
    after = snapshot(other_project)
    assert close_boxes(after, expected(fmt, snapshot(annotated)))
    export_dataset(other_project, fmt, tmp_path / "second")
    with Project.create(tmp_path / "third") as third:
        import_dataset(third, fmt, tmp_path / "second")
        assert close_boxes(snapshot(third), after, tolerance=0.0)


@pytest.mark.parametrize("fmt", PLAIN)
def test_reimport_adds_nothing_twice(fmt, annotated, tmp_path):
    export_dataset(annotated, fmt, tmp_path / "out")
    with Project.create(tmp_path / "again") as again:
        import_dataset(again, fmt, tmp_path / "out")
        before = snapshot(again)
        report = import_dataset(again, fmt, tmp_path / "out")
        assert report.images_new == 0 and report.images_existing == 3
        assert report.boxes == 0
        assert snapshot(again) == before


def test_split_export_writes_only_that_split(annotated, other_project, tmp_path):
    export_dataset(annotated, "coco", tmp_path / "val", split="val")
    import_dataset(other_project, "coco", tmp_path / "val")
    assert list(snapshot(other_project)) == ["street.png"]


def test_export_refuses_a_folder_with_files_and_leaves_nothing_on_failure(annotated, tmp_path, monkeypatch):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    with pytest.raises(ValueError, match="not an empty folder"):
        export_dataset(annotated, "coco", busy)
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]

    from studio.dataset.formats import coco

    def broken(doc, output, model=None):
        output.write_text("annotations/instances.json", "{")
        raise OSError("disk full")

    monkeypatch.setattr(coco, "write", broken)
    with pytest.raises(OSError, match="disk full"):
        export_dataset(annotated, "coco", tmp_path / "new")
    assert not (tmp_path / "new").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".new")] == []


def test_rotated_image_is_exported_upright(annotated, tmp_path):
    from PIL import Image

    export_dataset(annotated, "labelme", tmp_path / "out")
    with Image.open(tmp_path / "out" / "images" / "rotated.png") as image:
        assert image.size == (30, 40)
        assert image.getexif().get(0x0112, 1) == 1
