"""Seeded, stratified splits; the import / export / split commands."""

from __future__ import annotations

import argparse
import json

import pytest

from studio.cli import formats as cli_formats
from studio.dataset.imaging import read_image_info
from studio.dataset.splits import allocate, assign_splits
from studio.dataset.store import Project
from tests.unit.formats.formats_helpers import make_png


def _images(project, tmp_path, count):
    files = [make_png(tmp_path / "img" / f"{i:03d}.png", 8, 8) for i in range(count)]
    return project.add_images([read_image_info(f) for f in files])


def test_allocate_gives_every_used_split_one():
    ratios = {"train": 0.8, "val": 0.1, "test": 0.1}
    assert allocate(3, ratios) == {"train": 1, "val": 1, "test": 1}
    assert allocate(10, ratios) == {"train": 8, "val": 1, "test": 1}
    assert allocate(2, ratios)["train"] >= 1
    assert allocate(5, {"train": 1.0, "val": 0.0, "test": 0.0}) == {"train": 5, "val": 0, "test": 0}


def test_rare_labels_reach_every_split_and_seed_repeats(project, tmp_path):
    ids = _images(project, tmp_path, 60)
    common, rare = project.ensure_label("car").id, project.ensure_label("unicorn").id
    for i in ids:
        project.add_box(i, common, 0, 0, 4, 4)
    for i in ids[:3]:
        project.add_box(i, rare, 1, 1, 2, 2)
    report = assign_splits(project, 0.8, 0.1, 0.1, seed=7)
    assert report.counts == {"train": 48, "val": 6, "test": 6}
    assert report.labels["unicorn"] == {"train": 1, "val": 1, "test": 1}
    first = [image.split for image in project.images()]
    assign_splits(project, 0.8, 0.1, 0.1, seed=7)
    assert [image.split for image in project.images()] == first
    assign_splits(project, 0.8, 0.1, 0.1, seed=8)
    assert [image.split for image in project.images()] != first


def test_a_small_project_keeps_its_ratios(project, tmp_path):
    """20 images, 10 annotated with three labels: rare labels reach val and test only while those splits are
    below their share, so training keeps most annotated images (it had 4 of 10, val and test 3 each)."""
    ids = _images(project, tmp_path, 20)
    for n, image_id in enumerate(ids[:10]):
        project.add_box(image_id, project.ensure_label(("red", "green", "blue")[n % 3]).id, 0, 0, 4, 4)
    report = assign_splits(project, 0.8, 0.1, 0.1, seed=0)
    assert report.counts == {"train": 16, "val": 2, "test": 2}
    annotated = [project.image(i).split for i in ids[:10]]
    assert annotated.count("train") >= 6


def test_pinned_images_keep_their_split(project, tmp_path):
    ids = _images(project, tmp_path, 20)
    project.set_split(ids[:5], "test", pinned=True)
    report = assign_splits(project, 1, 0, 0, seed=0)
    assert report.pinned == 5
    assert [image.split for image in project.images()] == ["test"] * 5 + ["train"] * 15


def test_only_unsplit_deals_out_only_the_new_images(project, tmp_path):
    ids = _images(project, tmp_path, 30)
    project.set_split(ids[:10], "val")
    project.set_split(ids[10:12], "test", pinned=True)
    report = assign_splits(project, 0.5, 0.5, 0, seed=3, only_unsplit=True)
    splits = [image.split for image in project.images()]
    assert splits[:12] == ["val"] * 10 + ["test"] * 2  # kept, pinned or not
    assert sorted(splits[12:]) == ["train"] * 9 + ["val"] * 9
    assert (report.kept, report.pinned, report.assigned) == (10, 2, 18)
    assert report.counts == {"train": 9, "val": 19, "test": 2}
    assert "18 images assigned; 2 pinned and 10 already split kept their split" in report.summary()
    again = assign_splits(project, 0.5, 0.5, 0, seed=3, only_unsplit=True)
    assert again.assigned == 0 and [image.split for image in project.images()] == splits


def test_bad_ratios_are_refused(project):
    with pytest.raises(ValueError, match="ratios"):
        assign_splits(project, -1, 0.5, 0.5)
    with pytest.raises(ValueError, match="ratios"):
        assign_splits(project, 0, 0, 0)


def _run(argv):
    parser = argparse.ArgumentParser()
    cli_formats.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_cli_import_dry_run_export_and_split(annotated, tmp_path, capsys):
    folder = str(annotated.folder)
    annotated.close()
    assert _run(["export", folder, "--format", "coco", str(tmp_path / "out"), "--json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["images"] == 3 and exported["boxes"] == 5

    target = Project.create(tmp_path / "target")
    target.close()
    dry_run = ["import", str(target.folder), "--format", "coco", str(tmp_path / "out"), "--dry-run", "--json"]
    assert _run(dry_run) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] is True and dry["images_new"] == 3 and dry["boxes"] == 5
    assert dry["new_labels"] == ["cat", "person", "sports car"] and dry["images_not_found"] == []
    with Project.open(target.folder) as opened:
        assert opened.image_count() == 0
    assert _run(["import", str(target.folder), "--format", "coco", str(tmp_path / "out")]) == 0
    assert "Imported 3 new images" in capsys.readouterr().out
    assert _run(["split", str(target.folder), "--train", "0.5", "--val", "0.5", "--test", "0", "--json"]) == 0
    split = json.loads(capsys.readouterr().out)
    assert sorted(split["counts"].values()) == [1, 2]
    with Project.open(target.folder) as opened:
        opened.set_split([opened.images()[0].id], "")
        before = [image.split for image in opened.images()]
    assert _run(["split", str(target.folder), "--train", "1", "--val", "0", "--test", "0", "--only-unsplit",
                 "--json"]) == 0
    split = json.loads(capsys.readouterr().out)
    assert split["assigned"] == 1 and split["kept"] == 2
    with Project.open(target.folder) as opened:
        assert [image.split for image in opened.images()] == ["train", *before[1:]]
