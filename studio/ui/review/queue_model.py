"""The review queue as a Qt list model (worst first, filterable by kind) and the delegate that draws one suspect:
a score bar, the kind, the image's file name and the model's message."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    QRegularExpression,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from studio.review.items import KIND_TITLES, ReviewItem
from studio.ui import theme

ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
KIND_ROLE = Qt.ItemDataRole.UserRole + 2
KIND_COLOURS = {
    "misplaced": "#ef6c00",
    "missing": "#1565c0",
    "spurious": "#6a1b9a",
    "wrong_label": "#c62828",
    "wrong_answer": "#00838f",
    "wrong_link": "#558b2f",
}
BAR_WIDTH, PAD = 44, 6


def kind_title(kind: str) -> str:
    return KIND_TITLES.get(kind, kind.replace("_", " ").capitalize())


class ReviewQueueModel(QAbstractListModel):
    """The open suspects of one run, worst first; ``set_items`` changes only the rows that changed, so the current
    row and the scroll position survive an accept, a dismiss or its undo."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.items: list[ReviewItem] = []
        self.names: dict[int, str] = {}  # image id -> file name

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.items)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.items):
            return None
        item = self.items[index.row()]
        if role == ITEM_ROLE:
            return item
        if role == KIND_ROLE:
            return item.kind
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{kind_title(item.kind)} · {self.image_name(item.image_id)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            confidence = (item.evidence or {}).get("confidence")
            sure = f"; the model's confidence {confidence:.0%}" if isinstance(confidence, float | int) else ""
            return (
                f"<b>{kind_title(item.kind)}</b> on {self.image_name(item.image_id)}<br>{item.message}<br>"
                f"Likely wrong: {item.score:.0%}{sure}"
            )
        return None

    def image_name(self, image_id: int) -> str:
        return self.names.get(image_id, "an image no longer in the project")

    def counts(self) -> Counter:
        return Counter(item.kind for item in self.items)

    def set_names(self, names: dict[int, str]) -> None:
        """Update the file names of some images; rows that show them repaint."""
        self.names.update(names)
        rows = [row for row, item in enumerate(self.items) if item.image_id in names]
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)))

    def set_items(self, items: Sequence[ReviewItem]) -> None:
        """Show ``items`` (worst first): rows that went are removed, new rows inserted, changed rows repainted; a
        new order (another run, a fresh review) resets the model."""
        items = list(items)
        new_ids = {item.id for item in items}
        kept = [item.id for item in self.items if item.id in new_ids]
        old_ids = {item.id for item in self.items}
        if kept != [item.id for item in items if item.id in old_ids]:
            self.beginResetModel()
            self.items = items
            self.endResetModel()
            return
        for row in range(len(self.items) - 1, -1, -1):
            if self.items[row].id not in new_ids:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self.items[row]
                self.endRemoveRows()
        for row, item in enumerate(items):
            if row < len(self.items) and self.items[row].id == item.id:
                if self.items[row] != item:
                    self.items[row] = item
                    self.dataChanged.emit(self.index(row), self.index(row))
                continue
            self.beginInsertRows(QModelIndex(), row, row)
            self.items.insert(row, item)
            self.endInsertRows()


class KindFilter(QSortFilterProxyModel):
    """The queue's rows of one kind (``kind`` None: every kind)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.kind: str | None = None
        self.setFilterRole(KIND_ROLE)

    def set_kind(self, kind: str | None) -> None:
        self.kind = kind
        self.setFilterRegularExpression(QRegularExpression.anchoredPattern(kind) if kind else "")


class ReviewItemDelegate(QStyledItemDelegate):
    """Two lines: a bar of how likely the annotation is wrong, the kind in its colour and the image's name; then the
    model's message, muted and cut to the width."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        height = QFontMetrics(option.font).height()
        return QSize(200, 2 * height + 3 * PAD // 2 + 2)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        item: ReviewItem | None = index.data(ITEM_ROLE)
        if item is None:
            return
        painter.save()
        style = option.widget.style() if option.widget else None
        blank = QStyleOptionViewItem(option)
        blank.text = ""
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, blank, painter, option.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        text_colour = option.palette.highlightedText().color() if selected else option.palette.text().color()
        muted = QColor(text_colour)
        muted.setAlpha(170)
        rect = QRectF(option.rect).adjusted(PAD, PAD // 2, -PAD, -PAD // 2)
        line = QFontMetrics(option.font).height()
        colour = QColor(KIND_COLOURS.get(item.kind, theme.ACCENT))
        # the score bar: its track, then the share that is filled
        bar = QRectF(rect.left(), rect.top() + (line - 6) / 2, BAR_WIDTH, 6)
        track = QColor(muted)
        track.setAlpha(50)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(track)
        painter.drawRoundedRect(bar, 3, 3)
        painter.setBrush(colour)
        painter.drawRoundedRect(QRectF(bar.left(), bar.top(), max(6.0, BAR_WIDTH * item.score), 6), 3, 3)
        # first line: kind (bold, its colour) and the image's name
        bold = QFont(option.font)
        bold.setBold(True)
        x = bar.right() + PAD
        title = kind_title(item.kind)
        painter.setFont(bold)
        painter.setPen(text_colour if selected else colour)
        painter.drawText(QRectF(x, rect.top(), rect.right() - x, line), Qt.AlignmentFlag.AlignVCenter, title)
        x += QFontMetrics(bold).horizontalAdvance(title) + PAD
        painter.setFont(option.font)
        painter.setPen(text_colour)
        name = QFontMetrics(option.font).elidedText(
            model_name(index, item.image_id), Qt.TextElideMode.ElideMiddle, int(rect.right() - x)
        )
        painter.drawText(QRectF(x, rect.top(), rect.right() - x, line), Qt.AlignmentFlag.AlignVCenter, name)
        # second line: the message
        painter.setPen(muted)
        message = QFontMetrics(option.font).elidedText(item.message, Qt.TextElideMode.ElideRight, int(rect.width()))
        painter.drawText(
            QRectF(rect.left(), rect.top() + line + PAD // 2, rect.width(), line),
            Qt.AlignmentFlag.AlignVCenter,
            message,
        )
        painter.restore()


def model_name(index: QModelIndex | QPersistentModelIndex, image_id: int) -> str:
    """The file name of ``image_id`` as the queue model behind ``index`` (through its filter) knows it."""
    model = index.model()
    while isinstance(model, QSortFilterProxyModel):
        model = model.sourceModel()
    return model.image_name(image_id) if isinstance(model, ReviewQueueModel) else ""
