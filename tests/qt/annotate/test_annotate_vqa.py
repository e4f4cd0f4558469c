"""VQA pairs: add, edit in place, reorder, delete, frequent questions, undo."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit


def _pairs(project, image_id):
    return [(p.question, p.answer) for p in project.vqa(image_id)]


def test_add_then_answer_in_place(qtbot, workspace, project, images):
    panel = workspace.vqa_panel
    panel.question.setFocus()
    qtbot.keyClicks(panel.question, "What colour is the ball?")
    qtbot.keyClick(panel.question, Qt.Key.Key_Return)
    assert _pairs(project, images["scene"]) == [("What colour is the ball?", "")]
    editor = QApplication.focusWidget()  # the answer cell opened for editing
    assert isinstance(editor, QLineEdit)
    qtbot.keyClicks(editor, "Red")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits from the event loop
    qtbot.waitUntil(lambda: _pairs(project, images["scene"]) == [("What colour is the ball?", "Red")], timeout=10000)
    workspace.undo_stack.undo()
    assert _pairs(project, images["scene"]) == [("What colour is the ball?", "")]
    workspace.undo_stack.undo()
    assert _pairs(project, images["scene"]) == []


def test_edit_question_in_place(qtbot, workspace, project, images):
    project.add_vqa(images["scene"], "How many dogs?", "One")
    workspace.refresh()
    table = workspace.vqa_panel.table
    table.setFocus()
    table.setCurrentCell(0, 0)
    qtbot.keyClick(table, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    editor.selectAll()
    qtbot.keyClicks(editor, "How many dogs are there?")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: _pairs(project, images["scene"]) == [("How many dogs are there?", "One")], timeout=10000)
    assert workspace.undo_stack.undoText() == "Edit question"


def test_reorder_with_alt_arrows_and_delete_with_undo(qtbot, workspace, project, images):
    image_id = images["scene"]
    for question in ("Q1", "Q2", "Q3"):
        project.add_vqa(image_id, question, "")
    workspace.refresh()
    table = workspace.vqa_panel.table
    table.setFocus()
    table.setCurrentCell(0, 0)
    qtbot.keyClick(table, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert [q for q, _ in _pairs(project, image_id)] == ["Q2", "Q1", "Q3"]
    assert table.currentRow() == 1
    qtbot.keyClick(table, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert [q for q, _ in _pairs(project, image_id)] == ["Q2", "Q3", "Q1"]
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    assert [q for q, _ in _pairs(project, image_id)] == ["Q2", "Q3"]
    workspace.undo_stack.undo()
    assert [q for q, _ in _pairs(project, image_id)] == ["Q2", "Q3", "Q1"]
    workspace.undo_stack.undo()
    workspace.undo_stack.undo()
    assert [q for q, _ in _pairs(project, image_id)] == ["Q1", "Q2", "Q3"]


def test_frequent_question_added_with_one_click(qtbot, workspace, project, images):
    project.add_vqa(images["second"], "Is it daytime?", "Yes")
    project.add_vqa(images["rotated"], "Is it daytime?", "No")
    project.add_vqa(images["rotated"], "What is blue?", "All")
    workspace.refresh()
    frequent = workspace.vqa_panel.frequent
    assert [frequent.item(i).text() for i in range(frequent.count())] == ["Is it daytime?", "What is blue?"]
    item = frequent.item(0)
    qtbot.mouseClick(frequent.viewport(), Qt.MouseButton.LeftButton, pos=frequent.visualItemRect(item).center())
    assert _pairs(project, images["scene"]) == [("Is it daytime?", "")]


def test_an_emptied_question_is_put_back(qtbot, workspace, project, images):
    project.add_vqa(images["scene"], "Keep me?", "yes")
    workspace.refresh()
    table = workspace.vqa_panel.table
    table.item(0, 0).setText("  ")
    assert _pairs(project, images["scene"]) == [("Keep me?", "yes")]
    assert table.item(0, 0).text() == "Keep me?"
