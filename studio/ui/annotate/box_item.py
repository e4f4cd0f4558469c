"""Boxes on the canvas, painted in their label's colour: solid for ground truth, dashed for predictions.

Thousands of boxes stay smooth because one ``BoxLayer`` paints every box in a few batched calls (one
``drawRects`` per colour, selected boxes and their handles in one more pass). A ``BoxItem`` per box still
exists for hit-testing, selection, rubber band and tooltips, but it paints itself only while it is *lifted*:
highlighted by a hovered phrase, or a prediction overlay.
"""

from __future__ import annotations

from enum import Enum
from functools import cache
from typing import ClassVar

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QStaticText
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from studio.ui import theme

HANDLE_PX = 8.0  # resize handle size on screen
TAG_MIN_PX = 36.0  # draw the label tag inside boxes at least this wide on screen
TAG_LIMIT = 150  # at most this many tags at once (the widest boxes get them)
HANDLES_LIMIT = 50  # with more boxes selected, handles are only clutter
DENSE_BOXES = 600  # with more boxes, outlines are 1 px (clearer in a crowd, and twice as fast to draw)
UNLABELLED_COLOR = "#9e9e9e"
_GQI = QGraphicsItem.GraphicsItemFlag


class BoxStyle(Enum):
    TRUTH = "truth"  # solid
    PREDICTION = "prediction"  # dashed
    SUGGESTION = "suggestion"  # dashed and translucent


# Handle positions as fractions of the rect: (fx, fy); the cursor shape follows from them.
HANDLES: dict[str, tuple[float, float]] = {
    "tl": (0, 0), "t": (0.5, 0), "tr": (1, 0), "r": (1, 0.5),
    "br": (1, 1), "b": (0.5, 1), "bl": (0, 1), "l": (0, 0.5),
}  # fmt: skip
HANDLE_CURSORS = {
    "tl": Qt.CursorShape.SizeFDiagCursor, "br": Qt.CursorShape.SizeFDiagCursor,
    "tr": Qt.CursorShape.SizeBDiagCursor, "bl": Qt.CursorShape.SizeBDiagCursor,
    "t": Qt.CursorShape.SizeVerCursor, "b": Qt.CursorShape.SizeVerCursor,
    "l": Qt.CursorShape.SizeHorCursor, "r": Qt.CursorShape.SizeHorCursor,
}  # fmt: skip

_UNLINKED_FILL = QColor("#ffb300")
_UNLINKED_RADIUS_PX = 4.0


def handle_rects(rect: QRectF, scale: float) -> dict[str, QRectF]:
    """The resize handles of ``rect`` (scene coordinates) at view scale ``scale``."""
    size = HANDLE_PX / max(scale, 1e-6)
    return {
        name: QRectF(rect.x() + fx * rect.width() - size / 2, rect.y() + fy * rect.height() - size / 2, size, size)
        for name, (fx, fy) in HANDLES.items()
    }


@cache
def _tag_font() -> tuple[QFont, QFontMetricsF]:
    font = QFont()
    font.setPointSizeF(8.5)
    font.setBold(True)
    return font, QFontMetricsF(font)


class _Tag:
    """A label tag's text, laid out once."""

    _cache: ClassVar[dict[str, _Tag]] = {}

    def __init__(self, text: str) -> None:
        font, metrics = _tag_font()
        self.text = QStaticText(text)
        self.text.prepare(font=font)
        self.width = metrics.horizontalAdvance(text) + 8
        self.height = metrics.height() + 2

    @classmethod
    def of(cls, text: str) -> _Tag:
        tag = cls._cache.get(text)
        if tag is None:
            tag = cls._cache[text] = _Tag(text)
        return tag


def paint_tag(painter: QPainter, device_point: QPointF, name: str, color: QColor) -> None:
    """A filled tag with the label name, its top-left at ``device_point`` (painter in device coordinates)."""
    tag = _Tag.of(name)
    painter.fillRect(QRectF(device_point.x(), device_point.y(), tag.width, tag.height), color)
    painter.setFont(_tag_font()[0])
    painter.setPen(theme.text_on(color))
    painter.drawStaticText(QPointF(device_point.x() + 4, device_point.y() + 1), tag.text)


