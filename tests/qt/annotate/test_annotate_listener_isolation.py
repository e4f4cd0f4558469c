"""A store listener that raises cannot turn a committed edit into a failed, unrecorded undo step."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt

from tests.qt.annotate.conftest import drag, view_point


def test_a_raising_listener_leaves_the_drawn_box_saved_and_undoable(qtbot, workspace, project, images, caplog):
    def broken(change):
        raise ValueError("listener bug")

    project.subscribe(broken)
    canvas = workspace.canvas
    canvas.set_zoom(2.0, QPointF(100, 80))
    qtbot.keyClick(canvas, Qt.Key.Key_W)
    with caplog.at_level("ERROR", logger="studio.dataset.store"):
        drag(qtbot, canvas, view_point(canvas, 60, 40), view_point(canvas, 130, 95))
    (box,) = project.boxes(images["scene"])
    assert canvas.box_ids() == [box.id]  # the workspace's own listener still ran
    assert workspace.undo_stack.count() == 1 and workspace.undo_stack.canUndo()
    assert any("broken" in record.getMessage() for record in caplog.records)
    workspace.undo_stack.undo()
    assert project.boxes(images["scene"]) == []
    assert canvas.box_ids() == []
