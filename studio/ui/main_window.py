"""The main window: menus, mode rail, image list dock, the mode pages and the status bar (where the docks go:
`dock_layout`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QToolBar,
    QWidget,
)

from studio import __version__
from studio.dataset.changes import IMAGES_ADDED, LABEL_SET_KINDS
from studio.dataset.lock import ProjectLockedError
from studio.dataset.store import Change, Project, ProjectError
from studio.humanize import count
from studio.ui import garbage, theme
from studio.ui.annotate.shortcuts import shortcut
from studio.ui.annotate_mode import AnnotateMode
from studio.ui.data_actions import DataActions
from studio.ui.dock_layout import DockLayout
from studio.ui.image_list import ImageListPanel
from studio.ui.jobs_bar import JobsBar
from studio.ui.model_panels import ModelPanels
from studio.ui.pages import CurrentPageStack, EmptyPage
from studio.ui.review.queue import ReviewQueue
from studio.ui.store_signals import StoreSignals
from studio.workers.job import Job

if TYPE_CHECKING:
    from studio.ui.evaluate import EvaluatePage
    from studio.ui.playground import PlaygroundPage

MAX_RECENT = 10
REMEMBER_IMAGE_MS = 3000  # the image shown is written to the settings this long after the last switch
NO_PROJECT_TRAIN = "Open a project to train a model on it."
MODES = (
    ("annotate", "Annotate", "mdi6.vector-square-edit"),
    ("train", "Train", "mdi6.school-outline"),
    ("playground", "Playground", "mdi6.chat-processing-outline"),
    ("evaluate", "Evaluate", "mdi6.chart-box-outline"),
)


def fixed_size_label(widest: str) -> QLabel:
    """A status bar label as large as ``widest`` will need: a label whose text changes size makes the whole window
    lay out (and its docks animate) again, at every image switch for the image's position and zoom."""
    label = QLabel(widest)
    label.setFixedSize(label.sizeHint())
    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    label.clear()
    return label


