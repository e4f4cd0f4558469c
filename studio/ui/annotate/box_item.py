"""One box on the canvas: painted in its label's colour, solid for ground truth, dashed for predictions."""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

HANDLE_PX = 8.0  # resize handle size on screen
TAG_MIN_PX = 36.0  # draw the label tag inside boxes at least this wide on screen
UNLABELLED_COLOR = "#9e9e9e"


class BoxStyle(Enum):
    TRUTH = "truth"  # solid
    PREDICTION = "prediction"  # dashed
    SUGGESTION = "suggestion"  # dashed and translucent


# Handle positions as fractions of the rect: (fx, fy); the cursor shape follows from them.
HANDLES: dict[str, tuple[float, float]] = {
    "tl": (0, 0),
    "t": (0.5, 0),
    "tr": (1, 0),
    "r": (1, 0.5),
    "br": (1, 1),
    "b": (0.5, 1),
    "bl": (0, 1),
    "l": (0, 0.5),
}
HANDLE_CURSORS = {
    "tl": Qt.CursorShape.SizeFDiagCursor,
    "br": Qt.CursorShape.SizeFDiagCursor,
    "tr": Qt.CursorShape.SizeBDiagCursor,
    "bl": Qt.CursorShape.SizeBDiagCursor,
    "t": Qt.CursorShape.SizeVerCursor,
    "b": Qt.CursorShape.SizeVerCursor,
    "l": Qt.CursorShape.SizeHorCursor,
    "r": Qt.CursorShape.SizeHorCursor,
}

_TAG_FONT = QFont()
_TAG_FONT.setPointSizeF(8.5)
_TAG_FONT.setBold(True)
_TAG_METRICS = QFontMetricsF(_TAG_FONT)


def handle_rects(rect: QRectF, scale: float) -> dict[str, QRectF]:
    """The resize handles of ``rect`` (scene coordinates) at view scale ``scale``."""
    size = HANDLE_PX / max(scale, 1e-6)
    return {
        name: QRectF(
            rect.x() + fx * rect.width() - size / 2, rect.y() + fy * rect.height() - size / 2, size, size
        )
        for name, (fx, fy) in HANDLES.items()
    }


class BoxItem(QGraphicsItem):
    """A box in scene coordinates = original-image pixels. The canvas moves and resizes it."""

    def __init__(self, box_id: int, rect: QRectF, *, style: BoxStyle = BoxStyle.TRUTH) -> None:
        super().__init__()
        self.box_id = box_id
        self.style = style
        self._rect = QRectF(rect)
        self.label_name = ""
        self.color = QColor(UNLABELLED_COLOR)
        self.highlighted = False  # a hovered phrase links to this box
        self.unlinked = False  # the image has a caption but no phrase links here
        self.handle_scale = 1.0  # view scale, for handle and tag sizes
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, style is BoxStyle.TRUTH)
        self.setAcceptHoverEvents(True)
        self._restack()

    # ------------------------------------------------------------------ geometry
    def rect(self) -> QRectF:
        return QRectF(self._rect)

    def set_rect(self, rect: QRectF) -> None:
        rect = rect.normalized()
        if rect == self._rect:
            return
        self.prepareGeometryChange()
        self._rect = rect
        self._restack()

    def set_handle_scale(self, scale: float) -> None:
        if self.isSelected():
            self.prepareGeometryChange()
        self.handle_scale = scale

    def _restack(self) -> None:
        # Smaller boxes above larger ones, so a box inside another stays clickable.
        self.setZValue(
            -self._rect.width() * self._rect.height() / 1e9 + (1 if self.style is BoxStyle.TRUTH else 0)
        )

    def boundingRect(self) -> QRectF:
        margin = (
            HANDLE_PX / max(self.handle_scale, 1e-6)
            if self.isSelected()
            else 2.0 / max(self.handle_scale, 1e-6)
        )
        return self._rect.adjusted(-margin, -margin, margin, margin)

    def shape(self):
        from PySide6.QtGui import QPainterPath

        path = QPainterPath()
        path.addRect(self._rect)
        return path

    # ------------------------------------------------------------------ look
    def set_label(self, name: str, color: str) -> None:
        self.label_name, self.color = name, QColor(color)
        self.update()

    def set_highlighted(self, on: bool) -> None:
        if on != self.highlighted:
            self.highlighted = on
            self.update()

    def set_unlinked(self, on: bool) -> None:
        if on != self.unlinked:
            self.unlinked = on
            self.update()

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedChange:
            self.prepareGeometryChange()
        return super().itemChange(change, value)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        scale = self.handle_scale
        selected = self.isSelected()
        color = QColor(self.color)
        if self.style is BoxStyle.SUGGESTION:
            color.setAlpha(150)
        pen = QPen(color, 3.0 if (selected or self.highlighted) else 2.0)
        pen.setCosmetic(True)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        if self.style is not BoxStyle.TRUTH:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        if selected or self.highlighted:
            fill = QColor(color)
            fill.setAlpha(70 if self.highlighted else 45)
            painter.setBrush(fill)
        else:
            painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self._rect)
        on_screen = self._rect.width() * scale
        if self.label_name and (on_screen >= TAG_MIN_PX or selected or self.highlighted):
            self._paint_tag(painter, scale)
        if self.unlinked:
            self._paint_unlinked_mark(painter, scale)
        if selected:
            self._paint_handles(painter, scale)

    def _paint_tag(self, painter: QPainter, scale: float) -> None:
        """The label name in a filled tag at the top-left corner, constant size on screen."""
        painter.save()
        painter.translate(self._rect.topLeft())
        painter.scale(1 / scale, 1 / scale)
        text = self.label_name
        width = _TAG_METRICS.horizontalAdvance(text) + 8
        height = _TAG_METRICS.height() + 2
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.color)
        painter.drawRect(QRectF(0, 0, width, height))
        painter.setFont(_TAG_FONT)
        painter.setPen(QColor("#000000") if self.color.lightnessF() > 0.6 else QColor("#ffffff"))
        painter.drawText(QRectF(4, 1, width - 8, height - 2), Qt.AlignmentFlag.AlignVCenter, text)
        painter.restore()

    def _paint_unlinked_mark(self, painter: QPainter, scale: float) -> None:
        """A small amber dot at the top-right corner: no phrase of the caption points to this box."""
        radius = 4.0 / scale
        centre = QPointF(self._rect.right() - 2 * radius, self._rect.top() + 2 * radius)
        painter.setPen(QPen(QColor("#202020"), 1.0 / scale))
        painter.setBrush(QColor("#ffb300"))
        painter.drawEllipse(centre, radius, radius)

    def _paint_handles(self, painter: QPainter, scale: float) -> None:
        pen = QPen(QColor("#202020"), 1.0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(QBrush(QColor("#ffffff")))
        for rect in handle_rects(self._rect, scale).values():
            painter.drawRect(rect)
