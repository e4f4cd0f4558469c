"""The token-budget dock: totals, a histogram of tokens per image, the images over budget (one click filters the
image list to them) and what to do about it. It follows the project's edits, the model and the resolution settings.

Text tokens are counted in a worker (a tokenizer may take seconds to load); the visual tokens and totals are
recomputed in the GUI thread, which takes milliseconds even for 10,000 images.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.adapters import get_adapter
from studio.adapters.base import VisionSettings
from studio.budget.budget import Budget, TextTable, compute_budget, merge_tables, project_text_table
from studio.dataset.store import Change, Project
from studio.ui.pages import scrollable
from studio.ui.store_signals import StoreSignals
from studio.workers.job import Job
from studio.workers.job_slot import JobSlot

# Edits that change the text of some sample (image sizes change only on import).
TEXT_TABLES = frozenset({"images", "boxes", "captions", "phrases", "phrase_boxes", "vqa"})
OVER_LIST_LIMIT = 500


class BudgetDock(QDockWidget):
    """``filter_requested(list[int])``: show only these images; ``image_activated(int)``: go to one image."""

    filter_requested = Signal(list)
    image_activated = Signal(int)
    budget_changed = Signal(object)  # the new `Budget`

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Token budget", parent)
        self.setObjectName("budget_dock")
        self._project: Project | None = None
        self._signals: StoreSignals | None = None
        self._model_id = "tiny"
        self._settings: VisionSettings | None = None
        self._max_seq_len = 4096
        self._table: TextTable | None = None
        self._jobs = JobSlot(self)
        self._jobs.result.connect(self._on_table)
        self._jobs.failed.connect(self._on_failed)
        self._jobs.idle.connect(self._count_text)
        self._job_model = ""
        self._job_partial = False
        self._dirty: set[int] = set()  # images edited since their text was counted
        self.budget: Budget | None = None
        self._names: dict[int, str] = {}

        self._debounce = QTimer(self, singleShot=True, interval=400)
        self._debounce.timeout.connect(self._count_text)

        body = QWidget()
        layout = QVBoxLayout(body)
        self.title = QLabel()
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        form = QFormLayout()
        self.totals = {key: QLabel("–") for key in ("images", "visual", "text", "total", "over")}
        for key, label in (("images", "Images / samples"), ("visual", "Visual tokens"), ("text", "Text tokens"),
                           ("total", "Longest sample"), ("over", "Over budget")):
            form.addRow(label, self.totals[key])
        layout.addLayout(form)
        self.plot = pg.PlotWidget(background=None)
        self.plot.setMinimumHeight(140)
        self.plot.setMaximumHeight(220)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setLabel("bottom", "tokens per image (longest sample)")
        self.plot.setLabel("left", "images")
        layout.addWidget(self.plot)
        self.over_list = QListWidget()
        self.over_list.setToolTip("Images whose longest sample does not fit; double-click to open one")
        self.over_list.itemActivated.connect(self._activate)
        layout.addWidget(self.over_list)
        self.filter_button = QPushButton("Show only these images")
        self.filter_button.clicked.connect(self._request_filter)
        layout.addWidget(self.filter_button)
        self.advice = QLabel()
        self.advice.setWordWrap(True)
        layout.addWidget(self.advice)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.setWidget(scrollable(body))
        self._show_empty("Open a project to see what each image costs the model.")

    # --- inputs -------------------------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        self._stop_job()
        if self._signals is not None:
            self._signals.detach()
            self._signals = None
        self._project = project
        self._table = None
        if project is None:
            self._show_empty("Open a project to see what each image costs the model.")
            return
        self._names = {image.id: image.name for image in project.images()}
        self._signals = StoreSignals(project, self)
        self._signals.changed.connect(self._on_change)
        self._count_text()

    def set_model(self, model_id: str, settings: VisionSettings | None = None, max_seq_len: int | None = None) -> None:
        """Model and resolution: the text is recounted only when the model changes."""
        changed_model = model_id != self._model_id
        self._model_id = model_id
        self._settings = settings
        if max_seq_len is not None:
            self._max_seq_len = max_seq_len
        if changed_model:
            self._table = None
            self._count_text()
        else:
            self._refresh()

    def set_max_seq_len(self, max_seq_len: int) -> None:
        self._max_seq_len = max_seq_len
        self._refresh()

    def closeEvent(self, event) -> None:
        self._stop_job()
        super().closeEvent(event)

    # --- work ---------------------------------------------------------------------------------------------
    def _stop_job(self) -> None:
        self._debounce.stop()
        self._dirty.clear()
        self._jobs.stop()

    def _on_change(self, change: Change) -> None:
        if not change.tables & TEXT_TABLES or self._project is None:
            return
        if "images" in change.tables or not change.image_ids:
            self._names = {image.id: image.name for image in self._project.images()}
            self._table = None  # images added or removed: count everything again
        else:
            self._dirty |= change.image_ids
        self._debounce.start()

    def _count_text(self) -> None:
        """Count the text of every image (no table yet) or of the edited ones; one job at a time."""
        if self._project is None or self._jobs.busy:
            return  # called again when the running job ends (``idle``)
        if self._table is not None and not self._dirty:
            return
        ids = sorted(self._dirty) if self._table is not None else None
        self._dirty.clear()
        if self._table is None:
            self._show_empty("Counting the text tokens of every image…")
        self.status.setText("Counting text tokens…")
        self._job_model, self._job_partial = self._model_id, ids is not None
        self._jobs.start(Job("Token budget", project_text_table, self._project.folder, self._model_id, image_ids=ids))

    def _on_failed(self, message: str) -> None:
        self.status.setText(message)

    def _on_table(self, table: TextTable) -> None:
        if self._job_model != self._model_id or (self._job_partial and self._table is None):
            return  # the model changed, or everything is being counted again, meanwhile
        self._table = merge_tables(self._table, table) if self._job_partial else table
        self.status.setText("")
        self._refresh()

    def _refresh(self) -> None:
        if self._table is None:
            return
        adapter = get_adapter(self._model_id)
        settings = self._settings or adapter.settings()
        self.budget = compute_budget(adapter, self._table, settings, self._max_seq_len)
        self._show(self.budget, adapter.entry.name)
        self.budget_changed.emit(self.budget)

    # --- display ------------------------------------------------------------------------------------------
    def _show_empty(self, message: str) -> None:
        self.title.setText(message)
        for label in self.totals.values():
            label.setText("–")
        self.plot.clear()
        self.over_list.clear()
        self.filter_button.setEnabled(False)
        self.advice.setText("")

    def _show(self, budget: Budget, model_name: str) -> None:
        s = budget.summary()
        how = "tokenizer" if budget.exact_text else "estimate (no tokenizer on this machine)"
        self.title.setText(f"<b>{model_name}</b>: limit {budget.limit:,} tokens. Text counted by {how}.")
        if not s["images"]:
            self._show_empty(f"{model_name}: no images yet — import some to see their token cost.")
            return
        self.totals["images"].setText(f"{s['images']:,} / {s['samples']:,}")
        for key, stats in (("visual", s["visual_tokens"]), ("text", s["text_tokens"]), ("total", s["total_tokens"])):
            self.totals[key].setText(f"{stats['min']:,} – {stats['max']:,} (mean {stats['mean']:,.0f})")
        n_over = s["over_budget"]
        self.totals["over"].setText(f"<b style='color:#c62828'>{n_over:,} images</b>" if n_over else "none")
        self._plot(budget)
        self.over_list.clear()
        order = np.argsort(-budget.totals)
        for index in order[budget.totals[order] > budget.limit][:OVER_LIST_LIMIT]:
            image_id = int(budget.image_ids[index])
            item = QListWidgetItem(f"{self._names.get(image_id, image_id)} — {int(budget.totals[index]):,} tokens")
            item.setData(Qt.ItemDataRole.UserRole, image_id)
            self.over_list.addItem(item)
        self.filter_button.setEnabled(bool(n_over))
        self.advice.setText("\n".join(budget.advice))

    def _plot(self, budget: Budget) -> None:
        self.plot.clear()
        counts, edges = np.histogram(budget.totals, bins=min(40, max(5, len(budget.totals) // 5)))
        width = edges[1] - edges[0]
        self.plot.addItem(pg.BarGraphItem(x0=edges[:-1], width=width, height=counts, brush="#4363d8"))
        self.plot.addItem(pg.InfiniteLine(budget.limit, angle=90, pen=pg.mkPen("#c62828", width=2)))

    def _activate(self, item: QListWidgetItem) -> None:
        self.image_activated.emit(item.data(Qt.ItemDataRole.UserRole))

    def _request_filter(self) -> None:
        if self.budget is not None:
            self.filter_requested.emit([int(i) for i in self.budget.over])
