"""The Review queue dock: a trained run's suspected annotation mistakes, worst first, filterable by kind, with the
keys that show, accept, dismiss and skip them. It reads the queue from the store and follows the store's changes
(only the review items, the runs and the names of the images it lists); what the keys do to the window and the
annotations is `ReviewQueue`'s (``studio/ui/review/queue.py``)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.dataset.store import Change, Project
from studio.humanize import count
from studio.review.items import KINDS, ReviewItem, ReviewRun, in_queue_order, review_items, review_runs
from studio.training.runs import list_runs
from studio.ui import theme
from studio.ui.annotate.shortcuts import shortcut
from studio.ui.pages import empty_label
from studio.ui.review.queue_model import ITEM_ROLE, KindFilter, ReviewItemDelegate, ReviewQueueModel, kind_title
from studio.ui.store_signals import StoreSignals

NO_PROJECT = "Open a project to review its annotations."
NO_RUNS = "Train a run, then Find mistakes: the model checks every annotation and lists the likely mistakes here."
NOT_REVIEWED = (
    "Press Find mistakes: the run's model checks every annotation and lists the likely mistakes here, worst first."
)
REVIEWABLE = ("finished", "stopped")  # runs with a checkpoint to predict with
ANNOTATION_TABLES = frozenset({"boxes", "vqa", "phrases"})  # a deleted annotation takes its suspects with it


class ReviewDock(QDockWidget):
    """``show_requested(item)``, ``accept_requested(item)``, ``dismiss_requested(item)``: the person's decisions
    on the current suspect; ``find_requested(run id)`` / ``stop_requested()``: start or stop a review."""

    show_requested = Signal(object)
    accept_requested = Signal(object)
    dismiss_requested = Signal(object)
    find_requested = Signal(int)
    again_requested = Signal(int)  # review every image again
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Review queue", parent)
        self.setObjectName("reviewDock")
        self.project: Project | None = None
        self._signals: StoreSignals | None = None
        self._reviewed: set[int] = set()  # runs that have reviewed the project
        self.busy = False
        self.model = ReviewQueueModel(self)
        self.filtered = KindFilter(self)
        self.filtered.setSourceModel(self.model)
        self._build()
        self.set_project(None)

    # ------------------------------------------------------------ construction
    def _build(self) -> None:
        self.run_box = QComboBox()
        self.run_box.setToolTip("The trained run whose model looks for mistakes")
        self.run_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.run_box.setMinimumContentsLength(12)
        self.run_box.currentIndexChanged.connect(self._run_chosen)
        self.find_button = QPushButton(theme.icon("mdi6.magnify-scan", color="white"), "Find mistakes")
        self.find_button.setProperty("primary", True)
        self.find_button.clicked.connect(self._find_clicked)
        self.again_button = QToolButton()
        self.again_button.setIcon(theme.icon("mdi6.refresh"))
        self.again_button.setToolTip("Review again: check every image anew (after more edits); what you accepted or "
                                     "dismissed stays decided")  # fmt: skip
        self.again_button.clicked.connect(lambda: self.again_requested.emit(self.run_id()))
        self.kind_box = QComboBox()
        self.kind_box.setToolTip("Show one kind of suspect")
        self.kind_box.currentIndexChanged.connect(self._kind_chosen)
        self.view = QListView()
        self.view.setModel(self.filtered)
        self.view.setItemDelegate(ReviewItemDelegate(self.view))
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setUniformItemSizes(True)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.activated.connect(self._activated)  # Enter, double-click
        self.view.selectionModel().currentChanged.connect(lambda *_: self._enable())
        self.empty = empty_label("")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.view)
        self.actions: dict[str, QAction] = {}
        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        for name, text, slot in (
            ("review_accept", "Accept", self.accept_current),
            ("review_dismiss", "Dismiss", self.dismiss_current),
            ("review_next", "Skip", self.next_item),
        ):
            entry = shortcut(name)
            action = QAction(theme.icon(entry.icon), f"{text}  {entry.keys[0]}", self)
            action.setShortcuts([QKeySequence(k) for k in entry.keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)  # active while the dock is shown
            action.setToolTip(f"{entry.text} ({entry.keys[0]})")
            action.triggered.connect(slot)
            self.addAction(action)
            self.actions[name] = action
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            buttons.addWidget(button)
        self.keys = QLabel("<b>Enter</b> shows")
        self.keys.setToolTip(
            "Enter or double-click shows the suspect on its image with the model's box dashed; "
            "Y applies the model's fix (Ctrl+Z undoes it), N dismisses it for good, S skips it"
        )
        self.keys.setEnabled(False)  # muted
        top, kinds = QHBoxLayout(), QHBoxLayout()
        top.addWidget(self.run_box, 1)
        top.addWidget(self.find_button)
        top.addWidget(self.again_button)
        kinds.addWidget(self.kind_box, 1)
        kinds.addWidget(self.keys)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addLayout(kinds)
        layout.addWidget(self.stack, 1)
        layout.addLayout(buttons)
        self.setWidget(body)

    # ------------------------------------------------------------ project and store
    def set_project(self, project: Project | None) -> None:
        if self._signals is not None:
            self._signals.detach()
            self._signals = None
        self.project = project
        self.model.names = {}
        if project is not None:
            self._signals = StoreSignals(project, self)
            self._signals.changed.connect(self._on_change)
        self.refresh_runs()

    def _on_change(self, change: Change) -> None:
        if self.project is None:
            return
        if "images" in change.tables:
            if change.image_ids:
                self._rename(change.image_ids)
            else:  # a write from elsewhere (an import, the CLI): names may have come and gone
                self.model.names = {}
                self._read_names({item.image_id for item in self.model.items})
        if "runs" in change.tables:
            self.refresh_runs()
            return
        listed = {item.image_id for item in self.model.items}
        if "review_items" in change.tables:
            self.reload(change.image_ids or None)
        elif change.tables & ANNOTATION_TABLES and (not change.image_ids or change.image_ids & listed):
            self.reload(change.image_ids & listed or None)

    def _rename(self, image_ids) -> None:
        """New names for the listed images among ``image_ids`` (the others are not read)."""
        shown = {item.image_id for item in self.model.items} & set(image_ids)
        for image_id in shown:
            self.model.names.pop(image_id, None)
        self._read_names(shown)

    def _read_names(self, image_ids: set[int]) -> None:
        """The file names of the listed images not named yet, a few hundred per query (never the whole project)."""
        missing = sorted(image_ids - self.model.names.keys())
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            found = self.project.images_by_id(chunk)
            self.model.set_names({i: found[i].name if i in found else "a deleted image" for i in chunk})

    def refresh_runs(self) -> None:
        """The runs with a checkpoint (or a review), newest first; the one chosen stays, else the newest reviewed."""
        chosen = self.run_id()
        self.run_box.blockSignals(True)
        self.run_box.clear()
        if self.project is not None:
            self._reviewed = {review.run_id for review in review_runs(self.project)}
            for run in list_runs(self.project):
                if run.status in REVIEWABLE or run.id in self._reviewed:
                    reviewed = " · reviewed" if run.id in self._reviewed else ""
                    self.run_box.addItem(f"{run.name}{reviewed}", run.id)
            index = self.run_box.findData(chosen) if chosen is not None else -1
            if index < 0:
                index = next((i for i in range(self.run_box.count()) if self.run_box.itemData(i) in self._reviewed), 0)
            self.run_box.setCurrentIndex(index if self.run_box.count() else -1)
        self.run_box.blockSignals(False)
        self._run_chosen()

    def run_id(self) -> int | None:
        return self.run_box.currentData()

    def _run_chosen(self) -> None:
        self.reload()

    def reload(self, image_ids: set[int] | None = None) -> None:
        """Read the chosen run's open suspects, only those of ``image_ids`` when given (a review wrote some, an
        accept, a dismiss, an undo, a deleted annotation)."""
        run_id = self.run_id()
        if self.project is None or run_id is None:
            items: list[ReviewItem] = []
        elif image_ids is None:
            items = review_items(self.project, run_id)
        else:
            kept = [item for item in self.model.items if item.image_id not in image_ids]
            fresh = review_items(self.project, run_id, image_ids=image_ids)
            items = in_queue_order(self.project, [*kept, *fresh])
        if items and run_id is not None:
            self._reviewed.add(run_id)
        current = self.current_item()
        row = self.view.currentIndex().row()
        self._read_names({item.image_id for item in items})
        self.model.set_items(items)
        self._fill_kinds()
        if current is not None and self.current_item() is None and self.filtered.rowCount():
            self.select_row(min(max(row, 0), self.filtered.rowCount() - 1))  # the next one took its place
        self._show_state()

    def _fill_kinds(self) -> None:
        counts = self.model.counts()
        kind = self.kind_box.currentData()
        self.kind_box.blockSignals(True)
        self.kind_box.clear()
        self.kind_box.addItem(f"All kinds ({len(self.model.items):,})", None)
        for key in KINDS:
            if counts.get(key) or key == kind:
                self.kind_box.addItem(f"{kind_title(key)} ({counts.get(key, 0):,})", key)
        self.kind_box.setCurrentIndex(max(0, self.kind_box.findData(kind)))
        self.kind_box.blockSignals(False)
        self.filtered.set_kind(self.kind_box.currentData())

    def _kind_chosen(self) -> None:
        self.filtered.set_kind(self.kind_box.currentData())
        if self.filtered.rowCount() and self.current_item() is None:
            self.select_row(0)
        self._show_state()

    def _show_state(self) -> None:
        """The list, or a sentence on what to do next."""
        run_id = self.run_id()
        shown = self.filtered.rowCount()
        if self.project is None:
            text = NO_PROJECT
        elif run_id is None:
            text = NO_RUNS
        elif self.busy and not self.model.items:
            text = "Looking for mistakes… suspects appear here as they are found."
        elif not self.model.items:
            text = self._nothing_open(self._review(run_id))
        elif not shown:
            text = f"No {kind_title(self.filtered.kind).lower()} suspects open; choose All kinds."
        else:
            text = ""
        self.empty.setText(text)
        self.stack.setCurrentWidget(self.empty if text else self.view)
        self.find_button.setEnabled(self.busy or run_id is not None)
        self.again_button.setVisible(not self.busy and run_id in self._reviewed)
        self.run_box.setEnabled(not self.busy and self.run_box.count() > 0)
        self._enable()

    def _review(self, run_id: int) -> ReviewRun | None:
        """The run's review counts (read only when the queue is empty, to say why)."""
        return next((review for review in review_runs(self.project) if review.run_id == run_id), None)

    @staticmethod
    def _nothing_open(review: ReviewRun | None) -> str:
        if review is None:
            return NOT_REVIEWED
        handled = review.by_state.get("accepted", 0) + review.by_state.get("dismissed", 0)
        if handled:
            return (
                f"No open suspects — all {count(handled, 'suspect')} accepted or dismissed. Find mistakes again "
                "after more edits or another training run."
            )
        return (
            f"No suspects: the model agrees with every annotation of the {count(review.images_done, 'image')} "
            "it checked."
        )

    def set_busy(self, busy: bool) -> None:
        """A review is running: the button stops it."""
        self.busy = busy
        self.find_button.setText("Stop" if busy else "Find mistakes")
        self.find_button.setIcon(theme.icon("mdi6.stop" if busy else "mdi6.magnify-scan", color="white"))
        self.find_button.setToolTip(
            "Stop the review (what it found so far stays)"
            if busy
            else "Predict every annotated image with the run's model and list what looks wrong"
        )
        self._show_state()

    def _find_clicked(self) -> None:
        if self.busy:
            self.stop_requested.emit()
        elif self.run_id() is not None:
            self.find_requested.emit(self.run_id())

    def _enable(self) -> None:
        has = self.current_item() is not None
        for action in self.actions.values():
            action.setEnabled(has or (action is self.actions["review_next"] and self.filtered.rowCount() > 0))

    # ------------------------------------------------------------ the current suspect
    def current_item(self) -> ReviewItem | None:
        index = self.view.currentIndex()
        return index.data(ITEM_ROLE) if index.isValid() else None

    def select_row(self, row: int) -> None:
        index = self.filtered.index(row, 0)
        self.view.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.view.scrollTo(index)

    def _activated(self, index) -> None:
        item = index.data(ITEM_ROLE)
        if item is not None:
            self.show_requested.emit(item)

    def show_current(self) -> None:
        item = self.current_item()
        if item is not None:
            self.show_requested.emit(item)

    def next_item(self) -> None:
        """Skip: the next suspect (the first after the last), shown on its image."""
        rows = self.filtered.rowCount()
        if rows:
            row = self.view.currentIndex().row()
            self.select_row((row + 1) % rows if row >= 0 else 0)
            self.show_current()

    def accept_current(self) -> None:
        item = self.current_item()
        if item is not None:
            self.accept_requested.emit(item)

    def dismiss_current(self) -> None:
        item = self.current_item()
        if item is not None:
            self.dismiss_requested.emit(item)
