"""Project-wide label rename/merge, image status, navigation keys, the filter bar and the shortcut dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt

from studio.dataset.queries import ImageFilter
from studio.ui.annotate.filter_bar import FilterBar
from studio.ui.annotate.shortcuts import SHORTCUTS
from studio.ui.annotate.shortcuts_dialog import ShortcutsDialog


def test_rename_label_everywhere_and_undo(workspace, project, images):
    dog = project.ensure_label("dog")
    project.add_box(images["scene"], dog.id, 1, 1, 5, 5)
    project.add_box(images["second"], dog.id, 1, 1, 5, 5)
    workspace.rename_label(dog.id, "puppy")
    assert [label.name for label in project.labels()] == ["puppy"]
    assert workspace.label_panel.tree.topLevelItem(0).text(0) == "puppy"
    workspace.undo_stack.undo()
    assert [label.name for label in project.labels()] == ["dog"]


def test_rename_onto_an_existing_name_merges_in_one_step_with_undo(workspace, project, images):
    dog, puppy = project.ensure_label("dog"), project.ensure_label("puppy")
    a = project.add_box(images["scene"], dog.id, 1, 1, 5, 5)
    b = project.add_box(images["second"], puppy.id, 1, 1, 5, 5)
    workspace.rename_label(dog.id, "puppy")
    assert [label.name for label in project.labels()] == ["puppy"]
    assert project.box(a).label_id == project.box(b).label_id == puppy.id
    assert workspace.undo_stack.count() == 1
    workspace.undo_stack.undo()
    restored = {label.name: label for label in project.labels()}
    assert set(restored) == {"dog", "puppy"} and restored["dog"].color == dog.color
    assert project.box(a).label_id == restored["dog"].id and project.box(b).label_id == puppy.id
    workspace.undo_stack.redo()
    assert [label.name for label in project.labels()] == ["puppy"]


def test_label_panel_counts_here_and_in_project(workspace, project, images):
    dog = project.ensure_label("dog")
    project.add_box(images["scene"], dog.id, 1, 1, 5, 5)
    project.add_box(images["second"], dog.id, 1, 1, 5, 5)
    item = workspace.label_panel.tree.topLevelItem(0)
    assert (item.text(0), item.text(1), item.text(2)) == ("dog", "1", "2")


def test_status_shortcuts_and_navigation_keys(qtbot, workspace, project, images):
    canvas = workspace.canvas
    with qtbot.waitSignal(workspace.request_next, timeout=1000):
        qtbot.keyClick(canvas, Qt.Key.Key_D)
    with qtbot.waitSignal(workspace.request_previous, timeout=1000):
        qtbot.keyClick(canvas, Qt.Key.Key_A)
    with qtbot.waitSignal(workspace.request_next, timeout=1000):
        qtbot.keyClick(canvas, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert project.image(images["scene"]).status == "done"
    qtbot.keyClick(canvas, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert project.image(images["scene"]).status == "review"
    workspace.undo_stack.undo()
    assert project.image(images["scene"]).status == "done"


def test_typing_d_in_the_caption_does_not_change_image(qtbot, workspace, project, images):
    edit = workspace.caption_panel.edit
    edit.setFocus()
    with qtbot.assertNotEmitted(workspace.request_next):
        qtbot.keyClicks(edit, "dad")
    assert project.caption(images["scene"]) == "dad"


def test_filter_bar_emits_the_filter(qtbot):
    bar = FilterBar()
    qtbot.addWidget(bar)
    bar.set_labels(["cat", "dog"])
    with qtbot.waitSignal(bar.filter_changed) as blocker:
        bar.label.setCurrentIndex(bar.label.findData("dog"))
    assert blocker.args[0] == ImageFilter(label="dog")
    bar.unannotated.setChecked(True)
    qtbot.keyClicks(bar.search, "red")
    assert bar.image_filter() == ImageFilter(unannotated=True, label="dog", text="red")


def test_shortcut_dialog_lists_every_shortcut(qtbot):
    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    rows = dialog.rows()
    assert len(rows) == len(SHORTCUTS)
    assert ("Next image", "D") in rows
    dialog.filter.setText("phrase")
    section_visible = [not dialog.tree.topLevelItem(i).isHidden() for i in range(dialog.tree.topLevelItemCount())]
    assert 0 < sum(section_visible) < len(section_visible)


def test_every_action_shortcut_is_unique(workspace):
    keys = [seq.toString() for action in workspace.actions.values() for seq in action.shortcuts()]
    assert len(keys) == len(set(keys))
    assert "F1" not in keys  # the main window's Help action owns it, in every mode


def test_undo_of_an_edit_on_another_image_asks_to_show_it(qtbot, workspace, project, images):
    workspace.add_vqa("Is it sunny?")
    workspace.show_image(images["second"])
    with qtbot.waitSignal(workspace.request_image) as blocker:
        workspace.undo_stack.undo()
    assert blocker.args == [images["scene"]]
    assert project.vqa(images["scene"]) == []
    with qtbot.assertNotEmitted(workspace.request_image):
        workspace.set_status("review")  # a new edit on the shown image
        workspace.undo_stack.undo()


def test_keyboard_only_caption_and_question(qtbot, workspace, project, images):
    canvas, panel = workspace.canvas, workspace.caption_panel
    qtbot.keyClick(canvas, Qt.Key.Key_C)
    assert panel.edit.hasFocus()
    qtbot.keyClicks(panel.edit, "a cat")
    qtbot.keyClick(panel.edit, Qt.Key.Key_Escape)
    assert canvas.hasFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Q)
    assert workspace.vqa_panel.question.hasFocus()
    qtbot.keyClicks(workspace.vqa_panel.question, "What animal?")
    qtbot.keyClick(workspace.vqa_panel.question, Qt.Key.Key_Return)
    assert project.caption(images["scene"]) == "a cat"
    assert [p.question for p in project.vqa(images["scene"])] == ["What animal?"]


def test_a_refused_edit_leaves_no_undo_step_and_says_why(qtbot, workspace, project, images):
    workspace.refresh()
    with qtbot.waitSignal(workspace.status_message) as blocker:
        workspace.link_span(0, 5, [])  # the caption is empty: the store refuses the span
    assert "Could not add phrase" in blocker.args[0] and "outside the caption" in blocker.args[0]
    assert workspace.undo_stack.count() == 0
    assert project.phrases(images["scene"]) == []


def test_read_only_project_refuses_edits(qtbot, project, images):
    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QWidget

    from studio.dataset.store import Project
    from studio.ui.annotate.workspace import AnnotationWorkspace

    reader = Project.open(project.folder, read_only=True)
    owner = QWidget()
    qtbot.addWidget(owner)
    workspace = AnnotationWorkspace(reader, QUndoStack(owner))
    workspace.show_image(images["scene"])
    with qtbot.waitSignal(workspace.status_message) as blocker:
        workspace.add_vqa("Anything?")
    assert "read-only" in blocker.args[0]
    assert workspace.undo_stack.count() == 0
    workspace.store_signals.detach()
    reader.close()
