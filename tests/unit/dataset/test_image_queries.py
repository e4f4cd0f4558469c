"""Image filters and project-wide summaries used by the Annotate mode."""

from __future__ import annotations

import pytest

from studio.dataset.queries import (
    ImageFilter,
    box_ids_with_label,
    filter_images,
    filter_images_at,
    frequent_questions,
    label_box_counts,
    unsplit_annotated,
)
from studio.dataset.store import NewImage
from studio.jobs import Cancelled, CancelToken


@pytest.fixture
def filled(project):
    ids = project.add_images([NewImage(f"/data/{i}.jpg", 10, 10) for i in range(5)])
    dog, cat = project.ensure_label("dog").id, project.ensure_label("cat").id
    project.add_box(ids[0], dog, 0, 0, 1, 1)
    project.add_box(ids[1], cat, 0, 0, 1, 1)
    project.set_caption(ids[2], "A red 100% cotton_shirt")
    project.add_vqa(ids[3], "What is red?", "The Ball")
    project.set_caption(ids[4], "")
    project.set_status(ids[1], "done")
    return ids, dog, cat


def test_unannotated_means_no_box_caption_or_vqa(project, filled):
    ids, _, _ = filled
    assert filter_images(project, ImageFilter(unannotated=True)) == [ids[4]]


def test_has_label_and_status(project, filled):
    ids, _, _ = filled
    assert filter_images(project, ImageFilter(label="dog")) == [ids[0]]
    assert filter_images(project, ImageFilter(label="cat", status="done")) == [ids[1]]
    assert filter_images(project, ImageFilter(label="dog", status="done")) == []
    assert filter_images(project, ImageFilter()) == ids
    with pytest.raises(ValueError, match="unknown status"):
        filter_images(project, ImageFilter(status="finished"))


def test_text_search_in_captions_questions_and_answers(project, filled):
    ids, _, _ = filled
    assert filter_images(project, ImageFilter(text="RED")) == [ids[2], ids[3]]
    assert filter_images(project, ImageFilter(text="the ball")) == [ids[3]]
    assert filter_images(project, ImageFilter(text="100%")) == [ids[2]]  # LIKE wildcards are literal
    assert filter_images(project, ImageFilter(text="n_s")) == [ids[2]]
    assert filter_images(project, ImageFilter(text="1_0")) == []


def test_split_among_some_images_and_in_a_worker_connection(project, filled):
    ids, _, _ = filled
    project.set_split(ids[1:3], "val")
    assert filter_images(project, ImageFilter(split="val")) == ids[1:3]
    assert filter_images(project, ImageFilter(split="unassigned")) == [ids[0], *ids[3:]]
    assert filter_images(project, ImageFilter(split="unassigned", label="dog"), among=ids[1:]) == []
    assert filter_images(project, ImageFilter(), among=reversed(ids[:3])) == ids[:3]  # in import order
    assert filter_images_at(project.folder, ImageFilter(split="val", text="red")) == [ids[2]]
    assert ImageFilter(split="val", text="red").columns == {"split", "path"}
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        filter_images(project, ImageFilter(split="dev"))


def test_a_cancelled_worker_query_stops(project):
    with project.conn:
        project.conn.execute("BEGIN")
        project.conn.executemany(
            "INSERT INTO images (path, width, height, file_size) VALUES (?, 1, 1, 1)",
            [(f"/data/{i}.jpg",) for i in range(20_000)],
        )
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        filter_images_at(project.folder, ImageFilter(text="nowhere"), cancel=token)
    assert filter_images_at(project.folder, ImageFilter(text="/data/1999."), cancel=CancelToken()) == [2000]


def test_images_by_id_reads_some_images(project, filled):
    ids, _, _ = filled
    found = project.images_by_id([ids[3], ids[0], 999])
    assert {i: image.name for i, image in found.items()} == {ids[0]: "0.jpg", ids[3]: "3.jpg"}


def test_frequent_questions_and_counts(project, filled):
    ids, dog, cat = filled
    project.add_vqa(ids[0], "What is red?", "")
    project.add_vqa(ids[0], "Any cats?", "")
    assert frequent_questions(project) == ["What is red?", "Any cats?"]
    assert label_box_counts(project) == {dog: 1, cat: 1}
    assert label_box_counts(project, ids[0]) == {dog: 1}
    assert box_ids_with_label(project, cat) == [b.id for b in project.boxes(ids[1])]
    assert ImageFilter().is_empty and not ImageFilter(text="x").is_empty


def test_unsplit_annotated_are_the_annotated_images_in_no_split(project, filled):
    ids, _dog, _cat = filled
    assert unsplit_annotated(project) == ids[:4]  # the empty caption does not count
    project.set_split(ids[:2], "train")
    project.set_split([ids[2]], "", pinned=True)  # left out on purpose
    assert unsplit_annotated(project) == [ids[3]]
