"""Where the window's docks go: the default layout, the saved one (restored when usable), Reset layout, and the
docks each mode shows. A mixin of `MainWindow`, which supplies ``settings``, ``pages``, ``mode_pages``,
``image_dock``, ``annotate``, ``review``, ``models`` and ``current_mode``."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QDockWidget, QTabBar

MODE_DOCKS: dict[str, set[str] | None] = {"annotate": None, "train": set(), "playground": {"imagesDock"},
                                          "evaluate": {"imagesDock"}}  # None: all docks
LAYOUT_VERSION = 2  # of the saved dock layout: those saved before could hold a squeezed right-hand column
SIDE_DOCK_MIN_WIDTH = 300  # px: a right-hand dock's tables and tab titles read in full
CENTRAL_MIN_WIDTH = 320  # px: a restored layout leaving the canvas less than this is not used
DEFAULT_RIGHT_WIDTH, DEFAULT_IMAGES_WIDTH = 400, 270


class DockLayout:
    """The docks' layout: built when the window is first shown, saved on close, one per mode."""

    _hidden_by_mode: set[str]  # docks a mode hid, shown again by a mode that shows them
    _annotate_state: QByteArray | None  # the annotate layout, kept while another mode hides its docks
    _default_state: QByteArray | None  # the default layout, built when the window is first shown

    def _restore_dock_state(self) -> None:
        """The default layout (kept for Reset layout), then the saved one if it is usable; laid out on the
        annotate page (the saved layout is annotate's), then shown as the mode wants."""
        mode = self.current_mode()
        self.pages.setCurrentWidget(self.mode_pages["annotate"])
        for dock in self.findChildren(QDockWidget):
            if dock is not self.image_dock:  # the image list's filters set its own
                dock.setMinimumWidth(SIDE_DOCK_MIN_WIDTH)
        self._default_dock_layout()
        self._default_state = self.saveState(LAYOUT_VERSION)  # for View > Reset layout
        state = self.settings.value("mainWindow/state")
        if state is not None and self._restore_layout(state) and not self._layout_is_usable():
            self._restore_layout(self._default_state)
        self._hidden_by_mode.clear()
        self._annotate_state = None
        self._switch_page(mode)

    def _restore_layout(self, state: QByteArray) -> bool:
        """``restoreState`` without the tab bars of the layout it replaces left on screen (Qt may keep showing
        them over the new ones; laying out shows those in use again)."""
        for bar in self.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
            bar.hide()
        restored = self.restoreState(state, LAYOUT_VERSION)
        self.layout().activate()
        return restored

    def _layout_is_usable(self) -> bool:
        """Whether the layout just restored leaves the canvas its width (one saved in a larger window, or with
        docks since given minimum widths, may not)."""
        return self.centralWidget().width() >= CENTRAL_MIN_WIDTH

    def _default_dock_layout(self) -> None:
        """A narrow image list on the left and one right-hand column: the labels (budget behind them), the
        caption, and the questions (the training text behind them); every dock docked and shown."""
        docks = self.annotate.docks
        for dock in self.findChildren(QDockWidget):
            dock.setFloating(False)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.image_dock)
        for key in ("labels", "caption", "vqa"):
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, docks[key], Qt.Orientation.Vertical)
        self.tabifyDockWidget(docks["labels"], self.models.budget_dock)
        self.tabifyDockWidget(docks["caption"], self.review.dock)
        self.tabifyDockWidget(docks["vqa"], self.models.preview_dock)
        for dock in self.findChildren(QDockWidget):
            dock.show()
        for key in ("labels", "caption", "vqa"):
            docks[key].raise_()
        self.resizeDocks([self.image_dock, docks["caption"]], [DEFAULT_IMAGES_WIDTH, DEFAULT_RIGHT_WIDTH],
                         Qt.Orientation.Horizontal)
        column = [docks["labels"], docks["caption"], docks["vqa"]]
        labels = self.annotate.labels_dock_height()
        for _ in range(2):  # then once more with what the tab bars below the labels took
            free = sum(dock.height() for dock in column) - labels
            self.resizeDocks(column, [labels, free // 2, free - free // 2], Qt.Orientation.Vertical)
            self.layout().activate()
            labels += self.annotate.labels_dock_height() - docks["labels"].height()

    def reset_layout(self) -> None:
        """View > Reset layout: the default docks and sizes (the current mode still hides what it hides); the
        saved layout is forgotten."""
        self.settings.remove("mainWindow/state")
        mode = self.current_mode()
        self.pages.setCurrentWidget(self.mode_pages["annotate"])
        self._hidden_by_mode.clear()
        self._annotate_state = None
        self._restore_layout(self._default_state)
        self._switch_page(mode)
        self.statusBar().showMessage("Layout reset: the default docks and sizes", 5000)

    def _switch_page(self, key: str) -> None:
        """Show mode ``key``'s page and docks. The docks it hides go before its page comes and those it shows
        come after, so the window never holds more than fits (it would grow wider and squeeze the docks);
        leaving Annotate keeps its layout, which comes back whole (sizes, raised tabs) on return."""
        if self.current_mode() == "annotate" and key != "annotate":
            self._annotate_state = self.saveState(LAYOUT_VERSION)
        allowed = MODE_DOCKS.get(key)
        for dock in self.findChildren(QDockWidget):
            if allowed is not None and dock.objectName() not in allowed and dock.isVisible():
                self._hidden_by_mode.add(dock.objectName())
                dock.hide()
        self.pages.setCurrentWidget(self.mode_pages[key])
        self._show_mode_docks(key)

    def _show_mode_docks(self, key: str) -> None:
        """Annotate shows every dock; Playground and Evaluate keep the image list; Train needs the whole width.
        Docks hidden by a mode come back when a mode that shows them is chosen again."""
        if key == "annotate" and self._annotate_state is not None:
            self._restore_layout(self._annotate_state)  # shows the docks as they were
            self._annotate_state = None
            self._hidden_by_mode.clear()
            return
        allowed = MODE_DOCKS.get(key)
        for dock in self.findChildren(QDockWidget):
            name = dock.objectName()
            if name in self._hidden_by_mode and (allowed is None or name in allowed):
                self._hidden_by_mode.discard(name)
                dock.show()

    def _restore_geometry(self) -> None:
        geometry = self.settings.value("mainWindow/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 860)
        state = self.settings.value("mainWindow/state")
        if state is not None:  # laid out again when first shown (`_restore_dock_state`), when it can be measured
            self.restoreState(state, LAYOUT_VERSION)

    def showEvent(self, event) -> None:
        if self._default_state is None:  # shown the first time: every dock exists, the layout can be measured
            self._restore_dock_state()
        super().showEvent(event)

    def _save_layout(self) -> None:
        self.settings.setValue("mainWindow/geometry", self.saveGeometry())
        self.settings.setValue("mainWindow/state", self.saveState(LAYOUT_VERSION))
