"""An image with boxes drawn over it in original-pixel coordinates: ground truth solid, predictions dashed,
suggestions dashed and translucent; a selected box is drawn thicker with handles and the others dimmed.
`paint_overlay` is shared by the playground's view and the evaluation gallery's thumbnails; `LabelColours` gives a
model's boxes the colour of the project's label they name."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QImageReader, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from studio.dataset.label_match import LabelIndex
from studio.ui import theme

STYLES = ("truth", "prediction", "suggestion")
EMPHASES = ("", "selected", "dimmed")
PREDICTION_COLOUR = "#ff7f0e"
HANDLE_PX = 6.0


@dataclass(frozen=True)
class OverlayBox:
    label: str
    box: tuple[float, float, float, float]  # original-image pixels
    style: str = "prediction"
    colour: str = PREDICTION_COLOUR
    emphasis: str = ""  # "selected": thicker, with handles; "dimmed": faint


class LabelColours(LabelIndex):
    """The project's labels for boxes a model named (`LabelIndex`): the phrase "a red ball" takes the colour of the
    label "red ball"; unknown names keep the prediction colour."""

    def colour(self, name: str) -> str:
        label = self.label(name)
        return label.color if label is not None else PREDICTION_COLOUR


def read_image(path: str) -> QImage:
    """The image upright (EXIF orientation applied), the frame the store's boxes are in."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    return reader.read()


def fit_rect(image_size, area: QRectF) -> QRectF:
    """Where an image of ``image_size`` lands when fitted (aspect kept) and centred in ``area``."""
    w, h = image_size.width(), image_size.height()
    if w <= 0 or h <= 0:
        return QRectF()
    scale = min(area.width() / w, area.height() / h)
    return QRectF(area.x() + (area.width() - w * scale) / 2, area.y() + (area.height() - h * scale) / 2,
                  w * scale, h * scale)


def paint_overlay(painter: QPainter, image: QImage, boxes: list[OverlayBox], area: QRectF,
                  *, labels: bool = True) -> QRectF:
    """Draw ``image`` fitted into ``area`` and its boxes; returns the image's rectangle."""
    target = fit_rect(image.size(), area)
    if target.isEmpty():
        return target
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.drawImage(target, image)
    scale = target.width() / image.width()
    font = QFont(painter.font())
    font.setPointSizeF(8.5)
    painter.setFont(font)
    for item in boxes:
        x1, y1, x2, y2 = item.box
        rect = QRectF(target.x() + x1 * scale, target.y() + y1 * scale, (x2 - x1) * scale, (y2 - y1) * scale)
        colour = QColor(item.colour)
        selected = item.emphasis == "selected"
        pen = QPen(colour, 3.5 if selected else 2.0)
        if item.style != "truth":
            pen.setStyle(Qt.PenStyle.DashLine)
        if item.emphasis == "dimmed":
            colour.setAlpha(70)
        elif item.style == "suggestion" and not selected:
            colour.setAlpha(150)
        pen.setColor(colour)
        if item.style == "suggestion":
            fill = QColor(colour)
            fill.setAlpha(70 if selected else 40 if item.emphasis != "dimmed" else 15)
            painter.fillRect(rect, fill)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rect)
        if selected:
            _paint_handles(painter, rect, colour)
        if labels and item.label:
            metrics = painter.fontMetrics()
            tag = QRectF(rect.x(), rect.y() - metrics.height() - 2, metrics.horizontalAdvance(item.label) + 8,
                         metrics.height() + 2)
            if tag.y() < target.y():
                tag.moveTop(rect.y())
            painter.fillRect(tag, colour)
            painter.setPen(QColor(255, 255, 255, 110 if item.emphasis == "dimmed" else 255))
            painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, item.label)
    return target


def _paint_handles(painter: QPainter, rect: QRectF, colour: QColor) -> None:
    """Small squares at the corners and edge midpoints, as a selected box has on the Annotate canvas."""
    painter.setPen(QPen(QColor("white"), 1.0))
    painter.setBrush(colour)
    half = HANDLE_PX / 2
    for fx in (0.0, 0.5, 1.0):
        for fy in (0.0, 0.5, 1.0):
            if (fx, fy) != (0.5, 0.5):
                x, y = rect.x() + fx * rect.width(), rect.y() + fy * rect.height()
                painter.drawRect(QRectF(x - half, y - half, HANDLE_PX, HANDLE_PX))
    painter.setBrush(Qt.BrushStyle.NoBrush)


def overlay_pixmap(image: QImage, boxes: list[OverlayBox], width: int, height: int,
                   *, labels: bool = False) -> QPixmap:
    pixmap = QPixmap(width, height)
    pixmap.fill(QColor(theme.colours()["alt"]))
    painter = QPainter(pixmap)
    paint_overlay(painter, image, boxes, QRectF(0, 0, width, height), labels=labels)
    painter.end()
    return pixmap


class OverlayView(QWidget):
    """Shows one image with boxes; accepts an image file dropped on it (``file_dropped``)."""

    file_dropped = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QImage()
        self.boxes: list[OverlayBox] = []
        self.hint = "Choose an image from the project, open a file, or drop one here"
        self.setAcceptDrops(True)
        self.setMinimumSize(160, 120)

    def set_image(self, image: QImage) -> None:
        self.image = image
        self.boxes = []
        self.update()

    def set_boxes(self, boxes: list[OverlayBox]) -> None:
        self.boxes = list(boxes)
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        area = QRectF(self.rect()).adjusted(8, 8, -8, -8)
        if self.image.isNull():
            painter.setPen(QColor(theme.colours()["muted"]))
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.hint)
        else:
            paint_overlay(painter, self.image, self.boxes, area)
        painter.end()

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.file_dropped.emit(url.toLocalFile())
                event.acceptProposedAction()
                return
