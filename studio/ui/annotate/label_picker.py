"""A type-ahead label picker popup: recent labels first, Enter picks, typing a new name creates a label."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from studio.dataset.model import Label

RECENT_MAX = 5


@lru_cache(maxsize=256)
def color_icon(color: str, size: int = 12) -> QIcon:
    """A filled round swatch of ``color`` (made once per colour: the label panel shows one per label per image)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor(0, 0, 0, 90))
    painter.setBrush(QColor(color))
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pixmap)


def remember(recent: list[str], name: str) -> list[str]:
    """``recent`` with ``name`` moved to the front, at most RECENT_MAX long."""
    return [name, *[n for n in recent if n != name]][:RECENT_MAX]


def rank_labels(names: Sequence[str], recent: Sequence[str], typed: str) -> list[str]:
    """Labels matching ``typed`` (substring, case-insensitive): recent, then prefix matches, then others."""
    needle = typed.strip().lower()
    matching = [n for n in names if needle in n.lower()]
    recent_rank = {n: i for i, n in enumerate(recent)}
    return sorted(
        matching,
        key=lambda n: (recent_rank.get(n, len(recent)), not n.lower().startswith(needle), n.lower()),
    )


class LabelPicker(QFrame):
    """Pops up at the cursor after a box is drawn (or on L); emits ``picked(name)`` or ``cancelled``."""

    picked = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("labelPicker")
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Label — type to filter or create")
        self.edit.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setUniformItemSizes(True)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.hint = QLabel("Enter: pick · Esc: cancel", self)
        self.hint.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        layout.addWidget(self.hint)
        self.resize(240, 260)
        self._labels: dict[str, Label] = {}
        self._recent: list[str] = []
        self._done = False
        self.edit.textChanged.connect(self._refilter)
        self.edit.installEventFilter(self)
        self.list.itemClicked.connect(lambda item: self._pick(item.data(Qt.ItemDataRole.UserRole)))

    def open_at(self, global_pos: QPoint, labels: Sequence[Label], recent: Sequence[str], current: str = "") -> None:
        """Show the picker at ``global_pos`` with ``current`` pre-selected."""
        self._labels = {label.name: label for label in labels}
        self._recent = [n for n in recent if n in self._labels]
        self._done = False
        self.edit.blockSignals(True)
        self.edit.clear()
        self.edit.blockSignals(False)
        self._refilter("")
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == current:
                self.list.setCurrentRow(row)
        self.move(global_pos)
        self.show()
        self.edit.setFocus()

    def _refilter(self, typed: str) -> None:
        self.list.clear()
        names = rank_labels(list(self._labels), self._recent, typed)
        for name in names:
            label = self._labels[name]
            item = QListWidgetItem(color_icon(label.color), name + ("   · recent" if name in self._recent else ""))
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.list.addItem(item)
        typed = typed.strip()
        if typed and typed not in self._labels:
            item = QListWidgetItem(f"Create label “{typed}”")
            item.setData(Qt.ItemDataRole.UserRole, typed)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.edit and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if key == Qt.Key.Key_Down else -1
                self.list.setCurrentRow(max(0, min(self.list.count() - 1, self.list.currentRow() + step)))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                item = self.list.currentItem()
                name = item.data(Qt.ItemDataRole.UserRole) if item else self.edit.text().strip()
                if name:
                    self._pick(name)
                return True
            if key == Qt.Key.Key_Escape:
                self.close()
                return True
        return super().eventFilter(watched, event)

    def _pick(self, name: str) -> None:
        self._done = True
        self.hide()
        self.picked.emit(name)

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        if not self._done:
            self._done = True
            self.cancelled.emit()
