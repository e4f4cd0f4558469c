"""The main window shell: projects, the image list, modes, import in a worker, persistence."""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QDockWidget

from studio.dataset.sample import create_sample_project
from studio.dataset.store import Project
from studio.ui.main_window import MainWindow
from studio.ui.pages import EmptyPage
from tests.unit.inference.conftest import tiny_checkpoints  # noqa: F401 (fixture)


def test_empty_window_explains_what_to_do(window):
    assert "No project open" in window.annotate.page.empty.text()
    assert window.windowTitle() == "VLM Studio"


def test_opening_the_sample_lists_images_and_shows_the_first(window, tmp_path, qtbot):
    create_sample_project(tmp_path / "s", count=30).close()
    assert window.open_project(tmp_path / "s")
    assert window.images.model.rowCount() == 30
    assert window.images.current_image_id() == 1
    assert window.annotate.page.currentWidget() is window.annotate.workspace.canvas
    assert window.position_label.text() == "image 1 / 30"
    window.images.step(1)
    assert window.images.current_image_id() == 2
    qtbot.waitUntil(lambda: window.images.model._thumbs.get(1) is not None, timeout=20000)


def test_file_menu_builds_a_fresh_sample_in_a_chosen_folder_and_opens_it(window, tmp_path, qtbot, monkeypatch):
    from functools import partial

    from PySide6.QtWidgets import QFileDialog

    from studio.dataset import sample

    chosen = tmp_path / "fresh"
    chosen.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(chosen))
    monkeypatch.setattr(sample, "build_sample_project", partial(sample.build_sample_project, count=12))
    action = next(a for a in window.menuBar().actions()[0].menu().actions() if a.text() == "New &sample project…")
    action.trigger()
    qtbot.waitUntil(lambda: window.project is not None and window.images.model.rowCount() == 12, timeout=30000)
    assert window.project.folder == chosen.resolve()
    assert "wedge" in " ".join(label.name for label in window.project.labels())


def test_split_filter_narrows_the_list(window, tmp_path, qtbot):
    create_sample_project(tmp_path / "s", count=30).close()
    window.open_project(tmp_path / "s")
    window.images.split_box.setCurrentIndex(window.images.split_box.findData("val"))
    assert window.images.model.rowCount() == 3
    window.images.split_box.setCurrentIndex(0)
    window.images.filter_bar.search.setText("0007")
    assert window.images.model.rowCount() == 30  # the search waits for a pause in the typing
    qtbot.waitUntil(lambda: window.images.model.rowCount() == 1, timeout=2000)


def test_status_change_in_the_store_repaints_the_row(window, tmp_path, qtbot):
    create_sample_project(tmp_path / "s", count=5).close()
    window.open_project(tmp_path / "s")
    view = window.images.view
    index = window.images.model.index(1)
    qtbot.waitUntil(lambda: not view.visualRect(index).isEmpty(), timeout=5000)
    before = view.viewport().grab(view.visualRect(index)).toImage()
    window.project.set_status(2, "review")
    assert window.images.model.image_at(1).status == "review"
    qtbot.waitUntil(lambda: view.viewport().grab(view.visualRect(index)).toImage() != before, timeout=5000)


def test_dropping_a_folder_imports_it_in_a_worker(window, tmp_path, qtbot):
    Project.create(tmp_path / "p").close()
    window.open_project(tmp_path / "p")
    assert "No images yet" in window.annotate.page.empty.text()
    folder = tmp_path / "pics"
    folder.mkdir()
    for i in range(5):
        Image.new("RGB", (32 + i, 32), "orange").save(folder / f"{i}.png")
    (folder / "junk.jpg").write_bytes(b"junk")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.images.model.rowCount() == 5, timeout=10000)
    qtbot.waitUntil(lambda: "skipped 1" in window.statusBar().currentMessage(), timeout=20000)
    assert "junk.jpg" in window.statusBar().currentMessage()


def test_modes_switch_and_keep_the_current_image(window, tmp_path):
    create_sample_project(tmp_path / "s", count=5).close()
    window.open_project(tmp_path / "s")
    window.images.select_image(3)
    window.mode_actions["train"].trigger()
    assert window.current_mode() == "train"
    window.mode_actions["annotate"].trigger()
    assert window.current_mode() == "annotate" and window.images.current_image_id() == 3


