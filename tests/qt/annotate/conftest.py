"""Fixtures for the Annotate workspace tests: synthetic images (one EXIF-rotated) and a hosting window."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageOps
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QDockWidget, QMainWindow

from studio.dataset.store import NewImage, Project
from studio.ui.annotate.workspace import AnnotationWorkspace


def scene_image(width: int = 320, height: int = 200) -> Image.Image:
    """A small synthetic scene: sky, grass, a red 'ball' and a brown 'dog'."""
    image = Image.new("RGB", (width, height), (135, 185, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height * 0.62, width, height), fill=(96, 160, 72))
    draw.ellipse((width * 0.62, height * 0.55, width * 0.74, height * 0.73), fill=(215, 50, 45))
    draw.rounded_rectangle((width * 0.12, height * 0.42, width * 0.45, height * 0.8), 12, fill=(140, 95, 55))
    draw.ellipse((width * 0.38, height * 0.3, width * 0.52, height * 0.5), fill=(120, 80, 45))
    return image


def add_image(project: Project, path: Path, image: Image.Image, orientation: int = 1) -> int:
    """Save ``image`` (with an EXIF orientation tag unless 1) and add it with its oriented size."""
    if orientation == 1:
        image.save(path)
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation
        image.save(path, exif=exif, quality=95)
    with Image.open(path) as opened:
        width, height = ImageOps.exif_transpose(opened).size
    (image_id,) = project.add_images(
        [NewImage(str(path), width, height, orientation=orientation, file_size=path.stat().st_size)]
    )
    return image_id


@pytest.fixture
def images(project, tmp_path):
    """Two plain images and one 60x40 JPEG stored rotated (EXIF orientation 6, shown 40x60)."""
    first = add_image(project, tmp_path / "scene.png", scene_image())
    second = add_image(project, tmp_path / "second.png", scene_image(240, 160))
    raw = Image.new("RGB", (60, 40), (20, 20, 200))
    ImageDraw.Draw(raw).rectangle((0, 0, 9, 9), fill=(250, 0, 0))  # red mark at the raw top-left
    rotated = add_image(project, tmp_path / "rotated.jpg", raw, orientation=6)
    return {"scene": first, "second": second, "rotated": rotated}


class Host(QMainWindow):
    """The workspace docked the way the main window does it."""

    def __init__(self, workspace: AnnotationWorkspace) -> None:
        super().__init__()
        self.workspace = workspace
        self.setCentralWidget(workspace.canvas)
        for title, panel in (
            ("Labels", workspace.label_panel),
            ("Caption && phrases", workspace.caption_panel),
            ("Questions && answers", workspace.vqa_panel),
        ):
            dock = QDockWidget(title, self)
            dock.setWidget(panel)
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        undo = workspace.undo_stack.createUndoAction(self)
        undo.setShortcut("Ctrl+Z")
        redo = workspace.undo_stack.createRedoAction(self)
        redo.setShortcuts(["Ctrl+Shift+Z", "Ctrl+Y"])
        self.addActions([undo, redo])
        self.resize(1100, 700)


@pytest.fixture
def workspace(qtbot, project, images):
    stack = QUndoStack()
    ws = AnnotationWorkspace(project, stack)
    ws.ask_label_on_draw = False
    host = Host(ws)
    stack.setParent(host)  # as in the main window: the stack dies with the window, not in Python's GC
    qtbot.addWidget(host)
    host.show()
    qtbot.waitExposed(host)
    host.activateWindow()
    show(qtbot, ws, images["scene"])
    ws.canvas.setFocus()
    yield ws
    ws.store_signals.detach()


def show(qtbot, workspace: AnnotationWorkspace, image_id: int) -> None:
    """Show an image and wait until its picture (decoded in a worker) is on the canvas."""
    workspace.show_image(image_id)
    qtbot.waitUntil(lambda: workspace.canvas.boxes.picture_size.isValid())


def view_point(canvas, x: float, y: float) -> QPoint:
    """The viewport pixel showing scene point (x, y)."""
    return canvas.mapFromScene(QPointF(x, y))


def drag(qtbot, canvas, start: QPoint, end: QPoint, button=Qt.MouseButton.LeftButton, steps: int = 4) -> None:
    """Press at ``start``, move in steps, release at ``end`` on the canvas viewport (real mouse events)."""
    viewport = canvas.viewport()
    qtbot.mousePress(viewport, button, pos=start)
    for i in range(1, steps + 1):
        point = start + (end - start) * (i / steps)
        qtbot.mouseMove(viewport, pos=QPoint(round(point.x()), round(point.y())))
    qtbot.mouseRelease(viewport, button, pos=end)
