"""The VQA panel: an ordered list of question/answer pairs edited in place, one-click frequent questions."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.dataset.model import VqaPair
from studio.ui import theme

_ID = Qt.ItemDataRole.UserRole


class VqaTable(QTableWidget):
    """Question/answer rows; Alt+Up/Down reorders, Delete removes (reported through the panel)."""

    key_action = Signal(str)  # "up", "down", "delete"

    def keyPressEvent(self, event: QKeyEvent) -> None:
        alt = event.modifiers() & Qt.KeyboardModifier.AltModifier
        if alt and event.key() == Qt.Key.Key_Up:
            self.key_action.emit("up")
        elif alt and event.key() == Qt.Key.Key_Down:
            self.key_action.emit("down")
        elif event.key() == Qt.Key.Key_Delete and self.state() != QAbstractItemView.State.EditingState:
            self.key_action.emit("delete")
        else:
            super().keyPressEvent(event)


class VqaPanel(QWidget):
    add_requested = Signal(str, str)  # question, answer
    edit_requested = Signal(int, str, str)  # vqa id, question, answer
    move_requested = Signal(int, int)  # vqa id, new position
    delete_requested = Signal(int)  # vqa id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("vqaPanel")
        self.table = VqaTable(0, 2, self)
        self.table.setHorizontalHeaderLabels(["Question", "Answer"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.table.setWordWrap(True)
        self.table.itemChanged.connect(self._item_changed)
        self.table.key_action.connect(self._key_action)
        self.question = QLineEdit(self)
        self.question.setPlaceholderText("Ask a question and press Enter…")
        self.question.returnPressed.connect(self._add_typed)
        row = QHBoxLayout()
        row.setSpacing(2)
        row.addWidget(self.question, 1)
        for icon, tip, slot in (
            ("mdi6.arrow-up", "Move up (Alt+Up)", lambda: self._key_action("up")),
            ("mdi6.arrow-down", "Move down (Alt+Down)", lambda: self._key_action("down")),
            ("mdi6.delete-outline", "Delete the pair (Delete)", lambda: self._key_action("delete")),
        ):
            button = QToolButton(self)
            button.setIcon(theme.icon(icon))
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.clicked.connect(slot)
            row.addWidget(button)
        self.frequent_title = QLabel("Frequent questions — click to add", self)
        self.frequent_title.setEnabled(False)
        self.frequent = QListWidget(self)
        self.frequent.setFlow(QListWidget.Flow.LeftToRight)
        self.frequent.setWrapping(True)
        self.frequent.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.frequent.setSpacing(3)
        self.frequent.setMaximumHeight(70)
        self.frequent.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.frequent.itemClicked.connect(lambda item: self.add_requested.emit(item.text(), ""))
        self.empty = QLabel("No questions yet — type one above, or click a frequent one.", self)
        self.empty.setEnabled(False)
        self.empty.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.frequent_title)
        layout.addWidget(self.frequent)
        self._pairs: list[VqaPair] = []
        self._filling = False
        self._edit_answer_of: int | None = None  # position of a just-added pair whose answer to edit

    def set_pairs(self, pairs: Sequence[VqaPair]) -> None:
        selected = self.selected_pair()
        self._pairs = list(pairs)
        self._filling = True
        self.table.setRowCount(len(pairs))
        for row, pair in enumerate(pairs):
            for column, text in enumerate((pair.question, pair.answer)):
                item = QTableWidgetItem(text)
                item.setData(_ID, pair.id)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
            if selected is not None and pair.id == selected.id:
                self.table.selectRow(row)
        self._filling = False
        self.empty.setVisible(not pairs)
        if self._edit_answer_of is not None and self._edit_answer_of < len(pairs):
            row, self._edit_answer_of = self._edit_answer_of, None
            self.table.setCurrentCell(row, 1)
            self.table.editItem(self.table.item(row, 1))

    def set_frequent(self, questions: Sequence[str]) -> None:
        """The project's frequent questions, one click to add; the list is only rebuilt when they changed."""
        if list(questions) == [self.frequent.item(row).text() for row in range(self.frequent.count())]:
            return
        self.frequent.clear()
        for question in questions:
            item = QListWidgetItem(theme.icon("mdi6.plus"), question)
            item.setToolTip(f"Add “{question}” to this image")
            self.frequent.addItem(item)
        self.frequent_title.setVisible(bool(questions))
        self.frequent.setVisible(bool(questions))

    def selected_pair(self) -> VqaPair | None:
        row = self.table.currentRow()
        return self._pairs[row] if 0 <= row < len(self._pairs) else None

    def select_pair(self, vqa_id: int) -> bool:
        """Make the pair ``vqa_id`` the current row (the review queue points at it); False when it is not here."""
        row = next((row for row, pair in enumerate(self._pairs) if pair.id == vqa_id), None)
        if row is None:
            return False
        self.table.setCurrentCell(row, 1)
        self.table.scrollToItem(self.table.item(row, 1))
        return True

    def _add_typed(self) -> None:
        question = self.question.text().strip()
        if question:
            self.question.clear()
            self._edit_answer_of = len(self._pairs)
            self.add_requested.emit(question, "")

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        pair = next((p for p in self._pairs if p.id == item.data(_ID)), None)
        if pair is None:
            return
        question = self.table.item(item.row(), 0).text().strip()
        answer = self.table.item(item.row(), 1).text().strip()
        if not question:
            self.set_pairs(self._pairs)  # a pair needs a question: put the old text back
            return
        if (question, answer) != (pair.question, pair.answer):
            self.edit_requested.emit(pair.id, question, answer)

    def _key_action(self, action: str) -> None:
        pair = self.selected_pair()
        if pair is None:
            return
        if action == "delete":
            self.delete_requested.emit(pair.id)
            return
        position = pair.position + (-1 if action == "up" else 1)
        if 0 <= position < len(self._pairs):
            self.move_requested.emit(pair.id, position)
            self.table.selectRow(position)