def paint_unlinked_mark(painter: QPainter, device_rect: QRectF) -> None:
    """A small amber dot at the top-right corner: no phrase of the caption points to this box."""
    r = _UNLINKED_RADIUS_PX
    painter.drawEllipse(QPointF(device_rect.right() - 2 * r, device_rect.top() + 2 * r), r, r)


class BoxItem(QGraphicsItem):
    """A box in scene coordinates = original-image pixels. The canvas moves and resizes it."""

    def __init__(self, box_id: int, rect: QRectF, *, style: BoxStyle = BoxStyle.TRUTH) -> None:
        super().__init__()
        self.box_id = box_id
        self.style = style
        self._rect = QRectF(rect)
        self.name = ""
        self.color = QColor(UNLABELLED_COLOR)
        self.highlighted = False  # a hovered phrase links to this box
        self.unlinked = False  # the image has a caption but no phrase links here
        self.lifted = False  # paints itself (else the BoxLayer paints it)
        self._margin = 0.0
        self.layer: BoxLayer | None = None
        self.setFlag(_GQI.ItemIsSelectable, style is BoxStyle.TRUTH)
        self.setFlag(_GQI.ItemHasNoContents, True)
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
        if self.layer is not None and not self.lifted:
            if self.isSelected():
                self.layer.update()  # selected boxes are read afresh at each paint
            else:
                self.layer.mark_dirty()

    def set_lifted(self, on: bool, scale: float) -> None:
        """Paint this box itself (highlighted, overlay) with room for handles at view ``scale``."""
        margin = HANDLE_PX / max(scale, 1e-6) if on else 0.0
        if on == self.lifted and margin == self._margin:
            return
        self.prepareGeometryChange()
        self._margin = margin
        if on != self.lifted:
            self.lifted = on
            self.setFlag(_GQI.ItemHasNoContents, not on)
            self._layer_changed()

    def _restack(self) -> None:
        # Smaller boxes above larger ones, so a box inside another stays clickable.
        area = self._rect.width() * self._rect.height()
        self.setZValue(-area / 1e9 + (1 if self.style is BoxStyle.TRUTH else 0))

    def _layer_changed(self) -> None:
        if self.layer is not None:
            self.layer.mark_dirty()

    def boundingRect(self) -> QRectF:
        m = self._margin
        return self._rect.adjusted(-m, -m, m, m)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self._rect)
        return path

    # ------------------------------------------------------------------ look
    def set_label(self, name: str, color: str) -> None:
        """The text of the box's tag ("red wedge #2", a prediction's label) and its label's colour."""
        self.name, self.color = name, QColor(color)
        self._layer_changed()
        self.update()

    def set_highlighted(self, on: bool) -> None:
        if on != self.highlighted:
            self.highlighted = on
            self.update()

    def set_unlinked(self, on: bool) -> None:
        if on != self.unlinked:
            self.unlinked = on
            self._layer_changed()
            self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        scale = painter.worldTransform().m11()
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
        if selected:
            handle_pen = QPen(QColor("#202020"), 1.0)
            handle_pen.setCosmetic(True)
            painter.setPen(handle_pen)
            painter.setBrush(QColor("#ffffff"))
            for rect in handle_rects(self._rect, scale).values():
                painter.drawRect(rect)
        if self.name or self.unlinked:
            device = painter.worldTransform().mapRect(self._rect)
            painter.save()
            painter.resetTransform()
            if self.name:
                paint_tag(painter, device.topLeft(), self.name, color)
            if self.unlinked:
                painter.setPen(QPen(QColor("#202020"), 1.0))
                painter.setBrush(_UNLINKED_FILL)
                paint_unlinked_mark(painter, device)
            painter.restore()


