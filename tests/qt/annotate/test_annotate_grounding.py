"""Phrase grounding in the caption panel: link a span to boxes, keep links through caption edits, undo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent, QMouseEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QApplication

from studio.ui import theme
from studio.ui.annotate import commands
from studio.ui.annotate.canvas import PHRASE_MIME, encode_phrase_span
from tests.qt.annotate.conftest import view_point

CAPTION = "Two dogs chase a red ball."


@pytest.fixture
def scene(workspace, project, images):
    """Two dog boxes and a ball box on the scene image, with the caption typed in the editor."""
    image_id = images["scene"]
    dog = project.ensure_label("dog").id
    ids = [
        project.add_box(image_id, dog, 20, 60, 100, 150),
        project.add_box(image_id, dog, 120, 70, 180, 150),
        project.add_box(image_id, project.ensure_label("ball").id, 200, 110, 235, 145),
    ]
    workspace.refresh()
    workspace.canvas.set_zoom(2.0, QPointF(130, 100))
    return image_id, ids


def _type_caption(qtbot, workspace, text):
    edit = workspace.caption_panel.edit
    edit.setFocus()
    qtbot.keyClicks(edit, text)


def _select_words(qtbot, edit, words):
    """Select ``words`` in the editor with the keyboard (Home, Right..., Shift+Right...)."""
    start = edit.toPlainText().index(words)
    edit.moveCursor(QTextCursor.MoveOperation.Start)
    for _ in range(start):
        qtbot.keyClick(edit, Qt.Key.Key_Right)
    for _ in range(len(words)):
        qtbot.keyClick(edit, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    return start, start + len(words)


def _hover(widget, point: QPoint) -> None:
    """A mouse move without buttons onto ``point`` of ``widget`` (sent directly: QTest's synthetic moves
    also make the platform send enter/leave events, in an order that varies)."""
    global_point = QPointF(widget.mapToGlobal(point))
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(point),
        global_point,
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def _click_box(qtbot, canvas, x, y, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, modifier, view_point(canvas, x, y))


def test_typing_a_caption_commits_and_undoes_as_one_step(qtbot, workspace, project, scene):
    image_id, _ = scene
    _type_caption(qtbot, workspace, CAPTION)
    assert project.caption(image_id) == CAPTION
    assert workspace.undo_stack.count() == 1  # keystrokes within the typing pause merge
    qtbot.keyClick(workspace.caption_panel.edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert project.caption(image_id) == ""
    assert workspace.caption_panel.edit.toPlainText() == ""


def test_link_a_phrase_to_two_boxes_with_ctrl_l(qtbot, workspace, project, scene):
    image_id, (dog1, dog2, _ball) = scene
    _type_caption(qtbot, workspace, CAPTION)
    canvas = workspace.canvas
    _click_box(qtbot, canvas, 60, 100)
    _click_box(qtbot, canvas, 150, 100, Qt.KeyboardModifier.ControlModifier)
    assert canvas.selected_box_ids() == [dog1, dog2]
    edit = workspace.caption_panel.edit
    edit.setFocus()
    span = _select_words(qtbot, edit, "Two dogs")
    qtbot.keyClick(edit, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    (phrase,) = project.phrases(image_id)
    assert (phrase.start, phrase.end, phrase.text, phrase.box_ids) == (*span, "Two dogs", (dog1, dog2))
    # Linked phrases are highlighted in the box colour; the phrase list names both boxes.
    selections = edit.extraSelections()
    assert len(selections) == 1
    color = project.label(project.box(dog1).label_id).color
    assert selections[0].format.background().color() == theme.phrase_highlight(color)[0]
    assert workspace.caption_panel.phrases.topLevelItem(0).text(1) == "dog #1, dog #2"
    workspace.undo_stack.undo()
    assert project.phrases(image_id) == []


def test_caption_edits_shift_spans_and_deleting_a_phrase_unlinks_it_with_undo(
    qtbot, workspace, project, scene, monkeypatch
):
    monkeypatch.setattr(commands, "_TYPING_PAUSE_S", 0.3)
    image_id, (dog1, dog2, ball) = scene
    project.set_caption(image_id, CAPTION)
    project.add_phrase(image_id, 0, 8, [dog1, dog2])  # "Two dogs"
    project.add_phrase(image_id, 17, 25, [ball])  # "red ball"
    workspace.refresh()
    edit = workspace.caption_panel.edit
    edit.setFocus()
    edit.moveCursor(QTextCursor.MoveOperation.Start)
    qtbot.keyClicks(edit, "Look! ")
    phrases = project.phrases(image_id)
    assert [(p.text, p.box_ids) for p in phrases] == [("Two dogs", (dog1, dog2)), ("red ball", (ball,))]
    assert phrases[0].start == 6
    # Delete "Two dogs" entirely: that phrase is removed, the other keeps its link.
    qtbot.wait(350)  # a typing pause: the next edit is its own undo step
    _select_words(qtbot, edit, "Two dogs ")
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    assert project.caption(image_id) == "Look! chase a red ball."
    assert [(p.text, p.box_ids) for p in project.phrases(image_id)] == [("red ball", (ball,))]
    assert "removes “Two dogs”" in workspace.undo_stack.undoText()
    workspace.undo_stack.undo()
    assert project.caption(image_id) == "Look! " + CAPTION
    assert [(p.text, p.box_ids) for p in project.phrases(image_id)] == [
        ("Two dogs", (dog1, dog2)),
        ("red ball", (ball,)),
    ]
    workspace.undo_stack.undo()
    assert project.caption(image_id) == CAPTION
    assert [(p.start, p.end) for p in project.phrases(image_id)] == [(0, 8), (17, 25)]
    workspace.undo_stack.redo()
    workspace.undo_stack.redo()
    assert [(p.text, p.box_ids) for p in project.phrases(image_id)] == [("red ball", (ball,))]


def test_suggested_link_in_one_keystroke(qtbot, workspace, project, scene):
    image_id, (_dog1, _dog2, ball) = scene
    project.set_caption(image_id, "A ball and some grass.")
    workspace.refresh()
    panel = workspace.caption_panel
    (suggestion,) = panel.suggestions()  # "dog" is not in the caption, "ball" is
    assert (suggestion.text, suggestion.box_ids) == ("ball", (ball,))
    assert panel.suggest_button.isVisibleTo(panel)
    qtbot.keyClick(workspace.canvas, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    (phrase,) = project.phrases(image_id)
    assert (phrase.text, phrase.box_ids) == ("ball", (ball,))
    assert panel.suggestions() == []


def test_drag_a_phrase_onto_a_box_links_it(qtbot, workspace, project, scene):
    image_id, (_dog1, dog2, _ball) = scene
    project.set_caption(image_id, CAPTION)
    workspace.refresh()
    canvas = workspace.canvas
    mime = QMimeData()
    mime.setData(PHRASE_MIME, encode_phrase_span(4, 8))  # "dogs"
    drop = QDropEvent(
        QPointF(view_point(canvas, 150, 100)),
        Qt.DropAction.LinkAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    canvas.dropEvent(drop)
    (phrase,) = project.phrases(image_id)
    assert (phrase.text, phrase.box_ids) == ("dogs", (dog2,))


def test_selected_text_drags_as_a_phrase_span(qtbot, workspace, project, scene):
    image_id, _ = scene
    project.set_caption(image_id, CAPTION)
    workspace.refresh()
    edit = workspace.caption_panel.edit
    edit.select_span(17, 25)
    mime = edit.createMimeDataFromSelection()
    assert bytes(mime.data(PHRASE_MIME).data()) == b"17,25"


def test_hover_phrase_highlights_boxes_and_hover_box_highlights_phrase(qtbot, workspace, project, scene):
    image_id, (dog1, dog2, ball) = scene
    project.set_caption(image_id, CAPTION)
    phrase_id = project.add_phrase(image_id, 0, 8, [dog1, dog2])
    workspace.refresh()
    panel, canvas = workspace.caption_panel, workspace.canvas
    edit = panel.edit
    cursor = edit.textCursor()
    cursor.setPosition(2)
    point = edit.cursorRect(cursor).center()
    _hover(edit.viewport(), point)
    assert canvas.box_item(dog1).highlighted and canvas.box_item(dog2).highlighted
    assert not canvas.box_item(ball).highlighted
    _hover(canvas.viewport(), view_point(canvas, 60, 100))
    assert panel._hot_boxes == {dog1}
    hot = [s for s in edit.extraSelections() if s.format.fontWeight() == 700]
    assert len(hot) == 1 and hot[0].format.property(0x100000) == phrase_id


def test_unlinked_phrases_and_boxes_are_flagged(qtbot, workspace, project, scene):
    image_id, (dog1, dog2, ball) = scene
    project.set_caption(image_id, CAPTION)
    project.add_phrase(image_id, 0, 8, [dog1, dog2])
    project.add_phrase(image_id, 17, 25)  # "red ball", not linked
    workspace.refresh()
    panel, canvas = workspace.caption_panel, workspace.canvas
    assert "“red ball”" in panel.flags.text() and "ball #1" in panel.flags.text()
    assert canvas.box_item(ball).unlinked and not canvas.box_item(dog1).unlinked
    wave = QTextCharFormat.UnderlineStyle.WaveUnderline
    waved = [s for s in panel.edit.extraSelections() if s.format.underlineStyle() == wave]
    assert len(waved) == 1


def test_remove_and_unlink_phrase_buttons(qtbot, workspace, project, scene):
    image_id, (dog1, dog2, _ball) = scene
    project.set_caption(image_id, CAPTION)
    project.add_phrase(image_id, 0, 8, [dog1, dog2])
    workspace.refresh()
    panel = workspace.caption_panel
    panel.phrases.setCurrentItem(panel.phrases.topLevelItem(0))
    assert workspace.canvas.selected_box_ids() == [dog1, dog2]  # choosing a phrase selects its boxes
    workspace.canvas.select_boxes([dog2])
    panel.unlink_button.click()
    assert project.phrases(image_id)[0].box_ids == (dog1,)
    panel.phrases.setCurrentItem(panel.phrases.topLevelItem(0))
    panel.remove_button.click()
    assert project.phrases(image_id) == []
    workspace.undo_stack.undo()
    workspace.undo_stack.undo()
    assert project.phrases(image_id)[0].box_ids == (dog1, dog2)


def test_link_button_says_what_it_will_do(qtbot, workspace, scene):
    _, (dog1, dog2, _ball) = scene
    button = workspace.caption_panel.link_button
    assert button.text() == "Add phrase"
    workspace.canvas.select_boxes([dog1, dog2])
    assert button.text() == "Link to 2 boxes"
