"""The built-in sample project and the synthetic scenes behind it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from studio.dataset.sample import build_sample_project, create_sample_project
from studio.dataset.store import Project, ProjectError
from studio.dataset.synthetic import make_scene
from studio.jobs import Cancelled, CancelToken


def test_scenes_are_deterministic_and_consistent():
    for index in range(30):
        scene, again = make_scene(0, index), make_scene(0, index)
        assert scene.caption == again.caption and scene.vqa == again.vqa
        assert scene.image.tobytes() == again.image.tobytes()
        width, height = scene.image.size
        assert 160 <= width <= 256 and 160 <= height <= 256
        linked = sorted(i for phrase in scene.phrases for i in phrase.shape_indexes)
        assert linked == list(range(len(scene.shapes)))  # every shape is named by exactly one phrase
        for phrase in scene.phrases:
            text = scene.caption[phrase.start:phrase.end]
            for i in phrase.shape_indexes:
                assert scene.shapes[i].shape in text and scene.shapes[i].colour in text
        for shape in scene.shapes:
            x1, y1, x2, y2 = shape.box
            assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height


def test_scene_boxes_are_tight_around_the_drawn_shape():
    scene = make_scene(5, 3)
    pixels = scene.image.load()
    for shape in scene.shapes:
        x1, y1, x2, y2 = (int(v) for v in shape.box)
        # the shape colour dominates the lower middle of its box (inside circles, squares and triangles alike)
        r, g, b = pixels[(x1 + x2) // 2, y1 + (y2 - y1) * 3 // 4]
        channel = {"red": 0, "green": 1, "blue": 2}[shape.colour]
        assert (r, g, b)[channel] == max(r, g, b)


def test_vqa_answers_are_true():
    for index in range(40):
        scene = make_scene(1, index)
        kinds = [s.shape for s in scene.shapes]
        for question, answer in scene.vqa:
            if question == "How many shapes are there?":
                assert answer == str(len(scene.shapes))
            elif question.startswith("How many"):
                assert answer == str(kinds.count(question.split()[2][:-1]))
            elif question.startswith("What colour"):
                kind = question.split()[-1][:-1]
                assert answer == scene.shapes[kinds.index(kind)].colour


def test_project_words_rename_the_text_not_the_picture():
    words = {"circle": "ball", "square": "block", "triangle": "wedge", "red": "cherry"}
    for index in range(30):
        plain, named = make_scene(2, index), make_scene(2, index, words=words)
        assert named.image.tobytes() == plain.image.tobytes() and named.shapes == plain.shapes
        assert named.phrases
        assert [p.shape_indexes for p in named.phrases] == [p.shape_indexes for p in plain.phrases]
        renamed = named.caption + " ".join(q + " " + a for q, a in named.vqa)
        assert not any(word in renamed for word in ("circle", "square", "triangle", "red"))
        for phrase in named.phrases:
            text = named.caption[phrase.start : phrase.end]
            for i in phrase.shape_indexes:
                shape = named.shapes[i]
                assert words[shape.shape] in text and words.get(shape.colour, shape.colour) in text
        assert [a for _, a in named.vqa] == [words.get(a, a) for _, a in plain.vqa]


def test_sample_project_is_annotated_split_and_reproducible(tmp_path):
    with create_sample_project(tmp_path / "a", count=40) as project:
        counts = project.counts()
        first = [(i.width, i.height, i.split) for i in project.images()]
        annotation = project.annotation(project.images()[0].id)
        digest_a = hashlib.sha1((project.assets_dir / "shapes_0007.jpg").read_bytes()).hexdigest()
    assert counts["images"] == 40 and counts["labels"] == 9
    assert counts["phrases"] == counts["linked_phrases"] > 0
    assert counts["vqa_pairs"] == 120
    assert counts["splits"] == {"train": 36, "val": 4}
    assert annotation.caption and annotation.boxes and annotation.vqa
    with create_sample_project(tmp_path / "b", count=40) as project:
        assert [(i.width, i.height, i.split) for i in project.images()] == first
        assert hashlib.sha1((project.assets_dir / "shapes_0007.jpg").read_bytes()).hexdigest() == digest_a


def test_a_sample_is_built_whole_or_not_at_all(tmp_path):
    empty = tmp_path / "chosen"
    empty.mkdir()
    folder = build_sample_project(empty, count=6)
    with Project.open(folder, read_only=True) as project:
        assert project.counts()["images"] == 6
        assert all(Path(image.path).is_relative_to(folder) and Path(image.path).is_file()
                   for image in project.images())
    assert not (tmp_path / "chosen.partial").exists()
    with pytest.raises(ProjectError, match="not empty"):
        build_sample_project(folder, count=6)
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        build_sample_project(tmp_path / "other", count=6, cancel=cancel)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chosen"]
