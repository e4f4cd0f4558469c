"""The files an import skipped and why: a "Details…" button beside the import's status message opens the list."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QStatusBar,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.humanize import count
from studio.ui import theme

Skipped = Sequence[tuple[str, str]]  # (path, reason) as ImportReport.skipped holds them


class SkippedFilesDialog(QDialog):
    """Every skipped file with its reason and folder; sortable, and the list copies as text."""

    def __init__(self, skipped: Skipped, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Skipped files")
        self.skipped = list(skipped)
        heading = QLabel(f"{count(len(self.skipped), 'file was', 'files were')} not imported:", self)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["File", "Reason", "Folder"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSortingEnabled(True)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        for path, reason in self.skipped:
            item = QTreeWidgetItem([Path(path).name, reason, str(Path(path).parent)])
            item.setIcon(0, theme.icon("mdi6.file-alert-outline"))
            for column in range(3):
                item.setToolTip(column, f"{path}\n{reason}")
            self.tree.addTopLevelItem(item)
        self.tree.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # long folders keep their last part
        for column, widest in ((0, 260), (1, 440)):
            self.tree.resizeColumnToContents(column)
            self.tree.setColumnWidth(column, min(self.tree.columnWidth(column) + 16, widest))
        self.resize(min(980, self.tree.columnWidth(0) + self.tree.columnWidth(1) + 320), 360)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        copy = buttons.addButton("Copy list", QDialogButtonBox.ButtonRole.ActionRole)
        copy.setToolTip("Copy every skipped file and its reason (one a line) to the clipboard")
        copy.clicked.connect(self.copy_list)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.tree)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, str, str]]:
        """(file, reason, folder) as listed."""
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [(item.text(0), item.text(1), item.text(2)) for item in items]

    def copy_list(self) -> None:
        QApplication.clipboard().setText("".join(f"{path}\t{reason}\n" for path, reason in self.skipped))


class SkippedFilesButton(QToolButton):
    """"Details…" in the status bar while an import's message with skipped files shows; opens the full list."""

    def __init__(self, status_bar: QStatusBar) -> None:
        super().__init__(status_bar)
        self.setText("Details…")
        self.setIcon(theme.icon("mdi6.file-alert-outline"))
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setAutoRaise(True)
        self.setToolTip("List every skipped file and why it was skipped")
        self.hide()
        self._skipped: list[tuple[str, str]] = []
        self._message = ""
        self.clicked.connect(self.open_details)
        status_bar.messageChanged.connect(self._message_changed)

    def show_for(self, skipped: Skipped, message: str) -> None:
        """Offer the details of ``skipped`` while the status bar shows ``message``."""
        self._skipped, self._message = list(skipped), message
        self.setVisible(bool(self._skipped))

    def _message_changed(self, message: str) -> None:
        if message != self._message:
            self.hide()

    def open_details(self) -> SkippedFilesDialog:
        dialog = SkippedFilesDialog(self._skipped, self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog
