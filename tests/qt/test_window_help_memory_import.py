"""The window's small promises: F1 lists the shortcuts in every mode, a project reopens on the image last shown,
and an import that skipped files can list every one of them with its reason."""

from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication

from studio.dataset.sample import create_sample_project
from studio.dataset.store import Project
from studio.ui.annotate.shortcuts import SHORTCUTS
from studio.ui.annotate.shortcuts_dialog import ShortcutsDialog
from studio.ui.main_window import MainWindow
from studio.ui.skipped_files import SkippedFilesButton, SkippedFilesDialog


def _open_shortcut_dialogs(window) -> list[ShortcutsDialog]:
    return [d for d in window.findChildren(ShortcutsDialog) if d.isVisible()]


def _press_f1(qtbot, window, widget) -> ShortcutsDialog:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: len(_open_shortcut_dialogs(window)) == 1, timeout=3000)
    (dialog,) = _open_shortcut_dialogs(window)
    return dialog


@pytest.mark.parametrize("mode", ["none", "annotate", "train", "playground", "evaluate"])
def test_f1_opens_the_shortcut_list_in_every_mode(window, tmp_path, qtbot, mode):
    if mode != "none":
        create_sample_project(tmp_path / "s", count=4).close()
        window.open_project(tmp_path / "s")
        window.set_mode(mode)
    focus = window.images.view if mode != "annotate" else window.annotate.workspace.canvas
    dialog = _press_f1(qtbot, window, focus)
    assert ("Show this list of keyboard shortcuts", "F1") in dialog.rows()
    qtbot.keyClick(focus, Qt.Key.Key_F1)  # again: the open list comes to the front, no second one
    assert _open_shortcut_dialogs(window) == [dialog]
    dialog.close()


def test_help_menu_shows_f1_and_every_window_wide_shortcut_is_bound(window):
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    entry = next(a for a in help_menu.actions() if a.text() == "&Keyboard shortcuts")
    assert entry.shortcut().toString() == "F1"
    assert entry.shortcutContext() == Qt.ShortcutContext.ApplicationShortcut
    bound = {seq.toString() for action in window.findChildren(QAction) for seq in action.shortcuts()}
    app_wide = [key for s in SHORTCUTS if s.scope == "app" for key in s.keys]
    assert app_wide and set(app_wide) <= bound  # the list says only what the window does


def test_a_project_reopens_on_the_image_last_shown(window, tmp_path, settings, qtbot):
    create_sample_project(tmp_path / "s", count=8).close()
    Project.create(tmp_path / "other").close()
    window.open_project(tmp_path / "s")
    window.images.select_image(6)
    assert window.annotate.workspace.image_id == 6
    window.open_project(tmp_path / "other")  # another project in between keeps its own memory
    window.close()
    again = MainWindow(QSettings(settings.fileName(), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    again.open_project(tmp_path / "s")
    assert again.images.current_image_id() == 6
    assert again.annotate.workspace.image_id == 6
    assert again.position_label.text() == "image 6 / 8"
    again.set_project(None)


def test_a_remembered_image_that_is_gone_falls_back_to_the_first(window, tmp_path, settings):
    create_sample_project(tmp_path / "s", count=3).close()
    settings.setValue("lastImages", {str((tmp_path / "s").resolve()): 999})
    window.open_project(tmp_path / "s")
    assert window.images.current_image_id() == 1


def test_import_lists_every_skipped_file_behind_details(window, tmp_path, qtbot):
    Project.create(tmp_path / "p").close()
    window.open_project(tmp_path / "p")
    folder = tmp_path / "pics"
    folder.mkdir()
    Image.new("RGB", (32, 32), "orange").save(folder / "good.png")
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    (folder / "empty.png").write_bytes(b"")
    window.import_paths([str(folder)])
    bar = window.statusBar()
    qtbot.waitUntil(lambda: "skipped 2" in bar.currentMessage(), timeout=20000)
    assert "1 more in Details…" in bar.currentMessage()
    button = bar.findChild(SkippedFilesButton)
    assert button is not None and button.isVisible()
    dialog = button.open_details()
    qtbot.addWidget(dialog)
    rows = dialog.rows()
    assert [row[0] for row in rows] == ["broken.jpg", "empty.png"]
    assert all(reason for _name, reason, _folder in rows) and rows[0][2] == str(folder)
    dialog.copy_list()
    copied = QApplication.clipboard().text().splitlines()
    assert len(copied) == 2 and all("\t" in line for line in copied)
    bar.showMessage("something else")
    assert not button.isVisible()  # the button goes with the message it explains


def test_skipped_files_dialog_screenshot(qtbot, window, tmp_path):
    skipped = [(f"/home/me/photos/trip/{name}", reason) for name, reason in (
        ("IMG_0412.HEIC", "HEIC images are not supported; convert them to JPEG or PNG"),
        ("scan-03.jpg", "the file is truncated (cannot be decoded)"),
        ("notes.txt", "not an image"),
    )]
    dialog = SkippedFilesDialog(skipped, window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert len(dialog.rows()) == 3
    dialog.grab().save(str(tmp_path / "skipped-files.png"))
