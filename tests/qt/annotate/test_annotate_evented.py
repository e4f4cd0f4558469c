"""The workspace updates only what a change touched: no edit reads a table that grows with the project, a box the
canvas moved keeps its item, a status redraws the info line, label totals move by the change's counts, frequent
questions are read again only when a question changed, and another process's commit re-reads the shown image."""

from __future__ import annotations

import sqlite3
from collections import Counter

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt

from studio.dataset import queries
from studio.dataset.store import DB_NAME
from studio.ui.annotate import commands as cmd
from tests.conftest import full_scans


@pytest.fixture
def calls(workspace, project, monkeypatch) -> Counter:
    """How often the canvas is given all boxes, a panel is filled anew, the shown image is read whole and the
    frequent questions asked."""
    counted: Counter = Counter()

    def counting(name, fn):
        def wrapper(*args, **kwargs):
            counted[name] += 1
            return fn(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(workspace.canvas, "set_boxes", counting("set_boxes", workspace.canvas.set_boxes))
    panels = (
        (workspace.label_panel, "set_labels"),
        (workspace.caption_panel, "set_content"),
        (workspace.vqa_panel, "set_pairs"),
    )
    for panel, name in panels:
        monkeypatch.setattr(panel, name, counting(name, getattr(panel, name)))
    monkeypatch.setattr(project, "annotation", counting("annotation", project.annotation))
    monkeypatch.setattr(queries, "frequent_questions", counting("frequent_questions", queries.frequent_questions))
    return counted


def _counts(workspace, name: str) -> tuple[str, str]:
    """The label panel's (here, all) box counts of a label."""
    tree = workspace.label_panel.tree
    item = next(tree.topLevelItem(r) for r in range(tree.topLevelItemCount()) if tree.topLevelItem(r).text(0) == name)
    return item.text(1), item.text(2)


def test_a_box_added_on_another_image_moves_the_label_total_by_one_without_reading_the_project(
    workspace, project, images, calls
):
    cat = project.ensure_label("cat")
    project.add_box(images["scene"], cat.id, 10, 10, 50, 50)
    assert _counts(workspace, "cat") == ("1", "1")
    calls.clear()
    with full_scans(project) as scans:
        project.add_box(images["second"], cat.id, 5, 5, 20, 20)
    assert _counts(workspace, "cat") == ("1", "2")
    assert scans == [] and calls == {}  # no count over the project, the shown image not read again


EDITS = {
    "add box": lambda ws, p, image, box: ws.push(cmd.AddBoxes(p, image, [cmd.BoxSpec("dog", (1, 1, 30, 30))])),
    "move box": lambda ws, p, image, box: ws.push(cmd.MoveBoxes(p, {box: (10, 10, 50, 50)}, {box: (12, 10, 52, 50)})),
    "relabel box": lambda ws, p, image, box: ws.push(cmd.RelabelBoxes(p, [p.box(box)], "dog")),
    "delete box": lambda ws, p, image, box: ws.push(cmd.DeleteBoxes(p, [p.box(box)])),
    "caption": lambda ws, p, image, box: ws.set_caption("a cat on the grass"),
    "add question": lambda ws, p, image, box: ws.add_vqa("Is it day?", "yes"),
    "mark done": lambda ws, p, image, box: ws.set_status("done"),
}


@pytest.mark.parametrize("edit", EDITS)
def test_no_edit_of_the_shown_image_reads_a_table_that_grows_with_the_project(workspace, project, images, edit):
    box = project.add_box(images["scene"], project.ensure_label("cat").id, 10, 10, 50, 50)
    project.ensure_label("dog")  # a relabel to an existing label moves two labels' counts
    project.add_vqa(images["second"], "Is it day?", "no")
    with full_scans(project) as scans:
        EDITS[edit](workspace, project, images["scene"], box)
    assert workspace.undo_stack.count() == 1
    assert scans == []


def test_a_box_the_canvas_moved_keeps_its_item_and_an_undo_moves_only_that_item(
    qtbot, workspace, project, images, calls
):
    box = project.add_box(images["scene"], project.ensure_label("cat").id, 10, 10, 50, 50)
    canvas = workspace.canvas
    item = canvas.box_item(box)
    canvas.select_boxes([box])
    calls.clear()
    canvas.nudge(5, 0)
    assert project.box(box).xyxy == (15, 10, 55, 50)
    assert canvas.box_item(box) is item and item.rect() == QRectF(QPointF(15, 10), QPointF(55, 50))
    workspace.undo_stack.undo()
    assert item.rect() == QRectF(QPointF(10, 10), QPointF(50, 50)) and "10, 10" in item.toolTip()
    assert calls == {}  # no rebuild of the canvas, no re-read of the image, no question count
    workspace.refresh()  # a later full refresh agrees with what the item shows
    assert canvas.box_item(box).rect() == QRectF(QPointF(10, 10), QPointF(50, 50))


def test_an_edit_of_the_shown_image_updates_only_the_widgets_that_show_it(workspace, project, images, calls):
    cat = project.ensure_label("cat")
    calls.clear()
    project.add_box(images["scene"], cat.id, 10, 10, 50, 50)
    assert calls == {"set_boxes": 1, "set_content": 1}  # the caption panel names and colours phrases after boxes
    assert _counts(workspace, "cat") == ("1", "1")  # counted in place, the label list not rebuilt
    calls.clear()
    project.add_vqa(images["scene"], "Is it day?", "yes")
    assert calls == {"set_pairs": 1, "frequent_questions": 1}
    calls.clear()
    project.set_caption(images["scene"], "a cat")
    assert calls == {"set_content": 1}
    calls.clear()
    project.rename_label(cat.id, "kitten")  # names and colours everywhere
    assert calls["set_labels"] == calls["set_boxes"] == calls["set_content"] == 1
    assert workspace.canvas.box_item(project.boxes(images["scene"])[0].id).name == "kitten #1"


def test_a_status_change_redraws_only_the_info_line(workspace, project, images, calls):
    workspace.set_status("review")
    assert workspace.canvas._info.endswith("review")
    assert calls == {}


def test_frequent_questions_are_read_again_only_when_a_question_changes(workspace, project, images, calls):
    project.add_box(images["scene"], None, 1, 1, 9, 9)
    first = project.add_vqa(images["scene"], "What colour?", "blue")
    project.add_vqa(images["scene"], "Is it day?", "yes")
    calls.clear()
    project.add_box(images["scene"], None, 2, 2, 9, 9)
    project.move_vqa(first, 1)
    project.set_caption(images["scene"], "a sky")
    assert calls["frequent_questions"] == 0
    project.add_vqa(images["second"], "Where is the ball?", "left")
    assert calls["frequent_questions"] == 1
    chips = workspace.vqa_panel.frequent
    assert "Where is the ball?" in [chips.item(i).text() for i in range(chips.count())]


def test_a_commit_of_another_process_re_reads_the_shown_image(workspace, project, images):
    project.publish_external_changes()  # the window's poll: starts watching
    cat = project.ensure_label("cat")
    other = sqlite3.connect(project.folder / DB_NAME, isolation_level=None)
    other.execute("PRAGMA foreign_keys = ON")
    other.execute(
        "INSERT INTO boxes (image_id, label_id, x1, y1, x2, y2) VALUES (?, ?, 1, 2, 30, 40)", (images["scene"], cat.id)
    )
    other.close()
    assert workspace.canvas.box_ids() == []
    assert project.publish_external_changes()
    (box_id,) = workspace.canvas.box_ids()
    assert workspace.canvas.box_item(box_id).rect() == QRectF(QPointF(1, 2), QPointF(30, 40))
    assert _counts(workspace, "cat") == ("1", "1")


def test_every_undo_command_tells_one_typed_change_each_way(qtbot, project, images):
    """A command groups store calls in one transaction: the grouping block must not make its change untyped."""
    scene, second = images["scene"], images["second"]
    cat, dog = project.ensure_label("cat"), project.ensure_label("dog")
    box = project.add_box(scene, cat.id, 10, 10, 50, 50)
    other = project.add_box(scene, dog.id, 60, 10, 90, 50)
    project.set_caption(scene, "a cat and a dog")
    project.add_phrase(scene, 2, 5, [box])
    project.add_vqa(scene, "Is it day?", "yes")
    phrase, pair = (lambda: project.phrases(scene)[0]), (lambda: project.vqa(scene)[0])
    commands = [  # each made when its turn comes, from the project as the commands before left it
        lambda: cmd.AddBoxes(project, scene, [cmd.BoxSpec("bird", (1, 1, 9, 9)), cmd.BoxSpec(None, (2, 2, 9, 9))]),
        lambda: cmd.MoveBoxes(project, {box: (10, 10, 50, 50)}, {box: (11, 10, 51, 50)}),
        lambda: cmd.RelabelBoxes(project, [project.box(box), project.box(other)], "fox"),
        lambda: cmd.DeleteBoxes(project, [project.box(box)]),
        lambda: cmd.AddPhrase(project, scene, 12, 15, [other]),
        lambda: cmd.LinkBoxes(project, phrase(), [other]),
        lambda: cmd.DeletePhrase(project, phrase()),
        lambda: cmd.EditCaption(project, scene, "a dog"),
        lambda: cmd.AddVqa(project, scene, "Any cats?", "no"),
        lambda: cmd.EditVqa(project, pair(), "Is it night?", "no"),
        lambda: cmd.MoveVqa(project, pair(), 1),
        lambda: cmd.DeleteVqa(project, pair()),
        lambda: cmd.SetStatuses(project, [scene, second], "done"),
        lambda: cmd.SetSplits.choose(project, [scene, second], "train", pinned=True),
        lambda: cmd.RenameLabel(project, project.label(dog.id), "hound"),
        lambda: cmd.SetLabelColor(project, project.label(cat.id), "#123456"),
        lambda: cmd.MergeLabels(project, [project.ensure_label("fox")], project.label(dog.id)),
    ]
    heard = []
    project.subscribe(heard.append)
    for make in commands:
        command = make()
        for step in (command.redo, command.undo, command.redo):
            heard.clear()
            step()
            assert command.error is None, f"{command.text()}: {command.error}"
            assert len(heard) == 1 and heard[0].kinds, f"{command.text()}: {heard}"


def test_switching_images_updates_the_label_counts_in_place(workspace, project, images):
    """Another image of the same project has the same labels: their rows stay, only the counts change."""
    label = project.ensure_label("cup")
    project.add_box(images["second"], label.id, 1, 1, 9, 9)
    workspace.show_image(images["scene"])
    tree = workspace.label_panel.tree
    rows = [tree.topLevelItem(r) for r in range(tree.topLevelItemCount())]
    assert _counts(workspace, "cup") == ("0", "1")
    workspace.show_image(images["second"])
    assert [tree.topLevelItem(r) for r in range(tree.topLevelItemCount())] == rows
    assert _counts(workspace, "cup") == ("1", "1")
    workspace.label_panel.tree.topLevelItem(0).setCheckState(0, Qt.CheckState.Unchecked)  # hide a label
    workspace.show_image(images["scene"])
    assert workspace.label_panel.tree.topLevelItem(0).checkState(0) == Qt.CheckState.Unchecked
