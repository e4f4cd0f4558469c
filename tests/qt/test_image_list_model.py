"""The image list at scale: a model over SQL that holds ids and reads only the rows it paints, updates the rows an
edit touched, and runs slow filters of a large project in a worker (the newest query wins)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt

from studio.dataset.queries import ImageFilter
from studio.dataset.store import NewImage, Project
from studio.ui.image_list import ImageListPanel
from studio.ui.image_list_model import PAGE, ROW_CACHE, WORKER_FROM

IMAGES = 20_000


@pytest.fixture
def project(tmp_path):
    """A 20,000-image project written with bulk SQL (the files do not exist: thumbnails show the placeholder)."""
    project = Project.create(tmp_path / "big")
    rows = [(f"/photos/shoot/img_{i:05d}.jpg", 640, 480, 1000) for i in range(1, IMAGES + 1)]
    with project.conn:
        project.conn.execute("BEGIN")
        project.conn.executemany("INSERT INTO images (path, width, height, file_size) VALUES (?, ?, ?, ?)", rows)
    yield project
    project.close()


@pytest.fixture
def panel(qtbot, project, monkeypatch):
    """The list over the project, following its changes as the window does (``Project.images``, which reads every
    image, must not be called)."""
    monkeypatch.setattr(Project, "images", lambda *a, **k: pytest.fail("the whole project was read"))
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.resize(320, 700)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_project(project)
    unsubscribe = project.subscribe(lambda change: panel.apply_change(change) if "images" in change.tables else None)
    yield panel
    unsubscribe()
    panel.model.load(None)


def _resets(model) -> list[int]:
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(model.rowCount()))
    return resets


def test_a_large_list_holds_ids_and_reads_only_the_painted_rows(panel, qtbot):
    model = panel.model
    assert model.rowCount() == model.total() == IMAGES
    panel.view.viewport().repaint()
    assert 0 < model.cached_images() <= 2 * PAGE  # the first rows only, not 20,000 Image objects
    panel.select_image(15_000)
    panel.view.viewport().repaint()
    assert model.image_at(model.row_of(15_000)).name == "img_15000.jpg"
    for row in range(0, IMAGES, PAGE):  # scrolling through everything keeps memory bounded
        model.image_at(row)
    assert model.cached_images() <= ROW_CACHE


def test_a_status_change_repaints_its_row_only(panel, project):
    changed: list[tuple[int, int]] = []
    panel.model.dataChanged.connect(lambda first, last, *_: changed.append((first.row(), last.row())))
    panel.model.image_at(41)  # cached before the edit
    project.set_status(42, "done")
    assert changed == [(41, 41)]
    assert panel.model.image_at(41).status == "done"


def _wait_for_rows(panel, qtbot) -> None:
    qtbot.waitUntil(lambda: not panel.model.querying, timeout=10000)


def test_under_a_status_filter_an_edit_rechecks_only_its_image(panel, project, qtbot):
    panel.filter_bar.status.setCurrentIndex(panel.filter_bar.status.findData("todo"))
    _wait_for_rows(panel, qtbot)
    assert panel.model.rowCount() == IMAGES
    panel.select_image(100)
    with qtbot.waitSignal(panel.model.rowsRemoved) as removed:
        project.set_status(7, "done")
    assert removed.args[1:] == [6, 6] and panel.model.row_of(7) is None
    project.set_status(100, "done")  # the image being shown stays until the filter is applied again
    assert panel.current_image_id() == 100 and panel.model.rowCount() == IMAGES - 1
    with qtbot.waitSignal(panel.model.rowsInserted) as inserted:
        project.set_status(7, "todo")
    assert inserted.args[1:] == [6, 6] and panel.model.row_of(7) == 6


def test_images_added_append_rows(panel, project, qtbot):
    with qtbot.waitSignal(panel.model.rowsInserted) as inserted:
        project.add_images([NewImage(f"/photos/new/{i}.jpg", 10, 10) for i in range(3)])
    assert inserted.args[1:] == [IMAGES, IMAGES + 2]
    assert panel.model.total() == IMAGES + 3 and panel.model.image_at(IMAGES + 2).name == "2.jpg"
    panel.split_box.setCurrentIndex(panel.split_box.findData("train"))
    _wait_for_rows(panel, qtbot)
    assert panel.model.rowCount() == 0
    project.add_images([NewImage("/photos/new/3.jpg", 10, 10)])  # in no split: filtered out
    assert panel.model.rowCount() == 0 and panel.model.total() == IMAGES + 4


def test_a_large_project_filters_in_a_worker_and_keeps_the_rows_until_then(panel, qtbot):
    assert panel.model.total() > WORKER_FROM
    resets = _resets(panel.model)
    panel.filter_bar.search.setText("img_1234")
    assert resets == [] and panel.model.rowCount() == IMAGES  # typing waits for a pause
    qtbot.waitUntil(lambda: panel.model.querying, timeout=2000)
    assert panel.model.rowCount() == IMAGES and not panel.hint.isHidden()  # the old rows, and a hint
    _wait_for_rows(panel, qtbot)
    assert resets == [10] and panel.hint.isHidden()  # img_12340 to img_12349
    assert panel.model.image_at(0).name == "img_12340.jpg"


def test_a_newer_filter_supersedes_a_running_one(panel, qtbot):
    model = panel.model
    resets = _resets(model)
    model.set_filter(ImageFilter(text="img_0"))  # slow: in a worker
    model.set_filter(ImageFilter(text="img_1999"))  # asked while the first runs: the first one's rows are dropped
    assert model.querying
    qtbot.waitUntil(lambda: not model.querying, timeout=10000)
    qtbot.wait(50)
    assert resets == [10]
    model.set_filter(ImageFilter(text="img_0"))
    model.load(model.project)  # reading the project at once drops the worker's answer
    assert model.rowCount() == IMAGES and not model.querying
    qtbot.waitUntil(lambda: not model._query._slot.busy, timeout=10000)
    qtbot.wait(50)
    assert model.rowCount() == IMAGES and resets == [10, IMAGES]


def test_stepping_and_selecting_keep_working(panel, qtbot):
    shown: list[int] = []
    panel.image_activated.connect(shown.append)
    panel.select_image(500)
    panel.step(1)
    panel.step(1)
    panel.step(-1)
    assert shown == [500, 501, 502, 501] and panel.current_image_id() == 501
    panel.view.setFocus()
    qtbot.keyClick(panel.view, Qt.Key.Key_Down)
    assert panel.current_image_id() == 502
    model = panel.model
    selection = QItemSelection(model.index(model.row_of(600)), model.index(model.row_of(602)))
    panel.view.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    assert panel.selected_image_ids() == [600, 601, 602]
    panel.apply_filter(only={600, 601, 2})  # a filter keeps the current image when it passes
    _wait_for_rows(panel, qtbot)
    assert [model.image_at(row).id for row in range(model.rowCount())] == [2, 600, 601]
    panel.select_image(601)
    panel.split_box.setCurrentIndex(panel.split_box.findData("unassigned"))
    _wait_for_rows(panel, qtbot)
    assert panel.current_image_id() == 601 and shown[-1] == 601


def test_reveal_clears_the_filters_and_selects_once_the_rows_arrive(panel, qtbot):
    panel.split_box.setCurrentIndex(panel.split_box.findData("train"))
    _wait_for_rows(panel, qtbot)
    assert panel.model.rowCount() == 0
    with qtbot.waitSignal(panel.image_activated, timeout=10000) as shown:
        panel.reveal(1234)
    assert shown.args == [1234] and panel.current_image_id() == 1234 and panel.split_box.currentIndex() == 0
