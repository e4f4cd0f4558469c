"""The Labels panel: every label with its colour and box counts, show/hide per label, the label for new boxes,
and project-wide rename, merge and colour."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QColorDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.dataset.model import Label
from studio.ui import theme
from studio.ui.annotate.label_picker import color_icon

_ID = Qt.ItemDataRole.UserRole
VISIBLE_LABELS = 9  # the window's default layout lists this many labels without scrolling


class LabelPanel(QWidget):
    """Lists labels; the current row is the label given to new boxes."""

    visibility_changed = Signal(object, bool)  # label id (None: unlabelled), visible
    active_label_changed = Signal(str)  # label name ('' for none)
    rename_requested = Signal(int, str)  # label id, new name (an existing name means merge)
    merge_requested = Signal(list, int)  # source label ids, target label id
    color_requested = Signal(int, str)  # label id, colour

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("labelPanel")
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Label", "Here", "All"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.tree.setColumnWidth(0, 150)
        self.tree.setColumnWidth(1, 44)
        self.tree.setToolTip("Tick to show a label's boxes; the current label is given to new boxes")
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.currentItemChanged.connect(self._current_changed)
        self.tree.itemDoubleClicked.connect(lambda *_: self.ask_rename())
        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        for icon, tip, slot in (
            ("mdi6.rename-box", "Rename the label everywhere (F2)", self.ask_rename),
            ("mdi6.call-merge", "Merge the selected labels into the current one", self.ask_merge),
            ("mdi6.palette-outline", "Change the label colour", self.ask_color),
        ):
            button = QToolButton(self)
            button.setIcon(theme.icon(icon))
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.empty = QLabel("No labels yet — press W and drag on the image to draw a box.", self)
        self.empty.setWordWrap(True)
        self.empty.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.tree)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)
        self._labels: dict[int, Label] = {}
        self._items: dict[int, QTreeWidgetItem] = {}
        self._hidden: set[int | None] = set()
        self._filling = False

    def set_labels(
        self, labels: Sequence[Label], here: dict[int, int], total: dict[int, int], hidden: set[int | None]
    ) -> None:
        """Show ``labels`` with box counts on this image (``here``) and in the project (``total``); when the labels
        and the hidden ones are those shown already (another image of the same project), only the counts change."""
        if list(labels) == list(self._labels.values()) and hidden == self._hidden:
            self.set_counts(self._labels, here, total)
            return
        current = self.active_label()
        self._labels, self._hidden = {label.id: label for label in labels}, set(hidden)
        self._items = {}
        self._filling = True
        self.tree.clear()
        for label in labels:
            item = self._items[label.id] = QTreeWidgetItem([label.name])
            _show_counts(item, label, here.get(label.id, 0), total.get(label.id, 0))
            item.setIcon(0, color_icon(label.color))
            item.setData(0, _ID, label.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Unchecked if label.id in hidden else Qt.CheckState.Checked)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight)
            self.tree.addTopLevelItem(item)
            if label.name == current:
                self.tree.setCurrentItem(item)
        self._filling = False
        self.empty.setVisible(not labels)

    def set_counts(self, label_ids: Iterable[int], here: dict[int, int], total: dict[int, int]) -> None:
        """Show new box counts of some labels (absent from ``here`` or ``total``: none); the others keep theirs."""
        blocked = self.tree.blockSignals(True)  # the counts are no edit of the user's (itemChanged)
        for label_id in label_ids:
            if label_id in self._items:
                _show_counts(
                    self._items[label_id], self._labels[label_id], here.get(label_id, 0), total.get(label_id, 0)
                )
        self.tree.blockSignals(blocked)

    def active_label(self) -> str:
        item = self.tree.currentItem()
        return item.text(0) if item else ""

    def set_active_label(self, name: str) -> None:
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            if item.text(0) == name:
                self.tree.setCurrentItem(item)
                return

    def _current_label(self) -> Label | None:
        item = self.tree.currentItem()
        return self._labels.get(item.data(0, _ID)) if item else None

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if not self._filling and column == 0:
            visible = item.checkState(0) == Qt.CheckState.Checked
            (self._hidden.discard if visible else self._hidden.add)(item.data(0, _ID))
            self.visibility_changed.emit(item.data(0, _ID), visible)

    def _current_changed(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        if not self._filling:
            self.active_label_changed.emit(current.text(0) if current else "")

    def ask_rename(self) -> None:
        label = self._current_label()
        if label is None:
            return
        name, ok = QInputDialog.getText(
            self,
            "Rename label",
            f"New name for “{label.name}” (an existing name merges the two):",
            text=label.name,
        )
        if ok and name.strip() and name.strip() != label.name:
            self.rename_requested.emit(label.id, name.strip())

    def ask_merge(self) -> None:
        target = self._current_label()
        sources = [item.data(0, _ID) for item in self.tree.selectedItems()]
        sources = [i for i in sources if target is None or i != target.id]
        if target is None or not sources:
            return
        self.merge_requested.emit(sources, target.id)

    def ask_color(self) -> None:
        label = self._current_label()
        if label is None:
            return
        from PySide6.QtGui import QColor

        color = QColorDialog.getColor(QColor(label.color), self, f"Colour of “{label.name}”")
        if color.isValid():
            self.color_requested.emit(label.id, color.name())


def _show_counts(item: QTreeWidgetItem, label: Label, here: int, total: int) -> None:
    item.setText(1, f"{here:,}")
    item.setText(2, f"{total:,}")
    item.setToolTip(0, f"{label.name} — {total:,} boxes in the project")


def panel_height(rows: int = VISIBLE_LABELS) -> int:
    """The height a label panel needs to list ``rows`` labels without a scroll bar (measured on a panel built
    for the purpose: row heights follow the style and the font)."""
    panel = LabelPanel()
    panel.set_labels([Label(i, f"label {i}", "#888888") for i in range(1, rows + 1)], {}, {}, set())
    panel.ensurePolished()
    tree = panel.tree
    tree.setFixedHeight(tree.header().sizeHint().height() + rows * tree.sizeHintForRow(0) + 2 * tree.frameWidth())
    height = panel.sizeHint().height()
    panel.deleteLater()
    return height
