"""Dataset files choose where images are read from, so they are read only inside the dataset's folder unless
the user allows otherwise (issue 17.4): a path outside is one reason, whether a file is there or not, and a
folder walk is refused outside and capped."""

from __future__ import annotations

import json

import pytest

from studio.cli import run as cli
from studio.dataset.formats.base import FormatError
from studio.dataset.formats.importing import import_dataset
from studio.dataset.formats.scope import OUTSIDE, ImageScope, image_scope, walk_images
from tests.unit.formats.formats_helpers import make_png


@pytest.fixture
def hostile_coco(tmp_path):
    """A COCO file inside ``dataset/`` naming an image inside, a real image outside (absolute and ../), a file
    outside that is not an image, and a file outside that does not exist."""
    make_png(tmp_path / "dataset" / "inside.png", 20, 10)
    outside = make_png(tmp_path / "elsewhere" / "real.png", 30, 20)
    (tmp_path / "elsewhere" / "notes.png").write_text("not an image")
    names = ["inside.png", str(outside), "../elsewhere/real.png", "../elsewhere/notes.png", "../elsewhere/gone.png",
             "/nonexistent/gone.png"]
    coco = {"images": [{"id": i, "file_name": name, "width": 0, "height": 0} for i, name in enumerate(names, 1)],
            "annotations": [], "categories": [{"id": 1, "name": "thing"}]}
    path = tmp_path / "dataset" / "coco.json"
    path.write_text(json.dumps(coco))
    return path, outside


def test_images_outside_the_dataset_folder_are_one_reason_and_never_looked_at(project, hostile_coco):
    path, _outside = hostile_coco
    report = import_dataset(project, "coco", path, dry_run=True)
    assert report.images_new == 1
    assert [(file, reason) for file, _where, reason in report.missing] == [
        (name, OUTSIDE) for name in (str(_outside), "../elsewhere/real.png", "../elsewhere/notes.png",
                                     "../elsewhere/gone.png", "/nonexistent/gone.png")]
    assert any("5 images lie outside the dataset folder" in note and "--allow-outside" in note
               for note in report.notes)


def test_allowing_outside_reads_them(project, hostile_coco):
    path, outside = hostile_coco
    report = import_dataset(project, "coco", path, allow_outside=True)
    assert report.images_new == 2 and {image.path for image in project.images()} >= {str(outside)}
    reasons = {file: reason for file, _where, reason in report.missing}
    assert "file not found" in reasons["../elsewhere/gone.png"] and reasons["../elsewhere/notes.png"] != OUTSIDE


def test_the_cli_refuses_outside_images_unless_allowed(project, hostile_coco, capsys):
    path, _outside = hostile_coco
    folder = str(project.folder)
    project.close()
    assert cli(["import", folder, "--format", "coco", str(path), "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["images_new"] == 1
    assert cli(["import", folder, "--format", "coco", str(path), "--dry-run", "--json", "--allow-outside"]) == 0
    assert json.loads(capsys.readouterr().out)["images_new"] == 2


def test_a_yolo_yaml_naming_the_root_folder_is_refused_without_walking_it(project, tmp_path, monkeypatch):
    import os

    walked = []
    real_walk = os.walk
    monkeypatch.setattr(os, "walk", lambda folder, *a, **k: walked.append(folder) or real_walk(folder, *a, **k))
    (tmp_path / "yolo").mkdir()
    (tmp_path / "yolo" / "data.yaml").write_text("names: [thing]\ntrain: /\n")
    with pytest.raises(FormatError, match=r"data\.yaml: train: / is outside the dataset folder"):
        import_dataset(project, "yolo", tmp_path / "yolo", dry_run=True)
    assert walked == []


def test_a_yolo_list_file_does_not_read_label_files_outside(project, tmp_path):
    """The label file beside an outside image would otherwise be read, and its text shown in the error."""
    secret = make_png(tmp_path / "private" / "secret.png", 8, 8)
    secret.with_suffix(".txt").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (tmp_path / "yolo").mkdir()
    (tmp_path / "yolo" / "train.txt").write_text(f"{secret}\n")
    (tmp_path / "yolo" / "data.yaml").write_text("names: [thing]\ntrain: train.txt\n")
    with pytest.raises(FormatError, match=OUTSIDE) as refused:  # its only image is outside: nothing to import
        import_dataset(project, "yolo", tmp_path / "yolo", dry_run=True)
    assert "root:x" not in str(refused.value)


def test_a_folder_walk_is_capped(tmp_path):
    for i in range(6):
        make_png(tmp_path / "many" / f"{i}.png", 4, 4)
    assert len(walk_images(tmp_path / "many", "data.yaml", "train", limit=6)) == 6
    with pytest.raises(FormatError, match=r"holds more than 5 files and folders"):
        walk_images(tmp_path / "many", "data.yaml", "train", limit=5)
    with image_scope(ImageScope(tmp_path / "many")), pytest.raises(FormatError, match="outside the dataset"):
        walk_images(tmp_path, "data.yaml", "train")


def test_symbolic_links_and_dot_dots_are_resolved_before_the_check(tmp_path):
    inside = make_png(tmp_path / "dataset" / "images" / "a.png", 4, 4)
    make_png(tmp_path / "private" / "b.png", 4, 4)
    (tmp_path / "dataset" / "link").symlink_to(tmp_path / "private")
    (tmp_path / "dataset" / "b.png").symlink_to(tmp_path / "private" / "b.png")
    scope = ImageScope(tmp_path / "dataset")
    assert scope.allows(inside) and scope.allows(tmp_path / "dataset" / "images" / ".." / "images" / "a.png")
    assert not scope.allows(tmp_path / "dataset" / "link" / "b.png")  # a folder link leading out
    assert not scope.allows(tmp_path / "dataset" / "b.png")  # a file link leading out
    assert scope.allows(tmp_path / "dataset" / "link" / ".." / "dataset" / "images" / "a.png")  # ".." of private
    assert not scope.allows(tmp_path / "dataset" / "..")
