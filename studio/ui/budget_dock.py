"""The token-budget dock's panel: whether every image fits, a histogram of tokens per image against the limit, the
images over budget by file name (a click shows one; a button filters the image list to them), the totals and what to
do about it. It follows the project's edits, imports, the model and the resolution settings.

Text tokens are counted in a worker (a tokenizer may take seconds to load); the visual tokens and totals are
recomputed in the GUI thread, which takes milliseconds even for 10,000 images.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from studio.adapters import get_adapter
from studio.adapters.base import VisionSettings
from studio.budget.budget import Budget, TextTable, compute_budget, recount_budget
from studio.dataset.changes import TOKEN_KINDS
from studio.dataset.store import Change, Project
from studio.humanize import count
from studio.ui import theme
from studio.ui.pages import scrollable
from studio.ui.store_signals import StoreSignals
from studio.workers.job import Job
from studio.workers.job_slot import JobSlot

# Tables whose rows make up the samples' text (label names included) and the images' sizes.
TEXT_TABLES = frozenset({"images", "labels", "boxes", "captions", "phrases", "phrase_boxes", "vqa"})
OVER_LIST_LIMIT = 500
BINS = 24  # histogram bars across the plot, the limit included
PLOT_MIN_HEIGHT = 64  # with the headline, always in view: the dock's minimum fits a laptop screen (1366 x 768)
DETAILS_MIN_HEIGHT = 8  # the details scroll below the histogram (a sliver of them at the minimum)


class BudgetPanel(QWidget):
    """What the Token budget dock shows. ``filter_requested(list[int])``: show only these images;
    ``image_activated(int)``: go to one image."""

    filter_requested = Signal(list)
    image_activated = Signal(int)
    budget_changed = Signal(object)  # the new `Budget`

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._project: Project | None = None
        self._signals: StoreSignals | None = None
        self._model_id = "tiny"
        self._settings: VisionSettings | None = None
        self._max_seq_len = 4096
        self._table: TextTable | None = None
        self._jobs = JobSlot(self)
        self._jobs.result.connect(self._on_counted)
        self._jobs.failed.connect(self._on_failed)
        self._jobs.idle.connect(self._count_text)
        self._generation = 0  # bumped when everything must be counted again: older results are stale
        self._job_inputs: tuple = ("", None, 0, -1)  # model, settings, max sequence length, generation of the job
        self._dirty: set[int] = set()  # images edited since their text was counted
        self.budget: Budget | None = None
        self._names: dict[int, str] = {}  # file names of the images listed over budget, read when first listed

        self._debounce = QTimer(self, singleShot=True, interval=400)
        self._debounce.timeout.connect(self._count_text)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(3)
        self.title, self.headline = QLabel(), QLabel()
        for line in (self.title, self.headline):  # one line each, cut (not wrapped) in a narrow dock
            line.setTextFormat(Qt.TextFormat.RichText)
            line.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            layout.addWidget(line)
        self.plot = pg.PlotWidget(background=None, enableMenu=False)  # never built (dropping one costs 0.3 s)
        self.plot.setMinimumHeight(PLOT_MIN_HEIGHT)
        self.plot.setMaximumHeight(200)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setToolTip("Images (up) per number of tokens (across: each image's longest sample); the red "
                             "line is the limit")
        self.plot.getPlotItem().getAxis("left").setWidth(28)
        layout.addWidget(self.plot, 3)
        details = QWidget()  # below the histogram, scrolling when the dock is short
        top, layout = layout, QVBoxLayout(details)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.over_list = QListWidget()
        self.over_list.setToolTip("Images whose longest sample does not fit; click one to show it")
        self.over_list.setMinimumHeight(72)
        self.over_list.itemClicked.connect(self._activate)
        self.over_list.itemActivated.connect(self._activate)
        layout.addWidget(self.over_list)
        self.filter_button = QPushButton(theme.icon("mdi6.filter-outline"), "Show only these images")
        self.filter_button.clicked.connect(self._request_filter)
        layout.addWidget(self.filter_button)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        form = QFormLayout()
        form.setVerticalSpacing(2)
        self.totals = {key: QLabel("–") for key in ("images", "visual", "text", "total", "over")}
        for key, label in (("images", "Images / samples"), ("visual", "Visual tokens"), ("text", "Text tokens"),
                           ("total", "Longest sample"), ("over", "Over budget")):
            form.addRow(label, self.totals[key])
        layout.addLayout(form)
        self.advice = QLabel()
        self.advice.setWordWrap(True)
        layout.addWidget(self.advice)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.details = scrollable(details)
        self.details.setMinimumHeight(DETAILS_MIN_HEIGHT)
        top.addWidget(self.details, 2)
        self.setMinimumWidth(300)
        self._show_empty("Open a project to see the token cost of each image.")

    # --- inputs -------------------------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        self._stop_job()
        if self._signals is not None:
            self._signals.detach()
            self._signals = None
        self._project = project
        self._recount_all()
        if project is None:
            self.title.setText("")
            self._show_empty("Open a project to see the token cost of each image.")
            return
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
            self._recount_all()
            self._count_text()
        else:
            self._refresh()

    def reload(self) -> None:
        """Count everything again: another connection (an import in a worker) changed the project."""
        if self._project is not None:
            self._recount_all()
            self._debounce.start()

    def _recount_all(self) -> None:
        """Drop the counts, and the result of any count under way: every image is counted again."""
        self._table = None
        self._dirty.clear()
        self._names.clear()  # a re-link may have renamed files
        self._generation += 1

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
        """Count again only the images whose samples the change can have changed: those it names (edited or
        added); every image after another process's commit or an edit without images (a label renamed or merged,
        a re-link). An edit of no sample's text (a status, a split, a box moved) counts nothing."""
        tables = change.tables & TEXT_TABLES
        if self._project is None or not tables:
            return
        if not change.is_reload and (
            (change.kinds and not change.kinds & TOKEN_KINDS) or (not change.kinds and tables == {"images"})
        ):
            return  # typed without tokens, or an untyped write of image rows only (statuses or splits in bulk)
        if change.is_reload or not change.image_ids:
            self._recount_all()
        else:
            self._dirty |= change.image_ids  # a partial count merges them in, new images included
        self._debounce.start()

    def _count_text(self) -> None:
        """Count the text of every image (no table yet) or of the edited ones; one job at a time."""
        if self._project is None or self._jobs.busy:
            return  # called again when the running job ends (``idle``)
        if self._table is not None and not self._dirty:
            return
        ids = sorted(self._dirty) if self._table is not None else None
        self._dirty.clear()
        self._debounce.stop()  # this count takes the edits it was waiting for (when called as a job ended)
        if self._table is None:
            self._show_empty("Counting the text tokens of every image…")
        self.status.setText("Counting text tokens…")
        self._job_inputs = (self._model_id, self._settings, self._max_seq_len, self._generation)
        self._jobs.start(Job("Token budget", recount_budget, self._project.folder, self._model_id, self._settings,
                             self._max_seq_len, base=self._table if ids is not None else None, image_ids=ids))

    def _on_failed(self, message: str) -> None:
        self.status.setText(message)

    def _on_counted(self, result: tuple[TextTable, Budget]) -> None:
        """A count's table and budget, both made in the worker; dropped when the model changed or everything must
        be counted again (``idle`` counts again); re-budgeted here when only the settings changed meanwhile."""
        model_id, settings, max_seq_len, generation = self._job_inputs
        if model_id != self._model_id or generation != self._generation:
            return
        self._table, budget = result
        self.status.setText("")
        if (settings, max_seq_len) != (self._settings, self._max_seq_len):
            self._refresh()
        else:
            self._publish(budget)

    def _refresh(self) -> None:
        """The budget of the counted text at the current settings (a few milliseconds: array arithmetic)."""
        if self._table is None:
            return
        adapter = get_adapter(self._model_id)
        self._publish(compute_budget(adapter, self._table, self._settings or adapter.settings(), self._max_seq_len))

    def _publish(self, budget: Budget) -> None:
        self.budget = budget
        self._show(budget, get_adapter(self._model_id).entry.name)
        self.budget_changed.emit(budget)

    # --- display ------------------------------------------------------------------------------------------
    def _show_empty(self, message: str) -> None:
        """``message`` instead of a budget (the title keeps the model, when known)."""
        self.headline.setText(message)
        self.headline.setToolTip(message)
        for label in self.totals.values():
            label.setText("–")
        self.plot.clear()
        self.over_list.clear()
        self.over_list.hide()
        self.filter_button.hide()
        self.advice.setText("")

    def _show(self, budget: Budget, model_name: str) -> None:
        s = budget.summary()
        how = "counted by its tokenizer" if budget.exact_text else "an estimate (no tokenizer on this machine)"
        estimate = "" if budget.exact_text else " · text estimated"
        self.title.setText(f"<b>{model_name}</b> · limit {budget.limit:,} tokens{estimate}")
        self.title.setToolTip(f"{model_name}. Text tokens: {how}. The limit is the smaller of the model's context "
                              f"({budget.context_length:,}) and the max sequence length ({budget.max_seq_len:,}).")
        if not s["images"]:
            self._show_empty("No images yet — import some to see their token cost.")
            return
        self.totals["images"].setText(f"{s['images']:,} / {s['samples']:,}")
        for key, stats in (("visual", s["visual_tokens"]), ("text", s["text_tokens"]), ("total", s["total_tokens"])):
            self.totals[key].setText(f"{stats['min']:,} – {stats['max']:,} (mean {stats['mean']:,.0f})")
        n_over = s["over_budget"]
        self.totals["over"].setText(f"<b style='color:#c62828'>{count(n_over, 'image')}</b>" if n_over else "none")
        longest = s["total_tokens"]["max"]
        if n_over:
            self.headline.setText(f"<b style='color:#c62828'>✗ {n_over:,} of {count(s['images'], 'image')} over "
                                  f"the limit</b> (training refuses them)")
        else:
            self.headline.setText(f"<b style='color:#2e7d32'>✓ All {count(s['images'], 'image')} fit</b> · the "
                                  f"longest: {longest:,} tokens ({longest / budget.limit:.0%})")
        self._plot(budget)
        self.over_list.clear()
        for image_id, tokens in budget.worst(OVER_LIST_LIMIT):
            item = QListWidgetItem(f"{self._name(image_id)} — {tokens:,} tokens")
            item.setData(Qt.ItemDataRole.UserRole, image_id)
            self.over_list.addItem(item)
        self.over_list.setVisible(bool(n_over))
        self.filter_button.setVisible(bool(n_over))
        self.filter_button.setEnabled(bool(n_over))
        self.advice.setText("\n".join(budget.advice))

    def _name(self, image_id: int) -> str:
        if image_id not in self._names:
            try:
                self._names[image_id] = self._project.image(image_id).name
            except KeyError:
                return f"image {image_id}"
        return self._names[image_id]

    def _plot(self, budget: Budget) -> None:
        self.plot.clear()
        counts, edges = token_histogram(budget.totals, budget.limit)
        left, widths = edges[:-1], np.diff(edges)
        over, shown = left > budget.limit, counts > 0
        for mask, colour in ((shown & ~over, theme.ACCENT), (shown & over, "#c62828")):
            if mask.any():
                self.plot.addItem(pg.BarGraphItem(x0=left[mask] + widths[mask] * 0.06, width=widths[mask] * 0.88,
                                                  height=counts[mask], brush=colour, pen=pg.mkPen(colour)))
        self.plot.addItem(pg.InfiniteLine(budget.limit, angle=90, pen=pg.mkPen("#c62828", width=2)))
        self.plot.setXRange(0, edges[-1], padding=0.02)
        self.plot.setYRange(0, max(1, int(counts.max())), padding=0.05)

    def _activate(self, item: QListWidgetItem) -> None:
        self.image_activated.emit(item.data(Qt.ItemDataRole.UserRole))

    def _request_filter(self) -> None:
        if self.budget is not None:
            self.filter_requested.emit([int(i) for i in self.budget.over])


def token_histogram(totals: np.ndarray, limit: int, bins: int = BINS) -> tuple[np.ndarray, np.ndarray]:
    """Images per token count from 0 to the limit or the longest image, in about ``bins`` bars of a round width
    (1, 2 or 5 times a power of ten), so that bars stay visible whatever the limit; a bar edge falls just past
    the limit, so that no bar holds images on both sides of it (the first bar may be narrower)."""
    top = max(int(totals.max()) if len(totals) else 0, limit)
    raw = max(top / bins, 1.0)
    power = 10 ** math.floor(math.log10(raw))
    width = next(step * power for step in (1, 2, 5, 10) if step * power >= raw)
    boundary = limit + 0.5
    edges = np.arange(boundary - width * math.ceil(boundary / width), top + width, width, dtype=np.float64)
    edges[0] = max(edges[0], 0.0)
    counts, _ = np.histogram(totals, bins=edges)
    return counts, edges
