"""Drawing boxes with real mouse and key events: stored coordinates are original-image pixels."""

from __future__ import annotations

import pytest
from PIL import Image, ImageOps
from PySide6.QtCore import QPoint, QPointF, Qt

from tests.qt.annotate.conftest import drag, show, view_point


def _scene(canvas, point: QPoint) -> QPointF:
    return canvas.mapToScene(point)


def test_draw_box_at_200_percent_with_label_picker(qtbot, workspace, project, images):
    canvas = workspace.canvas
    workspace.ask_label_on_draw = True
    canvas.set_zoom(2.0, QPointF(100, 80))
    assert canvas.scale_factor() == pytest.approx(2.0)
    qtbot.keyClick(canvas, Qt.Key.Key_W)
    assert canvas.create_mode
    start, end = view_point(canvas, 60, 40), view_point(canvas, 130, 95)
    drag(qtbot, canvas, start, end)
    assert workspace.picker.isVisible()
    qtbot.keyClicks(workspace.picker.edit, "cat")
    qtbot.keyClick(workspace.picker.edit, Qt.Key.Key_Return)
    (box,) = project.boxes(images["scene"])
    expected_from, expected_to = _scene(canvas, start), _scene(canvas, end)
    assert box.xyxy == pytest.approx((expected_from.x(), expected_from.y(), expected_to.x(), expected_to.y()))
    assert box.xyxy == pytest.approx((60, 40, 130, 95), abs=0.5)  # 200 %: half-pixel precision
    assert project.label(box.label_id).name == "cat"
    assert workspace.recent_labels == ["cat"]


def test_escape_in_label_picker_draws_nothing(qtbot, workspace, project, images):
    workspace.ask_label_on_draw = True
    canvas = workspace.canvas
    canvas.set_create_mode(True)
    drag(qtbot, canvas, view_point(canvas, 20, 20), view_point(canvas, 80, 80))
    qtbot.keyClick(workspace.picker.edit, Qt.Key.Key_Escape)
    assert project.boxes(images["scene"]) == []


def test_draw_on_exif_rotated_image_stores_oriented_pixels(qtbot, workspace, project, images, tmp_path):
    image_id = images["rotated"]
    image = project.image(image_id)
    assert (image.width, image.height) == (40, 60)  # raw 60x40, orientation 6
    show(qtbot, workspace, image_id)
    canvas = workspace.canvas
    # The canvas shows the image as exif_transpose does: the raw top-left red mark is now top-right.
    shown = canvas.boxes.pixmap.pixmap().toImage()
    assert (shown.width(), shown.height()) == (40, 60)
    with Image.open(image.path) as raw:
        oriented = ImageOps.exif_transpose(raw).convert("RGB")
    for x, y in ((35, 3), (3, 3), (20, 50)):
        color = shown.pixelColor(x, y)
        assert (color.red(), color.green(), color.blue()) == pytest.approx(oriented.getpixel((x, y)), abs=40)
    canvas.set_zoom(4.0, QPointF(20, 30))
    qtbot.keyClick(canvas, Qt.Key.Key_W)
    drag(qtbot, canvas, view_point(canvas, 5, 10), view_point(canvas, 30, 50))
    (box,) = project.boxes(image_id)
    assert box.xyxy == pytest.approx((5, 10, 30, 50), abs=0.25)


def test_drawing_snaps_to_image_bounds(qtbot, workspace, project, images):
    canvas = workspace.canvas
    qtbot.keyClick(canvas, Qt.Key.Key_W)
    image = project.image(images["scene"])
    drag(qtbot, canvas, view_point(canvas, 250, 150), view_point(canvas, image.width + 40, image.height + 30))
    (box,) = project.boxes(images["scene"])
    assert (box.x2, box.y2) == (image.width, image.height)


def test_tiny_drag_is_a_click_not_a_box(qtbot, workspace, project, images):
    canvas = workspace.canvas
    canvas.set_create_mode(True)
    start = view_point(canvas, 50, 50)
    drag(qtbot, canvas, start, start + QPoint(1, 1))
    assert project.boxes(images["scene"]) == []


def test_escape_leaves_create_mode(qtbot, workspace):
    canvas = workspace.canvas
    qtbot.keyClick(canvas, Qt.Key.Key_W)
    assert canvas.create_mode and workspace.actions["create_mode"].isChecked()
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert not canvas.create_mode


def test_wheel_zoom_keeps_the_point_under_the_cursor(qtbot, workspace):
    canvas = workspace.canvas
    canvas.set_zoom(1.0, QPointF(160, 100))
    cursor = view_point(canvas, 200, 120)
    before = canvas.mapToScene(cursor)
    from PySide6.QtCore import QPoint as P
    from PySide6.QtGui import QWheelEvent

    event = QWheelEvent(
        QPointF(cursor),
        QPointF(canvas.viewport().mapToGlobal(cursor)),
        P(0, 0),
        P(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    canvas.wheelEvent(event)
    assert canvas.scale_factor() == pytest.approx(1.0015**240)
    after = canvas.mapToScene(cursor)
    assert after.x() == pytest.approx(before.x(), abs=1.0) and after.y() == pytest.approx(before.y(), abs=1.0)


def test_fit_and_actual_size_keys(qtbot, workspace):
    canvas = workspace.canvas
    qtbot.keyClick(canvas, Qt.Key.Key_1)
    assert canvas.scale_factor() == pytest.approx(1.0)
    qtbot.keyClick(canvas, Qt.Key.Key_F)
    rect = canvas.mapFromScene(canvas.image_rect).boundingRect()
    viewport = canvas.viewport().rect()
    assert viewport.contains(rect)
    assert rect.width() > viewport.width() * 0.8 or rect.height() > viewport.height() * 0.8


@pytest.mark.parametrize("how", ["middle", "space"])
def test_pan(qtbot, workspace, how):
    canvas = workspace.canvas
    canvas.set_zoom(4.0, QPointF(160, 100))
    centre = canvas.viewport().rect().center()
    before = canvas.mapToScene(centre)
    if how == "middle":
        drag(qtbot, canvas, centre, centre + QPoint(80, 40), button=Qt.MouseButton.MiddleButton)
    else:
        qtbot.keyPress(canvas, Qt.Key.Key_Space)
        drag(qtbot, canvas, centre, centre + QPoint(80, 40))
        qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    after = canvas.mapToScene(centre)
    assert before.x() - after.x() == pytest.approx(20, abs=1)  # 80 screen px at 400 %
    assert before.y() - after.y() == pytest.approx(10, abs=1)