def test_second_window_offers_read_only(window, tmp_path, monkeypatch, settings, qtbot):
    """A project open for writing in another process is offered read-only, never opened twice for writing."""
    import subprocess
    import sys

    Project.create(tmp_path / "p").close()
    holder = subprocess.Popen([sys.executable, "-c", "import sys,time; from studio.dataset.store import Project;"
                               "p=Project.open(sys.argv[1]); print('ready', flush=True); time.sleep(30)",
                               str(tmp_path / "p")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        from PySide6.QtWidgets import QMessageBox

        asked = []
        yes = QMessageBox.StandardButton.Yes
        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or yes)
        assert window.open_project(tmp_path / "p")
        assert window.project.read_only and "already open" in asked[0]
        assert "(read-only)" in window.windowTitle()
        assert not window.import_action.isEnabled()
    finally:
        holder.kill()
        holder.wait()


def test_geometry_docks_and_recent_projects_persist(window, tmp_path, settings, qtbot):
    Project.create(tmp_path / "p").close()
    window.open_project(tmp_path / "p")
    window.annotate.docks["vqa"].hide()
    window.close()
    assert settings.value("mainWindow/geometry") == window.saveGeometry()
    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.recent_projects()[0] == str((tmp_path / "p").resolve())
    assert again.annotate.docks["vqa"].isHidden() and not again.annotate.docks["caption"].isHidden()


def test_a_saved_layout_restored_in_train_mode_keeps_the_docks_hidden(window, tmp_path, settings, qtbot):
    create_sample_project(tmp_path / "s", count=5).close()
    window.open_project(tmp_path / "s")
    window.close()  # saves a layout with every dock shown
    again = MainWindow(settings)
    qtbot.addWidget(again)
    again.show()
    again.open_project(tmp_path / "s")
    again.set_mode("train")
    qtbot.waitUntil(lambda: again.models.ready, timeout=20000)  # the late panels arrive in their hidden docks
    assert not [dock.objectName() for dock in again.findChildren(QDockWidget) if dock.isVisible()]
    again.set_mode("annotate")
    assert again.image_dock.isVisible() and again.annotate.docks["caption"].isVisible()
    again.set_project(None)


def test_file_menu_offers_dataset_import_and_export(window, tmp_path):
    from studio.ui.dataset_dialogs import ExportDatasetDialog, ImportDatasetDialog

    create_sample_project(tmp_path / "s", count=5).close()
    window.open_project(tmp_path / "s")
    window.import_dataset_action.trigger()
    window.export_dataset_action.trigger()
    kinds = (ImportDatasetDialog, ExportDatasetDialog)
    dialogs = [d for kind in kinds for d in window.findChildren(kind) if d.isVisible()]
    assert sorted(type(d).__name__ for d in dialogs) == ["ExportDatasetDialog", "ImportDatasetDialog"]
    for dialog in dialogs:
        dialog.close()


def test_model_menu_sets_the_budget_model_and_the_dock_follows(window, tmp_path, qtbot):
    create_sample_project(tmp_path / "s", count=10).close()
    window.open_project(tmp_path / "s")
    qtbot.waitUntil(lambda: window.models.ready, timeout=20000)
    window.models.menu.aboutToShow.emit()
    names = [action.text() for action in window.models.menu.actions()]
    assert names[0].startswith("Tiny built-in") and any("coming soon" in name for name in names)
    qwen = next(a for a in window.models.menu.actions() if a.text().startswith("Qwen2.5-VL 7B"))
    qwen.trigger()
    assert window.models.model_id == "qwen2.5-vl-7b" and "Qwen2.5-VL 7B" in window.models.button.text()
    assert window.models.budget_panel._model_id == "qwen2.5-vl-7b"
    assert window.settings.value("model") == "qwen2.5-vl-7b"


def test_moved_images_are_reported_and_relinked_from_the_project_menu(window, tmp_path, qtbot, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from studio.dataset.importer import import_images

    (tmp_path / "pics").mkdir()
    for i in range(3):
        Image.new("RGB", (20, 20)).save(tmp_path / "pics" / f"{i}.png")
    with Project.create(tmp_path / "p") as project:
        import_images(project, [tmp_path / "pics"])
    (tmp_path / "pics").rename(tmp_path / "moved")
    window.open_project(tmp_path / "p")
    qtbot.waitUntil(lambda: "images not found" in window.statusBar().currentMessage(), timeout=20000)
    assert "3 images not found" in window.statusBar().currentMessage()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "moved"))
    window.relink_action.trigger()  # the files are checked in workers: the window stays responsive
    qtbot.waitUntil(lambda: "Re-linked" in window.statusBar().currentMessage(), timeout=20000)
    assert "Re-linked 3 images, 3 found; 0 still missing" in window.statusBar().currentMessage()
    assert window.project.missing_images() == []
    assert window.images.model.image_at(0).path.startswith(str(tmp_path / "moved"))


