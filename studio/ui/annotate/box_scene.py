"""The canvas scene: the image and one item per box, kept in step with the store by box id."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRectF, QSize
from PySide6.QtGui import QColor, QImage, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QWidget

from studio.dataset.box_names import box_names
from studio.dataset.model import Box, Label
from studio.ui.annotate.box_item import UNLABELLED_COLOR, BoxItem, BoxLayer, BoxStyle

Rect = tuple[float, float, float, float]
PLACEHOLDER_COLOR = QColor("#3a3d41")  # where the picture is not decoded (yet), or cannot be


class BoxScene(QGraphicsScene):
    """Scene units are original-image pixels (after EXIF orientation)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # A BSP index costs ~10 ms a frame with 2,000 overlapping boxes; a linear scan is faster here.
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.pixmap = QGraphicsPixmapItem()
        self.pixmap.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
        self.pixmap.setZValue(-10)
        self.addItem(self.pixmap)
        self.image_rect = QRectF()
        self.picture_size = QSize()  # of the picture shown (a preview is smaller than the image); empty: none
        self.box_items: dict[int, BoxItem] = {}
        self._records: dict[int, tuple[Box, str, str]] = {}  # what each item shows: box, its name, colour
        self._layer = BoxLayer(self.box_items)
        self.addItem(self._layer)
        self._overlays: list[BoxItem] = []
        self.hidden_labels: set[int | None] = set()
        self._box_labels: dict[int, int | None] = {}

    def load_image(self, image: QImage | None, width: int, height: int) -> None:
        """Show an image of stored (oriented) size ``width`` x ``height``; ``None``: a placeholder until
        `set_picture` brings the picture."""
        self.clear_boxes()
        self.image_rect = QRectF(0, 0, width, height)
        self.set_picture(image)
        self._layer.set_bounds(self.image_rect)
        margin = max(width, height) * 0.5
        self.setSceneRect(self.image_rect.adjusted(-margin, -margin, margin, margin))

    def set_picture(self, image: QImage | None) -> None:
        """Show ``image`` (a preview or the full picture) stretched over the image rectangle, so that scene units
        stay original-image pixels whatever its resolution (the stored size is the truth); ``None``: a neutral
        placeholder."""
        if image is None or image.isNull():
            pixmap = QPixmap(1, 1)
            pixmap.fill(PLACEHOLDER_COLOR)
            self.picture_size = QSize()
        else:
            pixmap = QPixmap.fromImage(image)
            self.picture_size = image.size()
        self.pixmap.setPixmap(pixmap)
        rect = self.image_rect
        self.pixmap.setTransform(QTransform.fromScale(rect.width() / pixmap.width(), rect.height() / pixmap.height()))

    def clear_boxes(self) -> None:
        for item in [*self.box_items.values(), *self._overlays]:
            self.removeItem(item)
        self.box_items.clear()
        self._records.clear()
        self._overlays.clear()
        self._box_labels.clear()
        self._layer.mark_dirty()

    def set_boxes(self, boxes: Iterable[Box], labels: dict[int, Label]) -> None:
        """Show exactly ``boxes``, each tagged with its name ("red wedge #2"): items are updated in place (only when
        changed), added and removed by id."""
        boxes = list(boxes)
        names = box_names(boxes, labels)
        seen = set()
        blocked = self.signalsBlocked()
        self.blockSignals(True)
        try:
            for box in boxes:
                seen.add(box.id)
                label = labels.get(box.label_id) if box.label_id is not None else None
                name, color = names[box.id], label.color if label else UNLABELLED_COLOR
                record = (box, name, color)
                if self._records.get(box.id) == record:
                    continue
                self._records[box.id] = record
                rect = QRectF(QPointF(box.x1, box.y1), QPointF(box.x2, box.y2))
                item = self.box_items.get(box.id)
                if item is None:
                    item = BoxItem(box.id, rect)
                    item.layer = self._layer
                    self.box_items[box.id] = item
                    self.addItem(item)
                else:
                    item.set_rect(rect)
                item.set_label(name, color)
                self._box_labels[box.id] = box.label_id
                item.setVisible(box.label_id not in self.hidden_labels)
                item.setToolTip(_tooltip(box, name))
            for box_id in set(self.box_items) - seen:
                self.removeItem(self.box_items.pop(box_id))
                self._records.pop(box_id, None)
                self._box_labels.pop(box_id, None)
        finally:
            self.blockSignals(blocked)
        self._layer.mark_dirty()

    def move_boxes(self, boxes: Iterable[Box]) -> None:
        """Put the items of ``boxes`` (shown, same label) at their corners; the other items stay as they are."""
        for box in boxes:
            item, record = self.box_items.get(box.id), self._records.get(box.id)
            if item is None or record is None or record[0] == box:
                continue
            _, name, color = record
            self._records[box.id] = (box, name, color)
            item.set_rect(QRectF(QPointF(box.x1, box.y1), QPointF(box.x2, box.y2)))
            item.setToolTip(_tooltip(box, name))
        self._layer.mark_dirty()

    def set_overlays(self, boxes: Iterable[tuple[str, str, Rect]], style: BoxStyle, scale: float) -> None:
        """Read-only boxes drawn over the image (predictions: dashed): (label, colour, rect) each."""
        for item in self._overlays:
            self.removeItem(item)
        self._overlays = []
        for index, (name, color, (x1, y1, x2, y2)) in enumerate(boxes):
            item = BoxItem(-1 - index, QRectF(QPointF(x1, y1), QPointF(x2, y2)), style=style)
            item.set_label(name, color)
            item.set_lifted(True, scale)
            self._overlays.append(item)
            self.addItem(item)

    def selected_box_ids(self) -> list[int]:
        return sorted(item.box_id for item in self.box_items.values() if item.isSelected())

    def select_boxes(self, box_ids: Iterable[int]) -> None:
        """Select exactly these boxes (hidden ones stay unselected) without a signal per item."""
        wanted = set(box_ids)
        self.blockSignals(True)
        for box_id, item in self.box_items.items():
            item.setSelected(box_id in wanted and item.isVisible())
        self.blockSignals(False)

    def set_label_visible(self, label_id: int | None, visible: bool) -> None:
        """Show or hide every box of one label (``None``: unlabelled boxes)."""
        if visible:
            self.hidden_labels.discard(label_id)
        else:
            self.hidden_labels.add(label_id)
        for box_id, item in self.box_items.items():
            if self._box_labels.get(box_id) == label_id:
                item.setVisible(visible)
                if not visible:
                    item.setSelected(False)
        self._layer.mark_dirty()

    def set_highlighted(self, box_ids: Iterable[int]) -> None:
        wanted = set(box_ids)
        for box_id, item in self.box_items.items():
            item.set_highlighted(box_id in wanted)

    def set_unlinked(self, box_ids: Iterable[int]) -> None:
        wanted = set(box_ids)
        for box_id, item in self.box_items.items():
            item.set_unlinked(box_id in wanted)

    def sync_lifted(self, scale: float) -> None:
        """Highlighted boxes paint themselves; the layer paints the rest and regroups for the selection."""
        for item in self.box_items.values():
            item.set_lifted(item.highlighted, scale)
        self._layer.mark_dirty()

    def rescale(self, scale: float) -> None:
        """The view zoomed: self-painting boxes resize their handle margins."""
        for item in [*self.box_items.values(), *self._overlays]:
            if item.lifted:
                item.set_lifted(True, scale)


def _tooltip(box: Box, name: str) -> str:
    w, h = box.x2 - box.x1, box.y2 - box.y1
    return f"<b>{name}</b><br>{box.x1:.0f}, {box.y1:.0f} → {box.x2:.0f}, {box.y2:.0f} ({w:.0f} × {h:.0f} px)"