class BoxLayer(QGraphicsItem):
    """Paints every box that is not lifted: resting boxes batched per colour, then the selected ones (fill,
    thicker outline, handles), then tags for the largest boxes and marks for unlinked ones."""

    def __init__(self, items: dict[int, BoxItem]) -> None:
        super().__init__()
        self._items = items
        self._bounds = QRectF()
        self._dirty = True
        self._groups: list[tuple[QColor, list[QRectF]]] = []
        self._selected: list[BoxItem] = []
        self._tags: list[tuple[float, QRectF, str, QColor]] = []  # resting boxes, widest first
        self._unlinked: list[QRectF] = []
        self.setZValue(-5)

    def set_bounds(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        margin = max(rect.width(), rect.height()) * 0.05 + 4
        self._bounds = rect.adjusted(-margin, -margin, margin, margin)
        self.mark_dirty()

    def mark_dirty(self) -> None:
        """The set of boxes, their colours or the selection changed: regroup at the next paint."""
        self._dirty = True
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(self._bounds)

    def _rebuild(self) -> None:
        groups: dict[str, tuple[QColor, list[QRectF]]] = {}
        selected, tags, unlinked = [], [], []
        for item in self._items.values():
            if item.lifted or not item.isVisible():
                continue
            if item.isSelected():
                selected.append(item)
                continue
            rect = item.rect()
            key = item.color.name()
            if key not in groups:
                groups[key] = (QColor(item.color), [])
            groups[key][1].append(rect)
            if item.name:
                tags.append((rect.width(), rect, item.name, item.color))
            if item.unlinked:
                unlinked.append(rect)
        tags.sort(key=lambda tag: -tag[0])
        self._groups, self._selected, self._tags, self._unlinked = (
            list(groups.values()),
            selected,
            tags,
            unlinked,
        )
        self._dirty = False

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self._dirty:
            self._rebuild()
        painter.setBrush(Qt.BrushStyle.NoBrush)
        width = 1.0 if len(self._items) > DENSE_BOXES else 2.0
        for color, rects in self._groups:
            painter.setPen(_outline(color, width))
            painter.drawRects(rects)
        transform = painter.worldTransform()
        scale = transform.m11()
        selected: dict[str, tuple[QColor, list[QRectF]]] = {}
        for item in self._selected:
            key = item.color.name()
            if key not in selected:
                selected[key] = (item.color, [])
            selected[key][1].append(item.rect())
        for color, rects in selected.values():
            fill = QColor(color)
            fill.setAlpha(45)
            painter.setPen(_outline(color, 3.0))
            painter.setBrush(fill)
            painter.drawRects(rects)
        if 0 < len(self._selected) <= HANDLES_LIMIT:
            handles = [h for item in self._selected for h in handle_rects(item.rect(), scale).values()]
            pen = QPen(QColor("#202020"), 1.0)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(QColor("#ffffff"))
            painter.drawRects(handles)
        self._paint_marks(painter, option.exposedRect)

    def _paint_marks(self, painter: QPainter, exposed: QRectF) -> None:
        """Tags (selected boxes first, then the widest resting ones) and unlinked marks, in device pixels."""
        transform = painter.worldTransform()
        scale = transform.m11()
        painter.save()
        painter.resetTransform()
        drawn = 0
        for item in self._selected[:TAG_LIMIT]:
            if item.name:
                paint_tag(painter, transform.map(item.rect().topLeft()), item.name, item.color)
                drawn += 1
        for width, rect, name, color in self._tags:
            if drawn >= TAG_LIMIT or width * scale < TAG_MIN_PX:
                break
            if exposed.intersects(rect):
                paint_tag(painter, transform.map(rect.topLeft()), name, color)
                drawn += 1
        unlinked = self._unlinked + [item.rect() for item in self._selected if item.unlinked]
        if unlinked:
            painter.setPen(QPen(QColor("#202020"), 1.0))
            painter.setBrush(_UNLINKED_FILL)
            for rect in unlinked:
                paint_unlinked_mark(painter, transform.mapRect(rect))
        painter.restore()


def _outline(color: QColor, width: float) -> QPen:
    pen = QPen(color, width)
    pen.setCosmetic(True)
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    return pen
