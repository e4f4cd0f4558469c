"""Imports of files that other tools wrote in their own layouts (tests/data, see its README): fiftyone's COCO and
VOC exports, its Ultralytics-layout YOLO export read from a relative folder, ms-swift grounding records,
labelme's tutorial-style file with an embedded image, and X-AnyLabeling's od.json. Also: an import that finds no
image fails and changes nothing; one that misses some says how many and names them; unused categories are not
created."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from studio.cli import run
from studio.dataset.formats.base import FormatError
from studio.dataset.formats.importing import apply_import, import_dataset, plan_import
from studio.dataset.imaging import read_image_info
from tests.unit.formats.formats_helpers import snapshot

DATA = Path(__file__).resolve().parents[2] / "data"


def _copy(name: str, tmp_path: Path) -> Path:
    """A copy of one peer's files (tests change some of them)."""
    return Path(shutil.copytree(DATA / name, tmp_path / "peers" / name))


def _labels(project) -> set[str]:
    return {label.name for label in project.labels()}


# ---------------------------------------------------------------- COCO (fiftyone's layout)
def test_coco_finds_the_images_of_fiftyones_layout_and_creates_only_used_categories(project, tmp_path):
    folder = _copy("fiftyone/coco", tmp_path)
    report = import_dataset(project, "coco", folder)
    assert (report.images_new, report.boxes, report.missing) == (2, 3, [])
    assert report.new_labels == ["cat", "dog"] and report.unused_labels == ["airplane", "bird"]
    assert "not created (2): airplane, bird" in report.summary()
    assert _labels(project) == {"cat", "dog"}
    got = snapshot(project)
    assert got["000001.jpg"]["boxes"] == [("cat", (2.5, 3, 14.5, 13.25)), ("dog", (16, 4, 30, 22))]
    assert got["000002.jpg"]["boxes"] == [("cat", (1, 1, 9, 9))]


def test_coco_import_that_finds_no_image_fails_says_where_it_looked_and_creates_nothing(project, tmp_path, capsys):
    folder = _copy("fiftyone/coco", tmp_path)
    shutil.rmtree(folder / "data")
    before = project.counts()
    with pytest.raises(FormatError, match="none of the 2 images it names was found") as caught:
        import_dataset(project, "coco", folder / "labels.json")
    assert f"looked in {folder}" in str(caught.value) and "000001.jpg" in str(caught.value)
    assert project.counts() == before and _labels(project) == set()
    status = run(["import", str(project.folder), "--format", "coco", str(folder)])
    err = capsys.readouterr().err
    assert status != 0 and "none of the 2 images" in err and "looked in" in err
    assert project.counts() == before and _labels(project) == set()


def test_an_import_that_misses_some_images_says_how_many_and_names_them(project, tmp_path, capsys):
    folder = _copy("fiftyone/coco", tmp_path)
    (folder / "data" / "000002.jpg").unlink()
    status = run(["import", str(project.folder), "--format", "coco", str(folder)])
    out = capsys.readouterr().out
    assert status == 0 and project.image_count() == 1
    assert "Missed 1 of the 2 images the dataset names" in out and "000002.jpg (labels.json $.images[1])" in out


# ---------------------------------------------------------------- YOLO (Ultralytics layout, relative paths)
@pytest.mark.parametrize("given", ["fiftyone/yolo", "fiftyone/yolo/dataset.yaml"])
def test_yolo_from_a_relative_folder_with_a_relative_data_yaml(project, tmp_path, monkeypatch, given):
    _copy("fiftyone/yolo", tmp_path)
    monkeypatch.chdir(tmp_path / "peers")
    report = import_dataset(project, "yolo", given)
    assert (report.images_new, report.boxes, report.missing) == (2, 2, [])
    assert report.new_labels == ["person", "bicycle"] and report.unused_labels == ["car"]
    got = snapshot(project)
    assert got["a.jpg"]["boxes"] == [("person", (10, 5, 30, 15))]
    assert got["b.jpg"]["boxes"] == [("bicycle", (0, 20, 10, 40))]
    assert {image.split for image in project.images()} == {"train", "val"}


def test_yolo_path_relative_to_the_yaml_and_a_path_that_moved(project, tmp_path, monkeypatch):
    root = _copy("fiftyone/yolo", tmp_path)
    monkeypatch.chdir(tmp_path)
    text = (root / "dataset.yaml").read_text()
    (root / "dataset.yaml").write_text("path: .\n" + text)
    assert import_dataset(project, "yolo", "peers/fiftyone/yolo", dry_run=True).images_new == 2
    (root / "dataset.yaml").write_text("path: ../datasets/yolo  # where it was written\n" + text)
    report = import_dataset(project, "yolo", "peers/fiftyone/yolo", dry_run=True)
    assert report.images_new == 2 and any("is not a folder here" in note for note in report.notes)


def test_yolo_split_entries_starting_with_dotdot_that_are_not_there_drop_it(project, tmp_path):
    root = _copy("fiftyone/yolo", tmp_path)  # Roboflow writes "../train/images" beside the split folders
    (root / "data.yaml").write_text("train: ../images/train\nval: ../images/val\nnames: [person, bicycle, car]\n")
    assert import_dataset(project, "yolo", root / "data.yaml", dry_run=True).images_new == 2