def test_training_text_dock_shows_the_current_image(window, tmp_path, qtbot):
    create_sample_project(tmp_path / "s", count=5).close()
    window.open_project(tmp_path / "s")
    qtbot.waitUntil(lambda: window.models.ready, timeout=20000)
    window.models.preview_dock.show()
    window.models.preview_dock.raise_()
    from studio.adapters import get_adapter, samples_from_annotation
    from studio.budget.preview import cached_processor

    preview = window.models.training_preview
    adapter = get_adapter(window.models.model_id)
    for image_id in (2, 3):  # each image's own first sample, not whatever was shown before
        window.images.select_image(image_id)
        qtbot.waitUntil(lambda i=image_id: preview.annotation is not None and preview.annotation.image.id == i,
                        timeout=20000)
        first = samples_from_annotation(window.project.annotation(image_id))[0]
        target = adapter.training_text(first, cached_processor(adapter.entry.id)).target.strip()
        assert target in preview.text.toPlainText()


def test_training_text_behind_another_tab_builds_nothing_until_raised(window, tmp_path, qtbot, monkeypatch):
    create_sample_project(tmp_path / "s", count=5).close()
    window.open_project(tmp_path / "s")
    qtbot.waitUntil(lambda: window.models.ready, timeout=20000)
    preview = window.models.training_preview
    asked = []
    monkeypatch.setattr(preview, "show_image", lambda image_id: asked.append(image_id))
    assert window.models.preview_dock.visibleRegion().isEmpty()  # the default layout: behind the questions
    window.images.select_image(2)
    window.images.select_image(3)
    assert asked == []  # no processor loaded, no picture decoded for a panel nobody sees
    window.models.preview_dock.raise_()
    assert asked == [3]


def test_playground_and_evaluate_are_built_when_first_shown(window, tmp_path, qtbot):
    create_sample_project(tmp_path / "s", count=5).close()
    window.open_project(tmp_path / "s")
    window.images.select_image(3)
    qtbot.wait(300)
    assert isinstance(window.mode_pages["playground"], EmptyPage)  # nothing built while the project opened
    assert isinstance(window.mode_pages["evaluate"], EmptyPage)
    window.set_mode("playground")
    assert window.pages.currentWidget() is window.mode_pages["playground"] is window.playground_page
    assert window.playground_page.image_id == 3
    assert window.mode_pages["evaluate"] is window.evaluate_page


def test_train_mode_takes_the_width_and_annotate_brings_the_docks_back(window, tmp_path, qtbot):
    create_sample_project(tmp_path / "s", count=5).close()
    window.open_project(tmp_path / "s")
    qtbot.waitUntil(lambda: window.models.ready, timeout=20000)
    window.annotate.docks["vqa"].hide()  # the person closed this one
    window.set_mode("train")
    assert not window.image_dock.isVisible() and not window.annotate.docks["caption"].isVisible()
    window.set_mode("playground")
    assert window.image_dock.isVisible() and not window.annotate.docks["caption"].isVisible()
    window.set_mode("annotate")
    assert window.annotate.docks["caption"].isVisible() and window.image_dock.isVisible()
    assert not window.annotate.docks["vqa"].isVisible()


