"""The annotation canvas: the image and its boxes in a QGraphicsView, scene units = original-image pixels.

The canvas shows what the store holds and turns mouse and keys into requests (``box_drawn``,
``boxes_edited``); it never writes to the store itself. Zoom with the wheel around the cursor, pan with the
middle button or space+drag, draw in create mode (W) with crosshair guides, move and resize selected boxes,
snap everything to the image bounds.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QByteArray, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsView, QWidget

from studio.dataset.model import Box, Label
from studio.ui.annotate.box_item import (
    HANDLE_CURSORS,
    BoxItem,
    BoxStyle,
    handle_rects,
)
from studio.ui.annotate.box_scene import BoxScene

Rect = tuple[float, float, float, float]
PHRASE_MIME = "application/x-vlmstudio-phrase"  # payload: b"start,end"
MIN_ZOOM, MAX_ZOOM = 0.02, 64.0
NUDGE_PX, NUDGE_BIG_PX = 1.0, 10.0
MIN_DRAW_SCREEN_PX = 3.0  # a drag shorter than this on screen is a click, not a box

_BACKGROUND = QColor("#26282b")


def rect_tuple(rect: QRectF) -> Rect:
    return (rect.left(), rect.top(), rect.right(), rect.bottom())


def encode_phrase_span(start: int, end: int) -> QByteArray:
    return QByteArray(f"{start},{end}".encode())


def decode_phrase_span(data: QByteArray) -> tuple[int, int] | None:
    try:
        start, end = (int(part) for part in bytes(data.data()).decode().split(","))
    except ValueError:
        return None
    return (start, end) if 0 <= start < end else None


class AnnotationCanvas(QGraphicsView):
    """Shows one image with its boxes; emits edit requests in original-image pixels."""

    box_drawn = Signal(QRectF)  # a new box was dragged out (create mode)
    boxes_edited = Signal(object, object, bool)  # before {id: rect}, after {id: rect}, is a nudge
    selection_changed = Signal(list)  # selected box ids
    box_hovered = Signal(object)  # box id or None
    phrase_dropped = Signal(int, int, int)  # phrase span start, end, box id
    zoom_changed = Signal(float)  # percent
    create_mode_changed = Signal(bool)
    full_resolution_wanted = Signal()  # zoomed in past the shown preview's resolution (once per image)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.boxes = BoxScene(self)
        self.setScene(self.boxes)
        self.boxes.selectionChanged.connect(self._emit_selection)
        self.setBackgroundBrush(QBrush(_BACKGROUND))
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        # Pan with the middle button or space+drag; scroll bars only take room.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.ContainsItemShape)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setMouseTracking(True)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._create_mode = False
        self._auto_fit = True
        self._space_down = False
        self._pan_from: QPointF | None = None
        self._draw_from: QPointF | None = None
        self._preview = QGraphicsRectItem()
        preview_pen = QPen(QColor("#ffffff"), 1.5, Qt.PenStyle.DashLine)
        preview_pen.setCosmetic(True)
        self._preview.setPen(preview_pen)
        self._preview.setBrush(QColor(255, 255, 255, 40))
        self._preview.setZValue(10)
        self._preview.hide()
        self.scene().addItem(self._preview)
        self._cursor_scene: QPointF | None = None
        self._move_from: QPointF | None = None
        self._move_before: dict[int, QRectF] = {}
        self._resize: tuple[BoxItem, str, QRectF] | None = None
        self._hovered: int | None = None
        self._info = ""
        self._full_wanted = False

    # ------------------------------------------------------------------ content (kept by the scene)
    def load_image(self, image: QImage | None, width: int, height: int) -> None:
        """Show an image of stored (oriented) size ``width`` x ``height``; ``None``: a placeholder."""
        self.boxes.load_image(image, width, height)
        self._full_wanted = False
        self._auto_fit = True
        self.fit()

    def set_picture(self, image: QImage) -> None:
        """Swap in a sharper picture of the image shown (its decoded preview, later the full picture); boxes, zoom
        and selection stay. A picture no sharper than the one shown is ignored (a late preview after the full
        picture)."""
        if image.isNull() or image.width() <= self.boxes.picture_size.width():
            return
        self.boxes.set_picture(image)
        self._check_resolution()

    def _check_resolution(self) -> None:
        """Ask once for the full picture when the view shows more screen pixels per image pixel than the preview
        has."""
        picture, width = self.boxes.picture_size, self.boxes.image_rect.width()
        if self._full_wanted or not picture.isValid() or picture.width() >= width:
            return
        if self.scale_factor() * self.devicePixelRatioF() > picture.width() / width:
            self._full_wanted = True
            self.full_resolution_wanted.emit()

    @property
    def image_rect(self) -> QRectF:
        return QRectF(self.boxes.image_rect)

    def set_boxes(self, boxes: Iterable[Box], labels: dict[int, Label]) -> None:
        """Show exactly ``boxes`` (items are matched by id)."""
        self.boxes.set_boxes(boxes, labels)
        self._emit_selection()

    def move_boxes(self, boxes: Iterable[Box]) -> None:
        """Move the items of boxes whose corners changed (an undo of a move); a box the user dragged is already
        where it belongs."""
        self.boxes.move_boxes(boxes)

    def set_overlays(self, boxes: Iterable[tuple[str, str, Rect]], style: BoxStyle = BoxStyle.PREDICTION) -> None:
        """Read-only boxes over the image, e.g. predictions (dashed): (label, colour, rect) each."""
        self.boxes.set_overlays(boxes, style, self.scale_factor())

    def show_pending(self, rect: QRectF | None) -> None:
        """Keep a drawn rectangle visible while its label is being picked (``None`` hides it)."""
        if rect is None:
            self._preview.hide()
        else:
            self._preview.setRect(rect)
            self._preview.show()

    def box_item(self, box_id: int) -> BoxItem | None:
        return self.boxes.box_items.get(box_id)

    def box_ids(self) -> list[int]:
        return list(self.boxes.box_items)

    def selected_box_ids(self) -> list[int]:
        return self.boxes.selected_box_ids()

    def select_boxes(self, box_ids: Iterable[int]) -> None:
        self.boxes.select_boxes(box_ids)
        self._emit_selection()

    def set_label_visible(self, label_id: int | None, visible: bool) -> None:
        """Show or hide every box of one label (``None``: unlabelled boxes)."""
        self.boxes.set_label_visible(label_id, visible)
        self._emit_selection()

    def hidden_labels(self) -> set[int | None]:
        return set(self.boxes.hidden_labels)

    def set_highlighted(self, box_ids: Iterable[int]) -> None:
        self.boxes.set_highlighted(box_ids)
        self.boxes.sync_lifted(self.scale_factor())

    def set_unlinked(self, box_ids: Iterable[int]) -> None:
        self.boxes.set_unlinked(box_ids)

    # ------------------------------------------------------------------ modes and zoom
    @property
    def create_mode(self) -> bool:
        return self._create_mode

    def set_create_mode(self, on: bool) -> None:
        if on == self._create_mode:
            return
        self._create_mode = on
        self._cancel_draw()
        self.setDragMode(QGraphicsView.DragMode.NoDrag if on else QGraphicsView.DragMode.RubberBandDrag)
        self._update_cursor(None)
        self.viewport().update()
        self.create_mode_changed.emit(on)

    def scale_factor(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        """Fit the whole image into the window."""
        if self.boxes.image_rect.isEmpty():
            return
        self.fitInView(self.boxes.image_rect.adjusted(-8, -8, 8, 8), Qt.AspectRatioMode.KeepAspectRatio)
        self._auto_fit = True
        self._zoomed()

    def actual_size(self) -> None:
        """Show the image at 1:1 (one image pixel per screen pixel), keeping the view centre."""
        self.set_zoom(1.0)

    def set_zoom(self, scale: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``scale`` screen pixels per image pixel, keeping ``anchor`` (scene point) in place."""
        scale = max(MIN_ZOOM, min(MAX_ZOOM, scale))
        centre = anchor if anchor is not None else self.mapToScene(self.viewport().rect().center())
        fixed = self.mapFromScene(centre)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.resetTransform()
        self.scale(scale, scale)
        self.centerOn(centre)
        # Put the anchor back under the same viewport point it had before the zoom.
        drift = self.mapFromScene(centre) - fixed
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + drift.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + drift.y())
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self._auto_fit = False
        self._zoomed()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.set_zoom(self.scale_factor() * factor, anchor)

    def _zoomed(self) -> None:
        scale = self.scale_factor()
        self.boxes.rescale(scale)
        mode = (
            Qt.TransformationMode.SmoothTransformation
            if scale < 4  # from 400 % on, show the pixels as they are
            else Qt.TransformationMode.FastTransformation
        )
        self.boxes.pixmap.setTransformationMode(mode)
        self._check_resolution()
        self.zoom_changed.emit(scale * 100)

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            self.zoom_by(1.0015**delta, self.mapToScene(event.position().toPoint()))
        event.accept()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._auto_fit:
            self.fit()

    # ------------------------------------------------------------------ mouse
    def _clamp(self, point: QPointF) -> QPointF:
        r = self.boxes.image_rect
        return QPointF(min(max(point.x(), r.left()), r.right()), min(max(point.y(), r.top()), r.bottom()))

    def _box_at(self, view_pos) -> BoxItem | None:
        for item in self.items(view_pos):
            if isinstance(item, BoxItem) and item.style is BoxStyle.TRUTH and item.isVisible():
                return item
        return None

    def _handle_at(self, scene_pos: QPointF) -> tuple[BoxItem, str] | None:
        scale = self.scale_factor()
        for item in self.boxes.box_items.values():
            if item.isSelected() and item.isVisible():
                for name, rect in handle_rects(item.rect(), scale).items():
                    if rect.adjusted(-1 / scale, -1 / scale, 1 / scale, 1 / scale).contains(scene_pos):
                        return item, name
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        scene_pos = self.mapToScene(event.position().toPoint())
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space_down):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if button != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        if self._create_mode:
            if self.boxes.image_rect.contains(scene_pos):
                self._draw_from = self._clamp(scene_pos)
                self._preview.setRect(QRectF(self._draw_from, self._draw_from))
                self._preview.show()
            event.accept()
            return
        handle = self._handle_at(scene_pos)
        if handle is not None:
            item, name = handle
            self._resize = (item, name, item.rect())
            event.accept()
            return
        item = self._box_at(event.position().toPoint())
        if item is None:
            super().mousePressEvent(event)  # rubber-band selection
            return
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            item.setSelected(not item.isSelected())
            event.accept()
            return
        if not item.isSelected():
            self.select_boxes([item.box_id])
        self._move_from = scene_pos
        self._move_before = {i.box_id: i.rect() for i in self.boxes.box_items.values() if i.isSelected()}
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        scene_pos = self.mapToScene(pos.toPoint())
        if self._pan_from is not None:
            delta = pos - self._pan_from
            self._pan_from = pos
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
            self._auto_fit = False
            return
        if self._create_mode:
            self._move_crosshair(scene_pos)
            if self._draw_from is not None:
                self._preview.setRect(QRectF(self._draw_from, self._clamp(scene_pos)).normalized())
            return
        if self._resize is not None:
            self._resize_to(scene_pos)
            return
        if self._move_from is not None:
            self._move_to(scene_pos)
            return
        super().mouseMoveEvent(event)
        if not event.buttons():
            item = self._box_at(pos.toPoint())
            box_id = item.box_id if item else None
            if box_id != self._hovered:
                self._hovered = box_id
                self.box_hovered.emit(box_id)
            self._update_cursor(scene_pos)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self._update_cursor(self.mapToScene(event.position().toPoint()))
            return
        if self._create_mode and self._draw_from is not None:
            rect = self._preview.rect().normalized()
            self._cancel_draw()
            scale = self.scale_factor()
            if rect.width() * scale >= MIN_DRAW_SCREEN_PX and rect.height() * scale >= MIN_DRAW_SCREEN_PX:
                self.box_drawn.emit(rect)
            return
        if self._resize is not None:
            item, _name, before = self._resize
            self._resize = None
            after = item.rect()
            if after != before and after.width() > 0 and after.height() > 0:
                self.boxes_edited.emit({item.box_id: rect_tuple(before)}, {item.box_id: rect_tuple(after)}, False)
            else:
                item.set_rect(before)
            return
        if self._move_from is not None:
            before = self._move_before
            self._move_from, self._move_before = None, {}
            after = {box_id: self.boxes.box_items[box_id].rect() for box_id in before if box_id in self.boxes.box_items}
            if any(after[i] != before[i] for i in after):
                self.boxes_edited.emit(
                    {i: rect_tuple(before[i]) for i in after},
                    {i: rect_tuple(r) for i, r in after.items()},
                    False,
                )
            return
        super().mouseReleaseEvent(event)

    def _move_to(self, scene_pos: QPointF) -> None:
        """Move the selection by the drag distance, kept inside the image."""
        union = QRectF()
        for rect in self._move_before.values():
            union = union.united(rect)
        delta = scene_pos - self._move_from
        r = self.boxes.image_rect
        dx = min(max(delta.x(), r.left() - union.left()), r.right() - union.right())
        dy = min(max(delta.y(), r.top() - union.top()), r.bottom() - union.bottom())
        for box_id, rect in self._move_before.items():
            self.boxes.box_items[box_id].set_rect(rect.translated(dx, dy))

    def _resize_to(self, scene_pos: QPointF) -> None:
        item, name, before = self._resize
        p = self._clamp(scene_pos)
        left, top, right, bottom = before.left(), before.top(), before.right(), before.bottom()
        if "l" in name:
            left = p.x()
        if "r" in name:
            right = p.x()
        if "t" in name:
            top = p.y()
        if "b" in name:
            bottom = p.y()
        item.set_rect(QRectF(QPointF(left, top), QPointF(right, bottom)))

    def _cancel_draw(self) -> None:
        self._draw_from = None
        self._preview.hide()

    def _update_cursor(self, scene_pos: QPointF | None) -> None:
        if self._space_down:
            shape = Qt.CursorShape.OpenHandCursor
        elif self._create_mode:
            shape = Qt.CursorShape.CrossCursor
        else:
            handle = self._handle_at(scene_pos) if scene_pos is not None else None
            shape = HANDLE_CURSORS[handle[1]] if handle else Qt.CursorShape.ArrowCursor
            if handle is None and scene_pos is not None and self._hovered is not None:
                shape = Qt.CursorShape.SizeAllCursor
        self.viewport().setCursor(shape)

    # ------------------------------------------------------------------ crosshair guides
    def _move_crosshair(self, scene_pos: QPointF) -> None:
        old = self._cursor_scene
        self._cursor_scene = scene_pos
        for point in (old, scene_pos):
            if point is not None:
                view = self.mapFromScene(point)
                rect = self.viewport().rect()
                self.viewport().update(rect.left(), view.y() - 2, rect.width(), 5)
                self.viewport().update(view.x() - 2, rect.top(), 5, rect.height())

    def leaveEvent(self, event) -> None:
        if self._cursor_scene is not None:
            self._cursor_scene = None
            self.viewport().update()
        if self._hovered is not None:
            self._hovered = None
            self.box_hovered.emit(None)
        super().leaveEvent(event)

    def set_info(self, text: str) -> None:
        """A short line shown at the top-left of the canvas (image name, size, status)."""
        self._info = text
        self.viewport().update()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        self._paint_overlay_text(painter)
        if (
            not self._create_mode
            or self._cursor_scene is None
            or not self.boxes.image_rect.contains(self._cursor_scene)
        ):
            return
        p, r = self._cursor_scene, self.boxes.image_rect
        for color, width in ((QColor(0, 0, 0, 150), 3.0), (QColor(255, 255, 255, 220), 1.0)):
            pen = QPen(color, width)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawLine(QPointF(r.left(), p.y()), QPointF(r.right(), p.y()))
            painter.drawLine(QPointF(p.x(), r.top()), QPointF(p.x(), r.bottom()))

    def _paint_overlay_text(self, painter: QPainter) -> None:
        """The info line in a translucent pill, or the empty state when no image is shown."""
        painter.save()
        painter.resetTransform()
        if self.boxes.image_rect.isEmpty():
            painter.setPen(QColor("#b0b4ba"))
            painter.drawText(
                self.viewport().rect(),
                Qt.AlignmentFlag.AlignCenter,
                "No image shown — pick one in the image list",
            )
        elif self._info:
            metrics = painter.fontMetrics()
            pill = QRectF(10, 10, metrics.horizontalAdvance(self._info) + 20, metrics.height() + 8)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(20, 22, 25, 190))
            painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
            painter.setPen(QColor("#e8eaed"))
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, self._info)
        painter.restore()

    # ------------------------------------------------------------------ keys
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self._update_cursor(None)
            return
        if key == Qt.Key.Key_Escape:
            if self._draw_from is not None:
                self._cancel_draw()
            elif self._create_mode:
                self.set_create_mode(False)
            else:
                self.select_boxes([])
            return
        steps = {
            Qt.Key.Key_Left: (-1, 0),
            Qt.Key.Key_Right: (1, 0),
            Qt.Key.Key_Up: (0, -1),
            Qt.Key.Key_Down: (0, 1),
        }
        if key in steps and self.selected_box_ids():
            step = NUDGE_BIG_PX if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else NUDGE_PX
            self.nudge(steps[key][0] * step, steps[key][1] * step)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            self._update_cursor(None)
            return
        super().keyReleaseEvent(event)

    def nudge(self, dx: float, dy: float) -> None:
        """Move the selected boxes by (dx, dy) image pixels, kept inside the image."""
        before = {i: self.boxes.box_items[i].rect() for i in self.selected_box_ids()}
        if not before:
            return
        self._move_before, self._move_from = before, QPointF(0, 0)
        self._move_to(QPointF(dx, dy))
        self._move_from, self._move_before = None, {}
        after = {i: self.boxes.box_items[i].rect() for i in before}
        if any(after[i] != before[i] for i in before):
            self.boxes_edited.emit(
                {i: rect_tuple(r) for i, r in before.items()},
                {i: rect_tuple(r) for i, r in after.items()},
                True,
            )

    # ------------------------------------------------------------------ drag a phrase onto a box
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(PHRASE_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        item = self._box_at(event.position().toPoint())
        self.set_highlighted([item.box_id] if item else [])
        if item is not None and event.mimeData().hasFormat(PHRASE_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:
        self.set_highlighted([])

    def dropEvent(self, event: QDropEvent) -> None:
        self.set_highlighted([])
        item = self._box_at(event.position().toPoint())
        span = decode_phrase_span(event.mimeData().data(PHRASE_MIME))
        if item is None or span is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.phrase_dropped.emit(span[0], span[1], item.box_id)

    def _emit_selection(self) -> None:
        self.boxes.sync_lifted(self.scale_factor())
        self.selection_changed.emit(self.selected_box_ids())
