"""Label picker type-ahead and recent labels, crosshair guides, prediction overlays, empty canvas."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from studio.dataset.model import Label
from studio.ui.annotate.box_item import BoxStyle
from studio.ui.annotate.canvas import AnnotationCanvas
from studio.ui.annotate.label_picker import LabelPicker, rank_labels, remember
from tests.qt.annotate.conftest import view_point


def test_rank_and_remember():
    names = ["car", "cat", "scarf", "dog"]
    assert rank_labels(names, [], "ca") == ["car", "cat", "scarf"]  # prefix matches before inner ones
    assert rank_labels(names, ["scarf"], "ca") == ["scarf", "car", "cat"]  # recent first
    assert remember(["a", "b", "c", "d", "e"], "c") == ["c", "a", "b", "d", "e"]
    assert len(remember(["a", "b", "c", "d", "e"], "z")) == 5


def test_picker_type_ahead_arrows_and_new_label(qtbot):
    picker = LabelPicker()
    qtbot.addWidget(picker)
    labels = [Label(1, "car", "#f00"), Label(2, "cat", "#0f0"), Label(3, "dog", "#00f")]
    picked = []
    picker.picked.connect(picked.append)
    picker.open_at(QPoint(10, 10), labels, ["dog"], current="cat")
    assert picker.list.currentItem().data(Qt.ItemDataRole.UserRole) == "cat"
    qtbot.keyClicks(picker.edit, "ca")
    shown = [picker.list.item(i).text() for i in range(picker.list.count())]
    assert shown == ["car", "cat", "Create label “ca”"]
    qtbot.keyClick(picker.edit, Qt.Key.Key_Down)
    qtbot.keyClick(picker.edit, Qt.Key.Key_Return)
    assert picked == ["cat"] and not picker.isVisible()
    picker.open_at(QPoint(10, 10), labels, [], current="")
    qtbot.keyClicks(picker.edit, "zebra")
    assert picker.list.item(0).text() == "Create label “zebra”"
    qtbot.keyClick(picker.edit, Qt.Key.Key_Return)
    assert picked == ["cat", "zebra"]


def _render(canvas) -> QImage:
    image = QImage(canvas.viewport().size(), QImage.Format.Format_RGB32)
    painter = QPainter(image)
    canvas.render(painter, source=canvas.viewport().rect())
    painter.end()
    return image


def test_crosshair_guides_follow_the_cursor_in_create_mode(qtbot, workspace):
    canvas = workspace.canvas
    canvas.set_zoom(2.0, QPointF(160, 100))
    canvas.set_create_mode(True)
    target = view_point(canvas, 100, 50)
    qtbot.mouseMove(canvas.viewport(), pos=target - QPoint(3, 3))
    qtbot.mouseMove(canvas.viewport(), pos=target)
    along = view_point(canvas, 20, 50)  # same row, far from the cursor: on the horizontal guide
    off = view_point(canvas, 20, 70)
    image = _render(canvas)
    assert QColor(image.pixel(along)).lightness() > QColor(image.pixel(off)).lightness() + 40


def test_prediction_overlays_are_dashed_and_not_editable(qtbot, workspace, project, images):
    canvas = workspace.canvas
    canvas.set_zoom(2.0, QPointF(160, 100))
    canvas.set_overlays([("dog", "#e6194b", (20, 20, 80, 60))])
    (item,) = canvas.boxes._overlays
    assert item.style is BoxStyle.PREDICTION and item.lifted
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=view_point(canvas, 50, 40))
    assert canvas.selected_box_ids() == [] and not item.isSelected()
    drawn = canvas.grab()  # paints the dashed box without error
    assert not drawn.isNull()


def test_empty_canvas_explains_what_to_do(qtbot):
    canvas = AnnotationCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(400, 300)
    canvas.show()
    image = _render(canvas)
    centre_row = [QColor(image.pixel(x, 150)).lightness() for x in range(100, 300)]
    assert max(centre_row) > 120  # the hint text is drawn on the dark background
