"""Help > Keyboard shortcuts: the shortcut table, grouped by section, with a filter."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ui.annotate.shortcuts import SHORTCUTS, Shortcut


def key_text(keys: Sequence[str]) -> str:
    """Keys as the platform writes them (Ctrl on Linux, ⌘ on macOS); gestures stay as written."""
    shown = []
    for key in keys:
        sequence = QKeySequence(key)
        native = sequence.toString(QKeySequence.SequenceFormat.NativeText)
        shown.append(native if native and sequence.toString() == key else key)
    return "  /  ".join(shown)


class ShortcutsDialog(QDialog):
    def __init__(self, shortcuts: Sequence[Shortcut] = SHORTCUTS, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(560, 620)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter shortcuts…")
        self.filter.setClearButtonEnabled(True)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Action", "Keys"])
        self.tree.setColumnWidth(0, 330)
        self.tree.setRootIsDecorated(False)
        sections: dict[str, QTreeWidgetItem] = {}
        for entry in shortcuts:
            section = sections.get(entry.section)
            if section is None:
                section = QTreeWidgetItem([entry.section])
                font = section.font(0)
                font.setBold(True)
                section.setFont(0, font)
                section.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.tree.addTopLevelItem(section)
                sections[entry.section] = section
            section.addChild(QTreeWidgetItem([entry.text, key_text(entry.keys)]))
        self.tree.expandAll()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree)
        layout.addWidget(buttons)
        self.filter.textChanged.connect(self._apply_filter)

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for s in range(self.tree.topLevelItemCount()):
            section = self.tree.topLevelItem(s)
            shown = 0
            for c in range(section.childCount()):
                child = section.child(c)
                match = not needle or needle in child.text(0).lower() or needle in child.text(1).lower()
                child.setHidden(not match)
                shown += match
            section.setHidden(shown == 0)

    def rows(self) -> list[tuple[str, str]]:
        """(action, keys) of every listed shortcut, for tests and docs."""
        return [
            (section.child(c).text(0), section.child(c).text(1))
            for s in range(self.tree.topLevelItemCount())
            for section in [self.tree.topLevelItem(s)]
            for c in range(section.childCount())
        ]
