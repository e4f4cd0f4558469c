"""Selecting, moving, resizing, nudging, deleting, duplicating and pasting boxes, each undoable."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt

from tests.qt.annotate.conftest import drag, view_point


@pytest.fixture
def box(workspace, project, images):
    """A 'dog' box at (40, 40)-(100, 90) on the scene image, shown at 200 %."""
    box_id = project.add_box(images["scene"], project.ensure_label("dog").id, 40, 40, 100, 90)
    workspace.canvas.set_zoom(2.0, QPointF(100, 80))
    return box_id


def _click(qtbot, canvas, x, y, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, modifier, view_point(canvas, x, y))


def test_move_by_drag_then_undo_redo(qtbot, workspace, project, box):
    canvas, stack = workspace.canvas, workspace.undo_stack
    drag(qtbot, canvas, view_point(canvas, 70, 60), view_point(canvas, 90, 75))
    assert project.box(box).xyxy == pytest.approx((60, 55, 120, 105), abs=0.5)
    assert stack.undoText() == "Move 1 box"
    stack.undo()
    assert project.box(box).xyxy == (40, 40, 100, 90)
    assert canvas.box_item(box).rect().topLeft() == QPointF(40, 40)  # the canvas follows the store
    stack.redo()
    assert project.box(box).xyxy == pytest.approx((60, 55, 120, 105), abs=0.5)


def test_move_snaps_to_image_bounds(qtbot, workspace, project, box):
    canvas = workspace.canvas
    canvas.set_zoom(1.0, QPointF(60, 60))
    drag(qtbot, canvas, view_point(canvas, 70, 60), view_point(canvas, -50, -80))
    assert project.box(box).xyxy == pytest.approx((0, 0, 60, 50))


def test_resize_with_the_bottom_right_handle(qtbot, workspace, project, box):
    canvas = workspace.canvas
    _click(qtbot, canvas, 70, 60)
    assert canvas.selected_box_ids() == [box]
    drag(qtbot, canvas, view_point(canvas, 100, 90), view_point(canvas, 130, 110))
    assert project.box(box).xyxy == pytest.approx((40, 40, 130, 110), abs=0.5)
    assert workspace.undo_stack.undoText() == "Resize 1 box"
    workspace.undo_stack.undo()
    assert project.box(box).xyxy == (40, 40, 100, 90)


def test_resize_past_the_opposite_edge_flips(qtbot, workspace, project, box):
    canvas = workspace.canvas
    _click(qtbot, canvas, 70, 60)
    drag(qtbot, canvas, view_point(canvas, 40, 65), view_point(canvas, 120, 65))  # left edge handle
    assert project.box(box).xyxy == pytest.approx((100, 40, 120, 90), abs=0.5)


def test_arrow_nudges_merge_into_one_undo_step(qtbot, workspace, project, box):
    canvas = workspace.canvas
    _click(qtbot, canvas, 70, 60)
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    qtbot.keyClick(canvas, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert project.box(box).xyxy == (42, 50, 102, 100)
    assert workspace.undo_stack.count() == 1
    workspace.undo_stack.undo()
    assert project.box(box).xyxy == (40, 40, 100, 90)


def test_delete_and_undo_restores_id_label_and_links(qtbot, workspace, project, images, box):
    image_id = images["scene"]
    project.set_caption(image_id, "a dog")
    project.add_phrase(image_id, 2, 5, [box])
    workspace.refresh()
    canvas = workspace.canvas
    _click(qtbot, canvas, 70, 60)
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert project.boxes(image_id) == []
    assert project.phrases(image_id)[0].box_ids == ()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    (restored,) = project.boxes(image_id)
    assert (restored.id, restored.xyxy, project.label(restored.label_id).name) == (
        box,
        (40, 40, 100, 90),
        "dog",
    )
    assert project.phrases(image_id)[0].box_ids == (box,)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert project.boxes(image_id) == []


def test_duplicate_select_all_and_rubber_band(qtbot, workspace, project, images, box):
    canvas = workspace.canvas
    _click(qtbot, canvas, 70, 60)
    qtbot.keyClick(canvas, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    boxes = project.boxes(images["scene"])
    assert [b.xyxy for b in boxes] == [(40, 40, 100, 90), (50, 50, 110, 100)]
    assert canvas.selected_box_ids() == [boxes[1].id]
    qtbot.keyClick(canvas, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert canvas.selected_box_ids() == [b.id for b in boxes]
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.selected_box_ids() == []
    drag(qtbot, canvas, view_point(canvas, 30, 30), view_point(canvas, 105, 95))  # rubber band from empty space
    assert canvas.selected_box_ids() == [box]


def test_ctrl_click_adds_to_the_selection(qtbot, workspace, project, images, box):
    other = project.add_box(images["scene"], None, 110, 40, 150, 90)
    canvas = workspace.canvas
    _click(qtbot, canvas, 70, 60)
    _click(qtbot, canvas, 130, 60, Qt.KeyboardModifier.ControlModifier)
    assert canvas.selected_box_ids() == [box, other]


def test_copy_on_one_image_paste_on_another(qtbot, workspace, project, images, box):
    small = project.add_box(images["scene"], None, 10, 10, 30, 35)
    canvas = workspace.canvas
    _click(qtbot, canvas, 70, 60)
    _click(qtbot, canvas, 20, 20, Qt.KeyboardModifier.ControlModifier)
    assert canvas.selected_box_ids() == [box, small]
    qtbot.keyClick(canvas, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    workspace.show_image(images["second"])
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    pasted = project.boxes(images["second"])
    assert [b.xyxy for b in pasted] == [(40, 40, 100, 90), (10, 10, 30, 35)]
    assert project.label(pasted[0].label_id).name == "dog" and pasted[1].label_id is None
    assert canvas.selected_box_ids() == [b.id for b in pasted]
    # On the 40x60 rotated image the dog box would have no area left: only the small box is pasted.
    workspace.show_image(images["rotated"])
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert [b.xyxy for b in project.boxes(images["rotated"])] == [(10, 10, 30, 35)]
    workspace.undo_stack.undo()
    assert project.boxes(images["rotated"]) == []


def test_relabel_selected_boxes_with_the_picker(qtbot, workspace, project, box):
    canvas = workspace.canvas
    _click(qtbot, canvas, 70, 60)
    qtbot.keyClick(canvas, Qt.Key.Key_L)
    assert workspace.picker.isVisible()
    qtbot.keyClicks(workspace.picker.edit, "pupp")
    qtbot.keyClick(workspace.picker.edit, Qt.Key.Key_Return)
    assert project.label(project.box(box).label_id).name == "pupp"
    workspace.undo_stack.undo()
    assert project.label(project.box(box).label_id).name == "dog"


def test_hidden_label_boxes_are_not_shown_or_hit(qtbot, workspace, project, box):
    canvas = workspace.canvas
    label_id = project.box(box).label_id
    workspace.label_panel.tree.topLevelItem(0).setCheckState(0, Qt.CheckState.Unchecked)
    assert not canvas.box_item(box).isVisible()
    _click(qtbot, canvas, 70, 60)
    assert canvas.selected_box_ids() == []
    assert label_id in canvas.hidden_labels()


def test_box_tooltip_names_label_and_size(workspace, box):
    tip = workspace.canvas.box_item(box).toolTip()
    assert "dog" in tip and "60 × 50 px" in tip


def test_every_edit_is_committed_at_once(qtbot, workspace, project, box):
    """A second connection (another process after a hard kill) sees each edit without any save."""
    canvas = workspace.canvas
    drag(qtbot, canvas, view_point(canvas, 70, 60), view_point(canvas, 80, 60))
    from studio.dataset.store import Project

    other = Project.open(project.folder, read_only=True)
    try:
        assert other.box(box).xyxy == pytest.approx((50, 40, 110, 90), abs=0.5)
    finally:
        other.close()