class MainWindow(DataActions, DockLayout, QMainWindow):
    """One window, four modes; the project, the image list and the current image are shared by all modes."""

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        garbage.install(QApplication.instance())
        self.settings = settings or QSettings()
        self.project: Project | None = None
        self._store_signals: StoreSignals | None = None
        self._hidden_by_mode = set()  # these three: see DockLayout
        self._annotate_state = None
        self._default_state = None
        self._jobs: list[Job] = []
        self._image_to_remember: tuple[str, int] | None = None  # (project folder, image id) not yet written
        self._remember_timer = QTimer(self, singleShot=True, interval=REMEMBER_IMAGE_MS)
        self._remember_timer.timeout.connect(self._write_remembered_image)
        self.setWindowTitle("VLM Studio")
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)

        self.images = ImageListPanel()
        self.image_dock = QDockWidget("Images", self)
        self.image_dock.setObjectName("imagesDock")
        self.image_dock.setWidget(self.images)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.image_dock)

        self.pages = CurrentPageStack()
        self.annotate = AnnotateMode(self)
        self.review = ReviewQueue(self)  # the Review queue dock, beside Annotate's
        self.mode_pages: dict[str, QWidget] = {"annotate": self.annotate.page}
        for key, title, _icon in MODES[1:]:
            self.mode_pages[key] = EmptyPage(title, NO_PROJECT_TRAIN if key == "train" else "Loading…")
        self._playground: PlaygroundPage | None = None  # built when first shown (see playground_page)
        self._evaluate: EvaluatePage | None = None
        for page in self.mode_pages.values():
            self.pages.addWidget(page)
        self.setCentralWidget(self.pages)

        self._build_status_bar()
        self._build_mode_rail()
        self._build_menus()
        self.images.image_activated.connect(self.show_image)
        self.images.edit_requested.connect(self.push_edit)
        self.images.split_requested.connect(self.split_dialog)
        for signal in (self.images.model.modelReset, self.images.model.rowsInserted, self.images.model.rowsRemoved):
            signal.connect(self._update_position)
        self._restore_geometry()
        self._show_empty_state()
        garbage.freeze_built()

    # ------------------------------------------------------------ construction
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setSizeGripEnabled(True)
        self.jobs_bar = JobsBar()
        self.jobs_bar.open_page.connect(self.set_mode)
        self.position_label = fixed_size_label("image 8,888,888 / 8,888,888")
        self.zoom_label = fixed_size_label("zoom 88,888 %")
        self.saved_label = fixed_size_label("saved")
        self._saved_timer = QTimer(self, singleShot=True, interval=2500)
        self._saved_timer.timeout.connect(self.saved_label.clear)
        bar.addWidget(self.jobs_bar)
        bar.addPermanentWidget(self.position_label)
        bar.addPermanentWidget(self.zoom_label)
        bar.addPermanentWidget(self.saved_label)

    def _build_mode_rail(self) -> None:
        rail = QToolBar("Modes")
        rail.setObjectName("modeRail")
        rail.setMovable(False)
        rail.setFloatable(False)
        rail.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, rail)
        group = QActionGroup(self)
        self.mode_actions: dict[str, QAction] = {}
        for number, (key, title, icon_name) in enumerate(MODES, start=1):
            action = QAction(theme.icon(icon_name), title, self, checkable=True)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.setToolTip(f"{title} (Ctrl+{number})")
            action.triggered.connect(lambda _checked=False, k=key: self.set_mode(k))
            group.addAction(action)
            rail.addAction(action)
            self.mode_actions[key] = action
        self.mode_actions["annotate"].setChecked(True)

    def _build_menus(self) -> None:
        menu = self.menuBar().addMenu("&File")
        self._add(menu, "&New project…", self.new_project_dialog, QKeySequence.StandardKey.New, "mdi6.folder-plus")
        self._add(menu, "New &sample project…", self.new_sample_dialog, None, "mdi6.shape-plus")
        self._add(menu, "&Open project…", self.open_project_dialog, QKeySequence.StandardKey.Open,
                  "mdi6.folder-open")
        self.recent_menu = menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        menu.addSeparator()
        self.import_action = self._add(menu, "&Import images…", self.import_images_dialog, "Ctrl+I",
                                       "mdi6.image-plus")
        self.import_folder_action = self._add(menu, "Import image &folder…", self.import_folder_dialog,
                                              "Ctrl+Shift+I", "mdi6.folder-image")
        self.import_dataset_action = self._add(menu, "Import &dataset…", self.import_dataset_dialog, None,
                                               "mdi6.database-import")
        self.export_dataset_action = self._add(menu, "&Export dataset…", self.export_dataset_dialog, "Ctrl+E",
                                               "mdi6.database-export")
        menu.addSeparator()
        self._add(menu, "&Save", self.show_saved, QKeySequence.StandardKey.Save)
        menu.addSeparator()
        self._add(menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        self.annotate.build_edit_menu(self.menuBar().addMenu("&Edit"))

        project_menu = self.menuBar().addMenu("&Project")
        self.relink_action = self._add(project_menu, "&Re-link moved images…", self.relink_dialog, None,
                                       "mdi6.link-variant")
        self.split_action = self._add(project_menu, "&Split project…", self.split_dialog, None,
                                      "mdi6.shuffle-variant")

        self.view_menu = self.menuBar().addMenu("&View")
        self.reset_layout_action = self._add(self.view_menu, "&Reset layout", self.reset_layout, None,
                                             "mdi6.view-dashboard-outline")
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.image_dock.toggleViewAction())
        for dock in self.annotate.docks.values():
            self.view_menu.addAction(dock.toggleViewAction())
        self.view_menu.addAction(self.review.dock.toggleViewAction())

        model_menu = self.menuBar().addMenu("&Model")

        help_menu = self.menuBar().addMenu("&Help")
        self.shortcuts_action = self._add(help_menu, "&Keyboard shortcuts", self.show_shortcuts, None,
                                          "mdi6.keyboard-outline")
        self.shortcuts_action.setShortcuts([QKeySequence(k) for k in shortcut("shortcuts_help").keys])
        self.shortcuts_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)  # every mode and window
        self._add(help_menu, "&About VLM Studio", self.show_about)

        self.models = ModelPanels(self, model_menu, self.view_menu, self.settings)
        self.models.filter_requested.connect(self._filter_to_images)
        self.models.image_activated.connect(self.images.reveal)

    def _add(self, menu, text: str, slot, shortcut=None, icon_name: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon_name:
            action.setIcon(theme.icon(icon_name))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _filter_to_images(self, image_ids: list[int]) -> None:
        self.images.apply_filter(only=set(image_ids))
        self.statusBar().showMessage(f"Showing the {count(len(image_ids), 'image')} over the token budget; "
                                     "change a filter to see all", 8000)

    # ------------------------------------------------------------ modes and images
    def set_mode(self, key: str) -> None:
        self.mode_actions[key].setChecked(True)
        if key == "train" and self.project is not None and isinstance(self.mode_pages["train"], EmptyPage):
            from studio.ui.train import TrainPage  # built on first use: pyqtgraph takes a while to import

            page = TrainPage(self.project)
            page.try_run.connect(self.try_run)
            page.job_started.connect(self.jobs_bar.track)  # a run's progress shows on every page
            page.run_ended.connect(lambda text: self.statusBar().showMessage(text, 15000))
            page.split_requested.connect(lambda: self.split_dialog(only_unsplit=True))
            page.workflow_changed.connect(self.models.follow_workflow)  # the budget counts at its pixels and tiles
            self._replace_page("train", page)
        if key in ("playground", "evaluate") and self._playground is None:
            self._build_mode_pages()
        elif self._playground is not None and self.project is not None:  # runs trained since (here or by the CLI)
            if key == "playground":
                self._playground.refresh_sources()
            elif key == "evaluate":
                self._evaluate.refresh()  # re-reads the gallery's images: only when it is shown
        self._switch_page(key)

    def try_run(self, run_id: int) -> None:
        """Open the Playground on a run's best checkpoint (the Train page's "Try in Playground")."""
        self.set_mode("playground")
        self.playground_page.choose_run(run_id)

    @property
    def playground_page(self) -> PlaygroundPage:
        """The Playground page, built on first use (with Evaluate's: they share the runs' checkpoints)."""
        self._build_mode_pages()
        return self._playground

    @property
    def evaluate_page(self) -> EvaluatePage:
        self._build_mode_pages()
        return self._evaluate

    def _build_mode_pages(self) -> None:
        """Playground and Evaluate import pyqtgraph and the adapters and take a tenth of a second to build: built
        when first shown, not while a project opens (the window would freeze that long after its first frame)."""
        if self._playground is not None:
            return
        from studio.ui.evaluate import EvaluatePage
        from studio.ui.playground import PlaygroundPage

        self._playground, self._evaluate = PlaygroundPage(), EvaluatePage()
        for page in (self._playground, self._evaluate):
            page.start_job = self.start_job
        self._playground.undo_stack = self.annotate.undo_stack
        self._playground.selected_images = self.images.selected_image_ids
        self._evaluate.open_image.connect(self.annotate_image)
        self._replace_page("playground", self._playground)
        self._replace_page("evaluate", self._evaluate)
        if self.project is not None:
            self._playground.set_project(self.project)
            self._evaluate.set_project(self.project)
            current = self.images.current_image_id()
            if current is not None:
                self._playground.show_image(current)

    def _replace_page(self, key: str, page: QWidget) -> None:
        old = self.mode_pages[key]
        if hasattr(old, "shutdown"):
            old.shutdown()  # a running training stops with a checkpoint
        showing = self.pages.currentWidget() is old
        self.pages.insertWidget(self.pages.indexOf(old), page)
        self.pages.removeWidget(old)
        old.deleteLater()
        self.mode_pages[key] = page
        if showing:
            self.pages.setCurrentWidget(page)

    def current_mode(self) -> str:
        return next(k for k, page in self.mode_pages.items() if page is self.pages.currentWidget())

    def show_image(self, image_id: int) -> None:
        if self.project is None:
            return
        self.annotate.show_image(image_id)
        self.models.show_image(image_id)
        if self._playground is not None:
            self._playground.show_image(image_id)
        self._update_position()
        self._remember_image(image_id)
        self._prefetch_neighbours(image_id)

    def _prefetch_neighbours(self, image_id: int) -> None:
        """Decode the pictures of the next and previous images in the list ahead of D / A."""
        row, workspace = self.images.model.row_of(image_id), self.annotate.workspace
        if row is not None and workspace is not None:
            neighbours = (self.images.model.image_at(r) for r in (row + 1, row - 1))
            workspace.prefetch([image.id for image in neighbours if image is not None])

    def annotate_image(self, image_id: int, prediction: list | None = None, note: str = "") -> None:
        """Select ``image_id`` and switch to Annotate (from the evaluation gallery); the model's boxes
        (``prediction``, `OverlayBox` each) are drawn dashed over it until the image changes, ``note`` shown in
        the status bar."""
        if not self.images.select_image(image_id):
            self.show_image(image_id)
        self.set_mode("annotate")
        workspace = self.annotate.workspace
        if workspace is not None and workspace.image_id == image_id:
            workspace.canvas.set_overlays([(b.label, b.colour, b.box) for b in prediction or []])
        if note:
            self.statusBar().showMessage(note, 15000)

    def _update_position(self) -> None:
        model = self.images.model
        row = self.images.view.currentIndex().row()
        if model.total() == 0:
            self.position_label.setText("")
        elif row >= 0:
            self.position_label.setText(f"image {row + 1:,} / {model.rowCount():,}")
        else:
            self.position_label.setText(count(model.total(), "image"))

    # ------------------------------------------------------------ projects
    def open_project(self, folder: str | Path, *, read_only: bool = False) -> bool:
        """Open ``folder`` as the current project; explains and returns False when it cannot."""
        try:
            project = Project.open(folder, read_only=read_only)
        except ProjectLockedError as exc:
            answer = QMessageBox.question(self, "Project in use", f"{exc}.\n\nOpen it read-only?")
            if answer == QMessageBox.StandardButton.Yes:
                return self.open_project(folder, read_only=True)
            return False
        except (ProjectError, OSError) as exc:
            QMessageBox.warning(self, "Cannot open project", str(exc))
            return False
        self.set_project(project)
        return True

    def set_project(self, project: Project | None) -> None:
        self._write_remembered_image()
        if self._store_signals is not None:
            self._store_signals.detach()
            self._store_signals = None
        if not isinstance(self.mode_pages["train"], EmptyPage):
            self._replace_page("train", EmptyPage("Train", NO_PROJECT_TRAIN))
        if self.project is not None:
            self.project.close()
        self.project = project
        self.images.set_project(project)
        self.annotate.set_project(project)
        self.review.set_project(project)
        self.models.set_project(project)
        if self._playground is not None:
            self._playground.set_project(project)
            self._evaluate.set_project(project)
        if project is None:
            self._show_empty_state()
            return
        self._store_signals = StoreSignals(project, self, watch_external=True)
        self._store_signals.changed.connect(self._store_changed)
        workspace = self.annotate.workspace
        workspace.request_next.connect(lambda: self.images.step(1))
        workspace.request_previous.connect(lambda: self.images.step(-1))
        workspace.request_image.connect(self.images.select_image)
        workspace.status_message.connect(lambda message: self.statusBar().showMessage(message, 6000))
        workspace.canvas.zoom_changed.connect(lambda percent: self.zoom_label.setText(f"zoom {percent:,.0f} %"))
        self._remember_recent(str(project.folder))
        suffix = " (read-only)" if project.read_only else ""
        self.setWindowTitle(f"{project.folder.name}{suffix} — VLM Studio")
        for action in (self.import_action, self.import_folder_action, self.import_dataset_action):
            action.setEnabled(not project.read_only)
        self._show_empty_state()
        if self.images.model.rowCount():
            last = self._last_images().get(str(project.folder))
            if last is None or not self.images.select_image(last):
                self.images.select_image(self.images.model.image_at(0).id)
            workspace.canvas.setFocus()  # keys (D, A, W) act on the image, not the image list's search field
            self._check_missing_images()

    def _show_empty_state(self) -> None:
        if self.project is None:
            self.annotate.show_empty("No project open — File > New project… or File > Open project…")
        elif self.images.model.total() == 0:
            self.annotate.show_empty("No images yet — drop a folder here or File > Import images")

    def _store_changed(self, change: Change) -> None:
        """The filter's label list follows labels added, renamed or merged (not every box edit); the Playground's
        and Evaluate's run lists follow the runs table (a training step writes only ``run_metrics``)."""
        if "labels" in change.tables and (not change.kinds or change.is_reload or change.kinds & LABEL_SET_KINDS):
            self.images.refresh_labels()
        if "runs" in change.tables and self._playground is not None:
            self._playground.refresh_sources()
            self._evaluate.refresh()
        if "images" in change.tables and self.project is not None:
            self.images.apply_change(change)  # the rows it touched; a coarse change reads the list again
            if IMAGES_ADDED in change.kinds:
                self._show_some_image()
        self.show_saved()

    def reload_images(self) -> None:
        """Read the image list again after a job wrote with its own connection (an import, a re-link)."""
        self.images.reload()
        self._show_some_image()

    def _show_some_image(self) -> None:
        """Show the first image when none is shown (the images just came, or the shown one went)."""
        if self.images.current_image_id() is None:
            if self.images.model.rowCount():
                self.images.select_image(self.images.model.image_at(0).id)
            else:
                self._show_empty_state()

    def show_saved(self) -> None:
        self.saved_label.setText("saved")
        self._saved_timer.start()

    def new_project_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose an empty folder for the new project")
        if not folder:
            return
        try:
            self.set_project(Project.create(folder))
        except (ProjectError, OSError) as exc:
            QMessageBox.warning(self, "Cannot create project", str(exc))

    def new_sample_dialog(self) -> None:
        """Build a fresh sample project (shapes with captions, phrases and questions) in an empty folder, then open
        it: the GUI twin of ``vlm-studio sample``."""
        folder = QFileDialog.getExistingDirectory(self, "Choose an empty folder for a new sample project")
        if not folder:
            return
        from studio.dataset.sample import build_sample_project

        job = Job("Creating a sample project", build_sample_project, folder)
        job.finished.connect(self.open_project)
        self.start_job(job)

    def open_project_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a VLM Studio project folder")
        if folder:
            self.open_project(folder)

    def _remember_recent(self, folder: str) -> None:
        recent = [f for f in self.recent_projects() if f != folder]
        self.settings.setValue("recentProjects", [folder, *recent][:MAX_RECENT])
        self.settings.setValue("lastProject", folder)

    def _last_images(self) -> dict[str, int]:
        """The image last shown in each recent project, by project folder (a project reopens on it)."""
        value = self.settings.value("lastImages", {})
        return {str(folder): int(image_id) for folder, image_id in value.items()} if isinstance(value, dict) else {}

    def _remember_image(self, image_id: int) -> None:
        """Remember the image shown, written a few seconds after the last switch (the settings file is rewritten on
        each write: milliseconds at every image otherwise), or when the project closes."""
        self._image_to_remember = (str(self.project.folder), image_id)
        self._remember_timer.start()

    def _write_remembered_image(self) -> None:
        self._remember_timer.stop()
        if self._image_to_remember is None:
            return
        (folder, image_id), self._image_to_remember = self._image_to_remember, None
        recent = set(self.recent_projects())
        last = {shown_in: shown for shown_in, shown in self._last_images().items() if shown_in in recent}
        last[folder] = image_id
        self.settings.setValue("lastImages", last)

    def recent_projects(self) -> list[str]:
        value = self.settings.value("recentProjects", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for folder in self.recent_projects():
            action = self.recent_menu.addAction(folder)
            action.triggered.connect(lambda _checked=False, f=folder: self.open_project(f))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("No recent projects").setEnabled(False)

    def start_job(self, job: Job) -> Job:
        """Run ``job`` in its thread, showing it in the status bar; failures become a status message."""
        self._jobs.append(job)
        job.failed.connect(lambda message: self.statusBar().showMessage(message, 15000))
        job.cancelled.connect(lambda: self.statusBar().showMessage(f"{job.title}: cancelled", 5000))
        job.done.connect(lambda: self._jobs.remove(job) if job in self._jobs else None)
        self.jobs_bar.track(job)
        job.start()
        return job

    # ------------------------------------------------------------ window state
    def show_shortcuts(self) -> QDialog:
        """Help > Keyboard shortcuts (F1 anywhere): the list, raised when it is already open."""
        from studio.ui.annotate.shortcuts_dialog import ShortcutsDialog

        dialog = next((d for d in self.findChildren(ShortcutsDialog) if d.isVisible()), None)
        if dialog is None:
            dialog = ShortcutsDialog(parent=self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def show_about(self) -> None:
        QMessageBox.about(self, "About VLM Studio",
                          f"<b>VLM Studio {__version__}</b><p>Annotate images for vision-language models, "
                          "train them on your own machine and test prompts with the boxes drawn over the image.</p>")

    def closeEvent(self, event: QCloseEvent) -> None:
        for job in list(self._jobs):
            job.cancel()
        for job in list(self._jobs):
            job.wait(10000)
        self._switch_page("annotate")  # save annotate's layout, with the docks the person chose
        self._save_layout()
        self.set_project(None)
        super().closeEvent(event)
