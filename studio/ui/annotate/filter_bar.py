"""A compact image filter bar: text search, status, unannotated, has label X (emits a queries.ImageFilter).

Typing in the search field emits once the person pauses (``TYPING_MS``) or presses Enter, not on every key."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from studio.dataset.model import STATUSES
from studio.dataset.queries import ImageFilter
from studio.ui import theme

TYPING_MS = 200


class FilterBar(QWidget):
    filter_changed = Signal(object)  # ImageFilter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search names, captions and answers")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(theme.icon("mdi6.magnify"), QLineEdit.ActionPosition.LeadingPosition)
        self.status = QComboBox(self)
        self.status.addItem("Any status", "")
        for status in STATUSES:
            self.status.addItem(status.capitalize(), status)
        self.label = QComboBox(self)
        self.label.addItem("Any label", "")
        for box in (self.status, self.label):  # long label names are cut here, whole in the list: the dock stays narrow
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(9)
        self.unannotated = QCheckBox("Unannotated", self)
        self.unannotated.setToolTip("Images with no box, no caption and no question")
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.search, 1)
        top.addWidget(self.unannotated)
        self.row = row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.status)
        row.addWidget(self.label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addLayout(row)
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(TYPING_MS)
        self._typing.timeout.connect(self._emit)
        self.search.textChanged.connect(lambda _text: self._typing.start())
        self.search.returnPressed.connect(self._emit)
        self.status.currentIndexChanged.connect(self._emit)
        self.label.currentIndexChanged.connect(self._emit)
        self.unannotated.toggled.connect(self._emit)

    def set_labels(self, names: Sequence[str]) -> None:
        """Offer these label names, keeping the current choice when it still exists."""
        current = self.label.currentData()
        self.label.blockSignals(True)
        self.label.clear()
        self.label.addItem("Any label", "")
        for name in names:
            self.label.addItem(name, name)
        index = self.label.findData(current)
        self.label.setCurrentIndex(max(0, index))
        self.label.blockSignals(False)
        if index < 0 and current:
            self._emit()

    def image_filter(self) -> ImageFilter:
        return ImageFilter(
            unannotated=self.unannotated.isChecked(),
            status=self.status.currentData() or "",
            label=self.label.currentData() or "",
            text=self.search.text(),
        )

    def _emit(self, *_: object) -> None:
        self._typing.stop()
        self.filter_changed.emit(self.image_filter())
