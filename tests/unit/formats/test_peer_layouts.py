"""Exports laid out as the peers' own loaders read them (issue 20): Ultralytics' label paths, ODVG's one box per
region and its label map, VOC's whole-pixel corners."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from studio.dataset.formats.exporting import ExportOptions, export_dataset
from studio.dataset.formats.importing import import_dataset
from tests.unit.formats.formats_helpers import snapshot


def ultralytics_label_paths(images: list[str]) -> list[str]:
    """Ultralytics' documented ``img2label_paths``: the last /images/ becomes /labels/, the suffix .txt."""
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    return [sb.join(x.rsplit(sa, 1)).rsplit(".", 1)[0] + ".txt" for x in images]


def test_yolo_labels_are_where_ultralytics_looks(annotated, tmp_path):
    out = tmp_path / "yolo"
    export_dataset(annotated, "yolo", out)
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert Path(data["path"]) == out
    images = sorted(str(p) for split in ("train", "val") for p in (Path(data["path"]) / data[split]).iterdir())
    assert len(images) == 3 and not [p for p in images if p.endswith(".txt")]
    lines = {Path(i).name: Path(label).read_text().splitlines() for i, label in
             zip(images, ultralytics_label_paths(images), strict=True)}
    assert {name: len(rows) for name, rows in lines.items()} == {"cat.png": 1, "rotated.png": 1, "street.png": 3}
    assert not list((out / "images").rglob("*.txt"))


def test_odvg_regions_hold_one_box_and_every_record_has_detection(annotated, tmp_path):
    out = tmp_path / "odvg"
    report = export_dataset(annotated, "odvg", out)
    records = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    label_map = json.loads((out / "label_map.json").read_text())
    assert all("detection" in r for r in records)  # Open-GroundingDino reads record["detection"] with a label map
    for record in records:
        for region in record.get("grounding", {}).get("regions", []):
            assert len(region["bbox"]) == 4 and all(isinstance(v, (int, float)) for v in region["bbox"])
        for item in record["detection"]["instances"]:
            assert label_map[str(item["label"])] == item["category"]
    street = next(r for r in records if r["filename"] == "street.png")
    assert [r["phrase"] for r in street["grounding"]["regions"]] == ["two people", "two people", "red sports car"]
    assert sorted(i["category"] for i in street["detection"]["instances"]) == ["person", "person", "sports car"]
    assert not any("without labels" in note for note in report.notes)
    assert any("1 images without a caption have no grounding regions" in note for note in report.notes)


def test_odvg_round_trip_keeps_labels_of_grounded_boxes(annotated, other_project, tmp_path):
    export_dataset(annotated, "odvg", tmp_path / "odvg")
    import_dataset(other_project, "odvg", tmp_path / "odvg")
    source, after = snapshot(annotated), snapshot(other_project)
    assert after == source | {name: dict(item, vqa=[]) for name, item in source.items()}


def test_voc_writes_whole_pixels_by_default_and_exact_on_request(annotated, tmp_path):
    export_dataset(annotated, "voc", tmp_path / "whole")
    export_dataset(annotated, "voc", tmp_path / "exact", options=ExportOptions(whole_pixels=False))

    def corners(folder):
        root = ET.parse(folder / "Annotations" / "cat.xml").getroot()
        return [root.findtext(f"object/bndbox/{tag}") for tag in ("xmin", "ymin", "xmax", "ymax")]

    assert corners(tmp_path / "whole") == ["1", "3", "31", "40"]
    assert corners(tmp_path / "exact") == ["1.25", "2.5", "30.75", "40.125"]
