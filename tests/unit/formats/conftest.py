"""Fixtures for the dataset-format tests: a second project and an annotated one."""

from __future__ import annotations

import pytest

from studio.dataset.store import Project
from tests.unit.formats.formats_helpers import make_png


@pytest.fixture
def other_project(tmp_path):
    """A second empty project, for re-imports."""
    with Project.create(tmp_path / "other") as opened:
        yield opened


@pytest.fixture
def annotated(project, tmp_path):
    """A project with three images (one with EXIF orientation 6), labelled boxes, a caption with phrases
    (one phrase repeated, one linked to two boxes), VQA pairs, and splits."""
    from studio.dataset.imaging import read_image_info

    files = [
        make_png(tmp_path / "src" / "cat.png", 64, 48),
        make_png(tmp_path / "src" / "street.png", 80, 60),
        make_png(tmp_path / "src" / "rotated.png", 40, 30, orientation=6),
    ]
    ids = project.add_images([read_image_info(f) for f in files])
    cat = project.ensure_label("cat").id
    person = project.ensure_label("person").id
    car = project.ensure_label("sports car").id
    b1 = project.add_box(ids[0], cat, 1.25, 2.5, 30.75, 40.125)
    b2 = project.add_box(ids[1], person, 0, 0, 10.5, 20)
    b3 = project.add_box(ids[1], person, 40, 10, 52.333, 33.667)
    b4 = project.add_box(ids[1], car, 5, 30, 79.99, 59.5)
    project.add_box(ids[2], cat, 3, 4, 25, 38)  # the upright image is 30 x 40
    project.set_caption(ids[0], "a cat on a mat")
    project.add_phrase(ids[0], 0, 5, [b1])
    project.set_caption(ids[1], "two people and a red sports car; the people wave")
    project.add_phrase(ids[1], 0, 10, [b2, b3])
    project.add_phrase(ids[1], 17, 31, [b4])
    project.add_vqa(ids[0], "What animal is this?", "A cat.")
    project.add_vqa(ids[0], "Is it on a mat?", "Yes")
    project.add_vqa(ids[1], "How many people?", "2")
    project.set_split([ids[0], ids[2]], "train")
    project.set_split([ids[1]], "val")
    return project