def test_first_start_builds_the_sample_aside_and_opens_it(window, tmp_path, qtbot, monkeypatch):
    from studio import app

    folder = tmp_path / "data" / "sample-project"
    (folder.parent / "sample-project.partial").mkdir(parents=True)  # left by an interrupted first start
    (folder.parent / "sample-project.partial" / "junk").write_text("half")
    monkeypatch.setattr(app, "sample_project_folder", lambda: folder)
    app.open_first_project(window, None)
    assert "Creating the built-in sample project" in window.annotate.page.empty.text()
    qtbot.waitUntil(lambda: window.project is not None, timeout=60000)
    assert window.project.folder == folder.resolve() and window.images.model.total() == 1000
    assert not (folder.parent / "sample-project.partial").exists()
    assert not window.project.missing_images()  # the stored paths moved with the folder
    assert window.statusBar().currentMessage() == app.FIRST_HINT  # what to try first


def test_a_sample_built_before_the_path_fix_is_mended_on_start(window, tmp_path, monkeypatch):
    from studio import app

    folder = tmp_path / "data" / "sample-project"
    create_sample_project(folder.with_name("sample-project.partial"), count=3).close()
    folder.with_name("sample-project.partial").rename(folder)  # what the first start did: paths still point aside
    monkeypatch.setattr(app, "sample_project_folder", lambda: folder)
    app.open_first_project(window, None)
    assert window.project.folder == folder.resolve() and not window.project.missing_images()


def test_playground_and_evaluate_list_a_run_trained_elsewhere(window, tmp_path, tiny_checkpoints):  # noqa: F811
    """A run recorded by another process (the CLI) shows up, chosen, when the user opens the Playground."""
    import json
    import shutil
    import sqlite3

    create_sample_project(tmp_path / "s", count=5).close()
    window.open_project(tmp_path / "s")
    window.set_mode("playground")
    assert window.playground_page.source.currentText().startswith("Base model")
    checkpoint = tiny_checkpoints["full"]
    shutil.copytree(checkpoint.parent.parent, tmp_path / "s" / "runs" / "cli-run")
    summary = {"best_checkpoint": f"checkpoints/{checkpoint.name}"}
    with sqlite3.connect(tmp_path / "s" / "project.vlmstudio.sqlite") as conn:
        run_id = conn.execute(
            "INSERT INTO runs (name, status, folder, config, summary) VALUES (?, 'finished', ?, ?, ?)",
            ("cli-run", "runs/cli-run", json.dumps({"model_id": "tiny"}), json.dumps(summary))).lastrowid
    window.set_mode("annotate")
    window.set_mode("playground")
    assert window.playground_page.source.currentText().startswith("cli-run — best")
    window.set_mode("evaluate")
    assert window.evaluate_page.run_box.currentText() == "cli-run"
    source = window.playground_page.source
    source.setCurrentIndex(source.findText("Base model", flags=Qt.MatchFlag.MatchStartsWith))
    window.try_run(run_id)  # the Train page's "Try in Playground"
    assert window.current_mode() == "playground" and source.currentText().startswith("cli-run — best")


def test_the_window_fits_a_laptop_screen(window, tmp_path, qtbot):
    """The right-hand docks stack their minimum heights: the tall ones scroll, so the window fits 1366 x 768."""
    create_sample_project(tmp_path / "s", count=5).close()
    window.open_project(tmp_path / "s")
    qtbot.waitUntil(lambda: window.models.ready, timeout=20000)
    for dock in (window.models.budget_dock, window.models.preview_dock):
        dock.show()
    assert window.minimumSizeHint().height() <= 720 and window.minimumSizeHint().width() <= 1366


def test_an_opened_project_takes_keys_on_the_image_not_in_the_search_field(window, tmp_path, qtbot):
    create_sample_project(tmp_path / "s", count=5).close()
    window.open_project(tmp_path / "s")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.waitUntil(lambda: window.annotate.workspace.canvas.hasFocus(), timeout=5000)
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_D)  # next image, as labelme and X-AnyLabeling do
    assert window.images.filter_bar.search.text() == ""
    qtbot.waitUntil(lambda: window.images.current_image_id() == 2, timeout=5000)
