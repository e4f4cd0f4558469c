"""Annotate mode in the main window: the canvas page, the Labels / Caption / VQA docks and the undo stack, around
one `AnnotationWorkspace` per open project."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence, QUndoStack
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

from studio.dataset.store import Project
from studio.ui import theme
from studio.ui.annotate import label_panel
from studio.ui.annotate.workspace import AnnotationWorkspace
from studio.ui.pages import AnnotatePage, empty_label, scrollable

DOCKS = (("labels", "Labels"), ("caption", "Caption and phrases"), ("vqa", "Questions and answers"))
EDIT_ACTIONS = ("create_mode", "relabel", "delete_boxes", "duplicate_boxes", "copy_boxes", "paste_boxes",
                "select_all", None, "link_phrase", "accept_suggestion", None, "done_next", "status_review",
                "status_todo")


class AnnotateMode(QObject):
    """Owns what annotation adds to the window; the window tells it the project and the current image."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.undo_stack = QUndoStack(window)  # a parent: Qt's destructor still signals the workspace
        self.page = AnnotatePage()
        self.workspace: AnnotationWorkspace | None = None
        self.docks: dict[str, QDockWidget] = {}
        for key, title in DOCKS:
            dock = QDockWidget(title, window)
            dock.setObjectName(f"{key}Dock")
            dock.setWidget(empty_label("Open a project to annotate"))
            window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
            self.docks[key] = dock

    def build_edit_menu(self, menu: QMenu) -> None:
        """Undo / Redo; the workspace's actions are added when a project opens."""
        self.edit_menu = menu
        undo = self.undo_stack.createUndoAction(self.window, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        undo.setIcon(theme.icon("mdi6.undo"))
        redo = self.undo_stack.createRedoAction(self.window, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        redo.setIcon(theme.icon("mdi6.redo"))
        menu.addAction(undo)
        menu.addAction(redo)
        self._fixed_actions = len(menu.actions())

    def set_project(self, project: Project | None) -> None:
        """Replace the workspace (one per project); the undo history belongs to the old project and goes."""
        if self.workspace is not None:
            self.workspace.store_signals.detach()
            self.page.set_canvas(None)
            self.workspace.canvas.deleteLater()
            self.workspace.deleteLater()
            self.workspace = None
        self.undo_stack.clear()
        for action in self.edit_menu.actions()[self._fixed_actions:]:
            self.edit_menu.removeAction(action)
        if project is None:
            for dock in self.docks.values():
                dock.setWidget(empty_label("Open a project to annotate"))
            return
        workspace = AnnotationWorkspace(project, self.undo_stack, self)
        self.workspace = workspace
        self.page.set_canvas(workspace.canvas)
        # In scroll areas: a dock can shrink below its panel's natural height, and a panel whose content changes size
        # (a caption's notes, a longer button text) lays out within its dock instead of the whole window again.
        self.docks["labels"].setWidget(scrollable(workspace.label_panel))
        self.docks["caption"].setWidget(scrollable(workspace.caption_panel))
        self.docks["vqa"].setWidget(scrollable(workspace.vqa_panel))
        self.edit_menu.addSeparator()
        for name in EDIT_ACTIONS:
            if name is None:
                self.edit_menu.addSeparator()
            else:
                self.edit_menu.addAction(workspace.actions[name])

    def show_image(self, image_id: int) -> None:
        if self.workspace is not None:
            self.workspace.show_image(image_id)
            self.page.show_canvas()

    def show_empty(self, text: str) -> None:
        self.page.show_empty(text)

    def labels_dock_height(self) -> int:
        """The Labels dock's height (title bar included) that lists nine labels without scrolling."""
        dock = self.docks["labels"]
        title = dock.sizeHint().height() - dock.widget().sizeHint().height()
        return label_panel.panel_height() + title
