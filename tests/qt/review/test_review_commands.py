"""Accepting each kind of suspect applies the model's fix and marks the item accepted; one undo takes back both."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QUndoStack

from studio.dataset.store import Project
from studio.review.items import review_item
from studio.ui.review.commands import SetReviewState, accept_command


@pytest.fixture
def opened(reviewed):
    with Project.open(reviewed.folder) as project:
        yield project


def annotation(project: Project, image_id: int) -> tuple:
    """What an image holds, comparable before and after."""
    ann = project.annotation(image_id)
    return ([(b.id, b.label_id, b.xyxy) for b in ann.boxes], [(p.id, p.box_ids) for p in ann.phrases],
            [(v.id, v.answer) for v in ann.vqa])  # fmt: skip


@pytest.mark.parametrize("kind", ["misplaced", "missing", "spurious", "wrong_label", "wrong_answer", "wrong_link"])
def test_accept_applies_the_fix_and_one_undo_takes_it_back(qapp, opened, reviewed, kind):
    item = review_item(opened, reviewed.items[kind])
    before = annotation(opened, item.image_id)
    stack = QUndoStack()
    command = accept_command(opened, item, kind)
    stack.push(command)
    assert command.error is None
    after = annotation(opened, item.image_id)
    assert after != before
    assert review_item(opened, item.id).state == "accepted"
    boxes = {box.id: box for box in opened.boxes(item.image_id)}
    if kind == "missing":
        assert any(box.xyxy == (150, 80, 180, 110) for box in boxes.values())
    elif kind == "spurious":
        assert reviewed.boxes["extra"] not in boxes
    elif kind == "wrong_label":
        assert opened.label(boxes[reviewed.boxes["dog"]].label_id).name == "cat"
    elif kind == "wrong_answer":
        assert opened.vqa(item.image_id)[0].answer == "red"
    elif kind == "wrong_link":
        assert opened.phrases(item.image_id)[0].box_ids == (reviewed.boxes["dog"],)
    stack.undo()
    assert annotation(opened, item.image_id) == before
    assert review_item(opened, item.id).state == "open"
    stack.redo()
    assert annotation(opened, item.image_id) == after


def test_a_fix_for_a_deleted_annotation_is_refused_with_a_sentence(opened, reviewed):
    item = review_item(opened, reviewed.items["wrong_answer"])
    opened.delete_vqa(reviewed.vqa_id)
    with pytest.raises(ValueError, match="question was deleted"):
        accept_command(opened, item, "wrong answer")


def test_dismiss_is_an_undo_step(qapp, opened, reviewed):
    item = review_item(opened, reviewed.items["spurious"])
    stack = QUndoStack()
    stack.push(SetReviewState(opened, item, "dismissed", "Dismiss"))
    assert review_item(opened, item.id).state == "dismissed"
    stack.undo()
    assert review_item(opened, item.id).state == "open"
