"""The review queue's store: round trip, worst first, filters, states remembered across re-runs, stale items."""

from __future__ import annotations

import pytest

from studio.dataset.store import NewImage, Project
from studio.review.items import (
    KIND_TITLES,
    KINDS,
    NewReviewItem,
    forget_reviewed,
    review_item,
    review_items,
    review_runs,
    reviewed_image_ids,
    set_state,
    store_review,
)


def _run(project: Project, name: str = "run-1") -> int:
    with project.transaction({"runs"}) as conn:
        return conn.execute("INSERT INTO runs (name, folder) VALUES (?, '/runs/x')", (name,)).lastrowid


@pytest.fixture
def filled(project):
    """A project with two images, a box, a question and a run."""
    first, second = project.add_images([NewImage("/d/a.png", 100, 80), NewImage("/d/b.png", 100, 80)])
    cat = project.ensure_label("cat")
    box = project.add_box(first, cat.id, 10, 10, 50, 50)
    vqa = project.add_vqa(second, "What colour?", "red")
    return project, _run(project), first, second, box, vqa


def _findings(first: int, second: int, box: int, vqa: int) -> list[NewReviewItem]:
    return [
        NewReviewItem(first, "misplaced", 0.4, "box moved", {"box": [30, 30, 70, 70], "confidence": 0.9}, box_id=box),
        NewReviewItem(first, "missing", 0.7, "a dog", {"box": [60, 5, 90, 40], "label": "dog", "confidence": 0.8}),
        NewReviewItem(second, "wrong_answer", 0.9, "blue?", {"answer": "blue", "confidence": 0.95}, vqa_id=vqa),
    ]


def test_every_kind_has_a_title():
    assert set(KIND_TITLES) == set(KINDS)


def test_items_round_trip_worst_first_with_filters(filled):
    project, run, first, second, box, vqa = filled
    store_review(project, run, [first, second], _findings(first, second, box, vqa))
    items = review_items(project, run)
    assert [i.kind for i in items] == ["wrong_answer", "missing", "misplaced"]
    assert items[0].vqa_id == vqa and items[0].evidence == {"answer": "blue", "confidence": 0.95}
    assert items[2].box_id == box and items[2].state == "open" and not items[2].stale
    assert items[2].title == "Box misplaced"
    assert [i.kind for i in review_items(project, run, kinds=["missing"])] == ["missing"]
    assert review_items(project, run, kinds=[]) == []
    assert review_items(project, None) == items
    assert review_item(project, items[1].id) == items[1]
    assert reviewed_image_ids(project, run) == {first, second}


def test_set_state_is_one_transaction_naming_the_table_and_images(filled):
    project, run, first, second, box, vqa = filled
    store_review(project, run, [first, second], _findings(first, second, box, vqa))
    changes = []
    project.subscribe(changes.append)
    worst = review_items(project, run)[0]
    set_state(project, [worst.id], "dismissed")
    assert len(changes) == 1
    assert changes[0].tables == {"review_items"} and changes[0].image_ids == {second}
    assert worst.id not in {i.id for i in review_items(project, run)}
    assert [i.id for i in review_items(project, run, states=["dismissed"])] == [worst.id]
    with pytest.raises(ValueError, match="unknown review state"):
        set_state(project, [worst.id], "maybe")


def test_a_rerun_keeps_the_state_of_the_same_annotation_and_kind(filled):
    project, run, first, second, box, vqa = filled
    store_review(project, run, [first, second], _findings(first, second, box, vqa))
    by_kind = {i.kind: i for i in review_items(project, run)}
    set_state(project, [by_kind["wrong_answer"].id, by_kind["missing"].id], "dismissed")
    set_state(project, [by_kind["misplaced"].id], "accepted")

    again = [
        NewReviewItem(first, "misplaced", 0.5, "box moved", {"box": [31, 30, 70, 71]}, box_id=box),
        NewReviewItem(first, "missing", 0.6, "a dog", {"box": [62, 6, 90, 41], "label": "dog"}),  # overlaps
        NewReviewItem(first, "missing", 0.6, "a cat", {"box": [62, 6, 90, 41], "label": "cat"}),  # another label
        NewReviewItem(second, "wrong_answer", 0.8, "blue?", {"answer": "blue"}, vqa_id=vqa),
        NewReviewItem(second, "spurious", 0.3, "nothing there", {}, box_id=box + 100),
    ]
    store_review(project, run, [first, second], again)
    states = {(i.kind, i.evidence.get("label")): i.state for i in review_items(project, run, states=None)}
    assert states == {
        ("misplaced", None): "accepted",
        ("missing", "dog"): "dismissed",
        ("missing", "cat"): "open",
        ("wrong_answer", None): "dismissed",
    }  # the spurious item names a box that does not exist: stale, left out
    other = _run(project, "run-2")
    store_review(project, other, [second], [again[3]])
    assert review_items(project, other)[0].state == "open"  # another run's decisions are its own


