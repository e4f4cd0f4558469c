"""The model side of the window: the Model menu (with its corner button), the token-budget dock and the
training-text dock. The docks are there from the start (the window is laid out once, before its first paint); what
they show imports pyqtgraph, numpy and the adapters: that is done in a thread after the first paint, then their
panels are built and, a frame later, given the project (`ready` after that)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QToolButton, QWidget

from studio.dataset.store import Project
from studio.ui import garbage
from studio.ui.first_paint import AfterFirstPaint
from studio.ui.pages import scrollable

if TYPE_CHECKING:
    from studio.ui.budget_dock import BudgetPanel
    from studio.ui.training_preview import TrainingPreview

DEFAULT_MODEL = "tiny"
STEP_MS = 30  # between building the panels and giving them the project: a frame each


class ModelPanels(QObject):
    """``filter_requested(list[int])``: show only these images; ``image_activated(int)``: go to one image."""

    filter_requested = Signal(list)
    image_activated = Signal(int)

    def __init__(self, window: QMainWindow, menu: QMenu, view_menu: QMenu, settings) -> None:
        super().__init__(window)
        self.window, self.menu, self.view_menu, self.settings = window, menu, view_menu, settings
        self.project: Project | None = None
        self.image_id: int | None = None
        self.budget_dock = self._add_dock("Token budget", "budget_dock")
        self.preview_dock = self._add_dock("Training text", "trainingTextDock")
        self.preview_dock.visibilityChanged.connect(self._preview_visible)
        self.budget_panel: BudgetPanel | None = None  # built after the first paint
        self.training_preview: TrainingPreview | None = None
        self.ready = False  # the panels exist and follow the project (a few frames after the first)
        self._preview_shown = False  # its tab is the one raised (a tab behind another still says isVisible())
        menu.aboutToShow.connect(self._fill_menu)
        self.button = QToolButton()
        self.button.setAutoRaise(True)
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setMenu(menu)
        self.button.setToolTip("The model whose token budget is shown; workflows choose their own")
        window.menuBar().setCornerWidget(self.button, Qt.Corner.TopRightCorner)
        self.set_model(str(settings.value("model", DEFAULT_MODEL)))
        AfterFirstPaint(window, self._build_panels, modules=("studio.ui.budget_dock", "studio.ui.training_preview"))

    # ------------------------------------------------------------ docks
    def _add_dock(self, title: str, name: str) -> QDockWidget:
        """A dock on the right, empty until its panel is built."""
        dock = QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(QWidget())
        self.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def _build_panels(self) -> None:
        from studio.ui.budget_dock import BudgetPanel
        from studio.ui.training_preview import TrainingPreview

        self.budget_panel = BudgetPanel()
        self.budget_panel.filter_requested.connect(self.filter_requested)
        self.budget_panel.image_activated.connect(self.image_activated)
        self.budget_panel.set_model(self.model_id)
        self.budget_dock.setWidget(self.budget_panel)
        self.training_preview = TrainingPreview()
        self.training_preview.set_model(self.model_id)
        self.preview_dock.setWidget(scrollable(self.training_preview))
        garbage.freeze_built()
        QTimer.singleShot(STEP_MS, self, self._follow_project)

    def _follow_project(self) -> None:
        self.ready = True
        self.set_project(self.project)

    def set_project(self, project: Project | None) -> None:
        self.project = project
        if self.ready:
            self.budget_panel.set_project(project)
            self.training_preview.set_project(project)
            if self.image_id is not None and project is not None:
                self.show_image(self.image_id)

    def reload(self) -> None:
        """Count the budget of every image again (the dock follows edits, imports and other processes' commits by
        itself; bench/bench_scale.py times this recount)."""
        if self.budget_panel is not None:
            self.budget_panel.reload()

    def show_image(self, image_id: int) -> None:
        """Follow the current image (the preview is only rebuilt while it can be seen)."""
        self.image_id = image_id
        if self._preview_shown and self.ready:
            self.training_preview.show_image(image_id)

    def _preview_visible(self, visible: bool) -> None:
        self._preview_shown = visible
        if visible and self.image_id is not None and self.ready:
            self.training_preview.show_image(self.image_id)

    # ------------------------------------------------------------ the model
    def _fill_menu(self) -> None:
        from studio.adapters.catalog import CatalogError, load_catalog

        self.menu.clear()
        try:
            catalog = load_catalog()
        except CatalogError as exc:
            self.menu.addAction(str(exc)).setEnabled(False)
            return
        group = QActionGroup(self.menu)
        for entry in sorted(catalog.values(), key=lambda e: (e.id != DEFAULT_MODEL, e.family, e.params_b)):
            text = entry.name if entry.available else f"{entry.name} (coming soon)"
            action = self.menu.addAction(text)
            action.setCheckable(True)
            action.setChecked(entry.id == self.model_id)
            action.setEnabled(entry.available)
            action.setToolTip(entry.notes)
            action.triggered.connect(lambda _checked=False, model_id=entry.id: self.set_model(model_id))
            group.addAction(action)
        self.menu.addSeparator()
        trusting = self.menu.addAction("Trust code of this model…")
        trusting.setToolTip("Models that ship their own Python code (NVILA) load only after you trust that code")
        trusting.setEnabled(any(entry.remote_code and entry.available for entry in catalog.values()))
        trusting.triggered.connect(self.show_trust_dialog)

    def show_trust_dialog(self) -> None:
        """What trusting a model's own code means, and the consent itself (the current model when it ships code)."""
        from studio.ui.trust_dialog import TrustCodeDialog

        dialog = TrustCodeDialog(self.model_id, self.window)
        dialog.exec()
        if self.training_preview is not None:  # it may load now, or no longer
            self.training_preview.set_model(self.model_id)

    def follow_workflow(self, config) -> None:
        """The Train page's workflow: when it trains the model the budget shows, the budget counts at the
        workflow's pixel limits, tiles and sequence length, as training will."""
        from studio.adapters import get_adapter
        from studio.training.data import vision_settings

        if self.budget_panel is None or config.model_id != self.model_id:
            return
        try:
            settings = vision_settings(get_adapter(config.model_id), config)
        except (KeyError, ValueError):
            return
        self.budget_panel.set_model(config.model_id, settings, config.max_seq_len)

    def set_model(self, model_id: str) -> None:
        """Choose the model whose token budget is shown (remembered across restarts)."""
        from studio.adapters.catalog import CatalogError, get_entry

        try:
            entry = get_entry(model_id)
        except (CatalogError, KeyError, ValueError):
            entry = get_entry(DEFAULT_MODEL)
        self.model_id = entry.id
        self.button.setText(f"model: {entry.name}")
        self.settings.setValue("model", entry.id)
        if self.budget_panel is not None:
            self.budget_panel.set_model(entry.id)
            self.training_preview.set_model(entry.id)
