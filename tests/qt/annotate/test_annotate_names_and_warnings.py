"""Boxes named the same way everywhere (per image), phrase highlights that read with pale label colours, and the
warning when a relabel contradicts a linked phrase."""

from __future__ import annotations

from PySide6.QtGui import QColor

from studio.ui import theme


def _seen(color: QColor, field: QColor) -> QColor:
    """``color`` as painted over ``field`` (its alpha applied)."""
    a = color.alphaF()
    return QColor.fromRgbF(*(f + (c - f) * a for c, f in (
        (color.redF(), field.redF()), (color.greenF(), field.greenF()), (color.blueF(), field.blueF()))))


def _boxes(project, image_id, *specs):
    """Add (label name, x) boxes in order; returns their ids."""
    return [project.add_box(image_id, project.ensure_label(name).id, x, 20, x + 40, 80) for name, x in specs]


def test_a_box_has_one_small_per_image_number_in_every_view(workspace, project, images):
    other = images["second"]
    _boxes(project, other, *[("green ball", 10)] * 5)  # earlier boxes elsewhere push the database ids up
    image_id = images["scene"]
    red, green1, green2 = _boxes(project, image_id, ("red wedge", 10), ("green ball", 60), ("green ball", 110))
    assert green2 > 7
    project.set_caption(image_id, "a red wedge and two green balls")
    project.add_phrase(image_id, 16, 31, [green1, green2])
    workspace.refresh()
    canvas, panel = workspace.canvas, workspace.caption_panel
    names = [canvas.box_item(i).name for i in (red, green1, green2)]
    assert names == ["red wedge #1", "green ball #1", "green ball #2"]
    assert canvas.box_item(green2).toolTip().startswith("<b>green ball #2</b>")
    assert panel.phrases.topLevelItem(0).text(1) == "green ball #1, green ball #2"
    assert "red wedge #1" in panel.flags.text()  # no phrase points to it
    project.delete_boxes([green1])
    workspace.refresh()
    assert canvas.box_item(green2).name == "green ball #1"


def test_pale_label_colours_still_give_readable_phrase_highlights(qtbot, workspace, project, images, tmp_path):
    image_id = images["scene"]
    pale = {"pink cat": "#fabed4", "mint dog": "#aaffc3", "lavender ball": "#dcbeff"}
    ids = _boxes(project, image_id, *[(name, 10 + 60 * i) for i, name in enumerate(pale)])
    for name, color in pale.items():
        project.set_label_color(project.ensure_label(name).id, color)
    caption = "A pink cat sits by a mint dog that chases a lavender ball."
    project.set_caption(image_id, caption)
    for name, box_id in zip(pale, ids, strict=True):
        start = caption.index(name)
        project.add_phrase(image_id, start, start + len(name), [box_id])
    workspace.refresh()
    panel = workspace.caption_panel
    field = panel.edit.palette().base().color()
    selections = panel.edit.extraSelections()
    assert len(selections) == 3
    for selection in selections:
        background = _seen(selection.format.background().color(), field)
        text = selection.format.foreground().color()
        assert theme.contrast(background, field) >= 1.4  # the label colours at 35 % alpha gave 1.1-1.2
        assert theme.contrast(text, background) >= 4.5
    panel.highlight_boxes([ids[0]])  # hovering the pink cat's box
    hot = next(s for s in panel.edit.extraSelections() if s.format.fontWeight() == 700)
    assert theme.contrast(_seen(hot.format.background().color(), field), field) >= 2.0
    panel.window().resize(1100, 700)
    panel.grab().save(str(tmp_path / "polish-caption-pale.png"))


def test_relabelling_a_box_its_phrase_contradicts_warns(qtbot, workspace, project, images):
    image_id = images["scene"]
    project.ensure_label("green block", "#2ca02c")
    (block,) = _boxes(project, image_id, ("red block", 10))
    project.set_caption(image_id, "a red block on the grass")
    project.add_phrase(image_id, 0, 11, [block])
    workspace.refresh()
    workspace.canvas.select_boxes([block])
    messages = []
    workspace.status_message.connect(messages.append)
    workspace.relabel_selected()
    workspace.picker.picked.emit("green block")
    assert project.label(project.box(block).label_id).name == "green block"
    expected = "The phrase “a red block” is linked to a box now labelled “green block”"
    assert any(m.startswith(expected) for m in messages)
    flags = workspace.caption_panel.flags
    assert expected in flags.text() and not flags.isHidden()
    workspace.undo_stack.undo()  # back to red: nothing to warn about
    assert expected not in flags.text()
    workspace.undo_stack.redo()
    assert expected in flags.text()
    project.set_caption(image_id, "a green block on the grass")  # the text fixed: the warning goes
    workspace.refresh()
    assert [p.text for p in project.phrases(image_id)] == ["a green block"]
    assert expected not in flags.text()