def test_items_of_deleted_annotations_are_stale_and_never_crash_the_readers(filled):
    project, run, first, second, box, vqa = filled
    store_review(project, run, [first, second], _findings(first, second, box, vqa))
    project.delete_boxes([box])
    project.delete_vqa(vqa)
    assert [i.kind for i in review_items(project, run)] == ["missing"]
    stale = review_items(project, run, include_stale=True)
    assert {i.kind for i in stale if i.stale} == {"misplaced", "wrong_answer"}
    (summary,) = review_runs(project)
    assert summary.open == 1 and summary.open_by_kind == {"missing": 1} and summary.images_done == 2


def test_review_runs_counts_and_forgetting_the_reviewed_images_keeps_items(filled):
    project, run, first, second, box, vqa = filled
    assert review_runs(project) == []
    store_review(project, run, [first, second], _findings(first, second, box, vqa))
    set_state(project, [review_items(project, run)[0].id], "accepted")
    (summary,) = review_runs(project)
    assert (summary.run_id, summary.name) == (run, "run-1")
    assert summary.by_state == {"open": 2, "accepted": 1, "dismissed": 0}
    forget_reviewed(project, run)
    assert reviewed_image_ids(project, run) == set()
    assert len(review_items(project, run, states=None)) == 3


def test_deleting_the_run_or_the_image_deletes_its_items(filled):
    project, run, first, second, box, vqa = filled
    store_review(project, run, [first, second], _findings(first, second, box, vqa))
    with project.transaction({"images"}) as conn:
        conn.execute("DELETE FROM images WHERE id = ?", (second,))
    assert {i.image_id for i in review_items(project, run)} == {first}
    with project.transaction({"runs"}) as conn:
        conn.execute("DELETE FROM runs WHERE id = ?", (run,))
    assert review_items(project, None, states=None, include_stale=True) == []
    assert reviewed_image_ids(project, run) == set()


def test_bad_findings_are_refused(filled):
    project, run, first, second, _box, _vqa = filled
    with pytest.raises(ValueError, match="unknown review kind"):
        NewReviewItem(first, "typo", 0.5, "x")
    with pytest.raises(ValueError, match=r"outside 0\.\.1"):
        NewReviewItem(first, "missing", 1.5, "x")
    with pytest.raises(ValueError, match="not among the images"):
        store_review(project, run, [first], [NewReviewItem(second, "missing", 0.5, "x")])


def test_the_queue_interleaves_kinds_by_how_unusual_each_score_is_for_its_kind(filled):
    project, run, first, second, box, vqa = filled
    cat = project.ensure_label("cat")
    for n in range(3):
        project.add_box(first, cat.id, 60 + n, 50, 70 + n, 60)  # 4 boxes in all
    slips = [project.add_vqa(second, f"Question {n}?", "red") for n in range(4)]  # 5 answers in all
    findings = _findings(first, second, box, vqa)
    findings += [NewReviewItem(second, "wrong_answer", 0.99 - n / 100, "?", {}, vqa_id=v) for n, v in enumerate(slips)]
    store_review(project, run, [first, second], findings)
    items = review_items(project, run)
    # 5 answers flagged among 5: rarities 1/5 .. 5/5 by score; one missing and one misplaced box among 4: 1/4 each
    assert [i.kind for i in items] == ["wrong_answer", "missing", "misplaced", *["wrong_answer"] * 4]
    assert [round(i.rarity, 2) for i in items] == [0.2, 0.25, 0.25, 0.4, 0.6, 0.8, 1.0]
    assert review_item(project, items[1].id) == items[1]