# ---------------------------------------------------------------- VOC (fiftyone's layout)
def test_voc_reads_fiftyones_layout_whose_paths_name_where_it_was_written(project, tmp_path):
    folder = _copy("fiftyone/voc", tmp_path)  # <path> names the folder fiftyone wrote to, not this copy
    report = import_dataset(project, "voc", folder)
    assert (report.images_new, report.boxes, report.missing) == (2, 3, [])
    got = snapshot(project)
    # fiftyone writes whole pixels, rounded down (14.5 -> 14, 13.25 -> 13)
    assert got["000001.jpg"]["boxes"] == [("cat", (2, 3, 14, 13)), ("dog", (16, 4, 30, 22))]
    assert got["000002.jpg"]["boxes"] == [("cat", (1, 1, 9, 9))]


# ---------------------------------------------------------------- ms-swift grounding records
def test_msswift_grounded_captions_keep_the_caption_and_link_every_box_of_a_ref(project, tmp_path):
    folder = _copy("msswift", tmp_path)
    report = import_dataset(project, "msswift", folder / "grounding.jsonl")
    assert (report.images_new, report.captions, report.phrases, report.vqa_pairs) == (3, 2, 3, 0)
    got = snapshot(project)
    assert got["beach.jpg"]["caption"] == "a dog and a woman are playing on the beach"
    assert got["beach.jpg"]["phrases"] == [
        ("a dog", 0, 5, ((3.5, 20, 20, 44),)),
        ("a woman", 10, 17, ((30, 5, 50, 46.5),)),
    ]
    assert got["beach.jpg"]["boxes"] == [(None, (3.5, 20, 20, 44)), (None, (30, 5, 50, 46.5))]
    assert got["field.jpg"]["caption"] == "two sheep graze beside a fence"
    assert got["field.jpg"]["phrases"] == [("two sheep", 0, 9, ((2, 10, 15, 30), (25, 12, 40, 33)))]
    # a question naming one ref, answered by two boxes: both are that ref's
    assert got["pasture.jpg"]["boxes"] == [("sheep", (1, 2, 20, 28)), ("sheep", (33, 4, 58, 29))]
    assert got["pasture.jpg"]["caption"] == ""


# ---------------------------------------------------------------- labelme (embedded image data)
def test_labelme_uses_the_embedded_image_when_image_path_names_no_image(project, tmp_path):
    folder = _copy("labelme", tmp_path)
    dry = import_dataset(project, "labelme", folder, dry_run=True)
    assert (dry.images_new, dry.boxes) == (2, 3) and not project.assets_dir.exists()
    assert any("embedded" in note for note in dry.notes)
    report = import_dataset(project, "labelme", folder)
    assert [(file, reason.split(" (")[0]) for file, _where, reason in report.missing] == [
        ("missing_image.jpg", "file not found")
    ]
    # the labels of the one file whose image was not found are not created
    assert _labels(project) == {"shelf", "mead_index_cards"}
    embedded = [image for image in project.images() if Path(image.path).parent == project.assets_dir.resolve()]
    assert len(embedded) == 1
    stored = Path(embedded[0].path)
    assert stored.name.startswith("tutorial_style_") and stored.suffix == ".jpg"
    info = read_image_info(stored)
    assert (info.width, info.height, info.format) == (32, 24, "JPEG")
    assert [p.name for p in project.assets_dir.iterdir()] == [stored.name]  # no temporary file left
    got = snapshot(project)
    assert got[stored.name]["boxes"] == [("mead_index_cards", (4, 5, 12, 14)), ("shelf", (1.5, 2, 30, 20.5))]
    again = import_dataset(project, "labelme", folder)
    assert (again.images_new, again.images_existing, again.boxes) == (0, 2, 0)
    assert len(list(project.assets_dir.iterdir())) == 1


def test_a_failed_import_leaves_no_embedded_image_behind(project, tmp_path, monkeypatch):
    folder = _copy("labelme", tmp_path)
    plan = plan_import(project, "labelme", folder)

    def failing(*args, **kwargs):
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(project, "add_box", failing)
    with pytest.raises(RuntimeError):
        apply_import(project, plan)
    assert project.image_count() == 0 and list(project.assets_dir.iterdir()) == []


# ---------------------------------------------------------------- ODVG (X-AnyLabeling's od.json)
def test_odvg_folder_reads_x_anylabelings_od_json(project, tmp_path):
    folder = _copy("xanylabeling/odvg", tmp_path)
    report = import_dataset(project, "odvg", folder)
    assert (report.images_new, report.boxes, report.missing) == (2, 2, [])
    assert report.new_labels == ["person", "dog"] and report.unused_labels == ["kite"]
    got = snapshot(project)
    assert got["walk.jpg"]["boxes"] == [("dog", (20.5, 14, 36, 29)), ("person", (2, 3, 15, 28))]
    assert got["park.jpg"]["boxes"] == []


def test_odvg_json_file_holding_a_list_of_records(project, tmp_path):
    folder = _copy("xanylabeling/odvg", tmp_path)
    records = [line for line in (folder / "od.json").read_text().splitlines() if line]
    (folder / "od.json").write_text("[\n" + ",\n".join(records) + "\n]\n")
    report = import_dataset(project, "odvg", folder / "od.json")
    assert (report.images_new, report.boxes) == (2, 2)
