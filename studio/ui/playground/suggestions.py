"""The playground's suggestions tab: let the chosen model suggest boxes and answers (this image, the images selected
in the image list, the unannotated images, or all), then accept or reject them one by one or all at once."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.dataset.predictions import Suggestion, accept, reject, suggestions
from studio.dataset.store import Project
from studio.ui import theme

SCOPES = (("This image", "image"), ("Selected images", "selected"), ("Images without boxes", "unannotated"),
          ("All images", "all"))


class SuggestionsPanel(QWidget):
    """``suggest_requested(scope)`` asks the page to run the model; the panel lists and resolves suggestions."""

    suggest_requested = Signal(str)
    cancel_requested = Signal()
    changed = Signal()  # suggestions were accepted or rejected
    selection_changed = Signal()  # the page highlights the selected suggestions on the image

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self.image_id: int | None = None
        self.scope = QComboBox()
        for title, key in SCOPES:
            self.scope.addItem(title, key)
        self.suggest_button = QPushButton(theme.icon("mdi6.auto-fix", color="white"), "Suggest")
        self.suggest_button.setProperty("primary", True)
        self.suggest_button.setToolTip("Ask the selected model for every label's boxes and unanswered questions")
        self.suggest_button.clicked.connect(lambda: self.suggest_requested.emit(self.scope.currentData()))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_requested.emit)
        self.progress = QProgressBar()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.itemSelectionChanged.connect(self._enable)
        self.list.itemSelectionChanged.connect(self.selection_changed.emit)
        buttons = {}
        for key, text, icon in (("accept", "Accept", "mdi6.check"), ("reject", "Reject", "mdi6.close"),
                                ("accept_all", "Accept all", "mdi6.check-all"),
                                ("reject_all", "Reject all", "mdi6.close-box-multiple-outline")):
            buttons[key] = QPushButton(theme.icon(icon), text)
        self.accept_button, self.reject_button = buttons["accept"], buttons["reject"]
        self.accept_all_button, self.reject_all_button = buttons["accept_all"], buttons["reject_all"]
        self.accept_button.clicked.connect(lambda: self._resolve(True, selected=True))
        self.reject_button.clicked.connect(lambda: self._resolve(False, selected=True))
        self.accept_all_button.clicked.connect(lambda: self._resolve(True, selected=False))
        self.reject_all_button.clicked.connect(lambda: self._resolve(False, selected=False))
        run_row = QHBoxLayout()
        run_row.addWidget(self.scope, 1)
        run_row.addWidget(self.suggest_button)
        run_row.addWidget(self.cancel_button)
        one, every = QHBoxLayout(), QHBoxLayout()
        one.addWidget(self.accept_button)
        one.addWidget(self.reject_button)
        every.addWidget(self.accept_all_button)
        every.addWidget(self.reject_all_button)
        layout = QVBoxLayout(self)
        layout.addLayout(run_row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(QLabel("Open suggestions on this image"))
        layout.addWidget(self.list, 1)
        layout.addLayout(one)
        layout.addLayout(every)
        self.set_running(False)

    def set_running(self, running: bool) -> None:
        self.suggest_button.setEnabled(not running and self.project is not None and not self.project.read_only)
        self.cancel_button.setVisible(running)
        self.progress.setVisible(running)
        if running:
            self.progress.setRange(0, 0)

    def show_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(done)
        self.status.setText(message)

    def set_image(self, project: Project | None, image_id: int | None) -> None:
        self.project, self.image_id = project, image_id
        self.refresh()

    def current(self) -> list[Suggestion]:
        if self.project is None or self.image_id is None:
            return []
        return suggestions(self.project, self.image_id)

    def selected_ids(self) -> list[int]:
        return [int(item.data(Qt.ItemDataRole.UserRole)) for item in self.list.selectedItems()]

    def refresh(self) -> None:
        self.list.clear()
        for s in self.current():
            if s.kind == "box":
                text = f"{s.label}: " + ", ".join(f"{v:.0f}" for v in s.xyxy)
            else:
                text = f"{s.label} → {s.text}"
            item = QListWidgetItem(theme.icon("mdi6.vector-square" if s.kind == "box" else "mdi6.comment-question"),
                                   text)
            item.setData(Qt.ItemDataRole.UserRole, s.id)
            self.list.addItem(item)
        self.set_running(self.cancel_button.isVisible())
        self._enable()

    def _enable(self) -> None:
        writable = self.project is not None and not self.project.read_only
        has_any, has_selected = self.list.count() > 0, bool(self.list.selectedItems())
        for button, on in ((self.accept_button, has_selected), (self.reject_button, has_selected),
                           (self.accept_all_button, has_any), (self.reject_all_button, has_any)):
            button.setEnabled(writable and on)

    def _resolve(self, accepted: bool, *, selected: bool) -> None:
        if self.project is None:
            return
        items = self.list.selectedItems() if selected else [self.list.item(i) for i in range(self.list.count())]
        ids = [int(item.data(Qt.ItemDataRole.UserRole)) for item in items]
        self.list.clearSelection()
        (accept if accepted else reject)(self.project, ids)
        self.status.setText(f"{len(ids):,} {'accepted' if accepted else 'rejected'}")
        self.refresh()
        self.changed.emit()
