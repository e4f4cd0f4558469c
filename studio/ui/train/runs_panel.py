"""The project's runs (status, best validation loss) and the training log."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QPlainTextEdit, QVBoxLayout, QWidget

from studio.training.runs import Run

STATUS_MARKS = {"created": "○", "running": "▶", "stopped": "⏸", "finished": "✓", "failed": "✗"}


class RunsPanel(QWidget):
    """``run_selected(name)`` when a run is clicked."""

    run_selected = Signal(str)
    selection_changed = Signal(list)

    def __init__(self) -> None:
        super().__init__()
        self.list = QListWidget()
        self.list.setObjectName("runList")
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.setToolTip("Ctrl-click several runs to compare their curves")
        self.list.currentItemChanged.connect(self._selected)
        self.list.itemSelectionChanged.connect(lambda: self.selection_changed.emit(self.selected_runs()))
        self.log = QPlainTextEdit()
        self.log.setObjectName("trainLog")
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        runs_title = QLabel("Runs")
        runs_title.setProperty("role", "heading")
        log_title = QLabel("Log")
        log_title.setProperty("role", "heading")
        layout.addWidget(runs_title)
        layout.addWidget(self.list, 1)
        layout.addWidget(log_title)
        layout.addWidget(self.log, 1)

    def set_runs(self, runs: list[Run], current: str | None = None) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for run in runs:
            best = run.summary.get("best_val_loss")
            detail = f"val {best:.4f}" if isinstance(best, float) else run.status
            item = QListWidgetItem(f"{STATUS_MARKS.get(run.status, '?')} {run.name}  ·  {detail}")
            item.setData(Qt.ItemDataRole.UserRole, run.name)
            item.setToolTip(f"{run.name}: {run.status}, workflow {run.workflow_name or '-'}, "
                            f"{run.config.get('mode', '')} on {run.config.get('device', '')}"
                            + (f"\n{run.summary['error']}" if run.summary.get("error") else ""))
            self.list.addItem(item)
            if run.name == current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)

    def selected_run(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def selected_runs(self) -> list[str]:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()]

    def append_log(self, line: str) -> None:
        """Add a live line, stamped with the time of day as the stored log is."""
        self.log.appendPlainText(f"{time.strftime('%H:%M:%S')}  {line}")

    def show_log(self, text: str) -> None:
        """Replace the log with a stored run's (``YYYY-MM-DD HH:MM:SS  message`` lines): each date once, as a
        heading, then the times; scrolled to the end."""
        shown, day = [], None
        for line in text.splitlines():
            date, _, rest = line.partition(" ")
            if len(date) == 10 and date[4] == "-" and rest:
                if date != day:
                    shown.append(f"— {date}")
                    day = date
                line = rest
            shown.append(line)
        self.log.setPlainText("\n".join(shown))
        self.log.moveCursor(QTextCursor.MoveOperation.End)

    def _selected(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.run_selected.emit(item.data(Qt.ItemDataRole.UserRole))
