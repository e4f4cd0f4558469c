"""Start the GUI: application, theme, main window, and the project to show first.

Nothing here imports torch or transformers: the window paints first; heavy modules load when a mode needs them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from studio import __version__
from studio.gui_options import gui_parser
from studio.shipped import APP_ICON

FIRST_HINT = ("The sample calls its shapes balls, blocks and wedges, words the built-in model has never read: "
              "Train > Start teaches them (about 7 minutes on 2 CPU cores)")


def sample_project_folder() -> Path:
    """Where the built-in sample project lives for this user."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("vlm-studio", appauthor=False)) / "sample-project"


NO_DISPLAY = ("vlm-studio: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set), so the window cannot open.\n"
              "Run it from a desktop session, under a virtual display (xvfb-run vlm-studio), or use the headless "
              "commands: vlm-studio --help lists them.")


def display_problem(environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> str | None:
    """Why no window can open here (a Linux session without a display), or None. Qt's own message names a missing
    library (libxcb-cursor0) even when the real cause is the missing display."""
    if not platform.startswith("linux") or environ.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal"):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return NO_DISPLAY


def run_gui(argv: list[str]) -> int:
    args = gui_parser().parse_args(argv)
    if args.project and Path(args.project).is_file():  # the desktop opens a project by its database file
        args.project = str(Path(args.project).parent)
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    started = time.perf_counter()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("VLM Studio")
    app.setOrganizationName("VLM Studio")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("io.github.vlmstudio.VLMStudio")
    app.setWindowIcon(QIcon(str(APP_ICON)))

    from studio.ui import theme
    from studio.ui.main_window import MainWindow

    theme.apply(app)
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: theme.apply(app))
    window = MainWindow(QSettings())
    window.show()
    app.processEvents()
    if args.print_startup_time:
        print(f"startup_seconds={time.perf_counter() - started:.3f}", flush=True)
    QTimer.singleShot(0, lambda: open_first_project(window, args.project))
    if args.screenshot:
        QTimer.singleShot(2500, lambda: (window.grab().save(args.screenshot), window.close()))
    return app.exec()


def mend_sample_paths(folder: Path) -> None:
    """A sample project built by a first start before 2026-11-28 kept its image paths inside the side folder it
    was built in (``sample-project.partial``); point them to the sample's own folder."""
    from studio.dataset.lock import ProjectLockedError
    from studio.dataset.store import DB_NAME, Project, ProjectError

    if (folder / DB_NAME).is_file():
        with contextlib.suppress(ProjectError, ProjectLockedError), Project.open(folder) as project:
            project.relink(str(folder.with_name(folder.name + ".partial").resolve()), str(project.folder))


def open_first_project(window, requested: str | None) -> None:
    """Open the requested project, else the last one, else the built-in sample (created in a worker)."""
    if requested:
        window.open_project(requested)
        return
    folder = sample_project_folder()
    mend_sample_paths(folder)
    last = window.settings.value("lastProject")
    if last and Path(last).is_dir() and window.open_project(last):
        return
    if folder.is_dir() and window.open_project(folder):
        return
    from studio.dataset.sample import build_sample_project
    from studio.workers.job import Job

    window.annotate.show_empty("Creating the built-in sample project (1,000 shape images with captions, phrases and "
                               "questions) — it opens in a few seconds")
    job = Job("Creating the sample project", build_sample_project, folder)
    job.finished.connect(lambda path: window.open_project(path) and window.statusBar().showMessage(FIRST_HINT, 60000))
    window.start_job(job)
