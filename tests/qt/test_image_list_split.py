"""Splitting one's own images from the window: the image list's context menu (split, pin, status, box labels of a
multi-selection, each one undoable edit) and Project > Split project… running the core in a worker."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel
from PySide6.QtWidgets import QMenu

from studio.dataset.sample import create_sample_project
from studio.dataset.splits import assign_splits
from studio.dataset.store import Project
from studio.ui.split_dialog import SplitDialog
from tests.screenshots import save_shot


@pytest.fixture
def opened(window, tmp_path):
    create_sample_project(tmp_path / "s", count=12).close()
    assert window.open_project(tmp_path / "s")
    return window


def _select_rows(window, first: int, last: int) -> list[int]:
    view, model = window.images.view, window.images.model
    selection = QItemSelection(model.index(first), model.index(last))
    view.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    return window.images.selected_image_ids()


def _action(menu: QMenu, *path: str):
    for text in path[:-1]:
        menu = next(a.menu() for a in menu.actions() if a.menu() and a.text().startswith(text))
    return next(a for a in menu.actions() if a.text().startswith(path[-1]))


def _splits(project: Project, ids) -> list[tuple[str, bool]]:
    return [(project.image(i).split, project.image(i).split_pinned) for i in ids]


def test_the_context_menu_sets_split_pin_and_status_of_the_selection(opened, qtbot):
    window, project = opened, opened.project
    ids = _select_rows(window, 1, 3)
    assert len(ids) == 3
    before = _splits(project, ids)
    menu = window.images.context_menu()
    assert menu.actions()[0].text() == "3 images selected"
    _action(menu, "Split", "Test").trigger()
    assert _splits(project, ids) == [("test", True)] * 3  # a choice by hand is pinned
    assert [window.images.model.image_at(row).split for row in (1, 2, 3)] == ["test"] * 3  # the rows at once
    assert window.statusBar().currentMessage() == "Move 3 images to test"
    window.annotate.undo_stack.undo()
    assert _splits(project, ids) == before and window.images.model.image_at(1).split == before[0][0]
    window.annotate.undo_stack.redo()

    pin = _action(window.images.context_menu(), "Split", "Pinned")
    assert pin.isChecked()
    pin.trigger()
    assert _splits(project, ids) == [("test", False)] * 3
    assert not _action(window.images.context_menu(), "Split", "Pinned").isChecked()
    assert _action(window.images.context_menu(), "Split", "Test").isChecked()

    _action(window.images.context_menu(), "Status", "Review").trigger()
    assert {project.image(i).status for i in ids} == {"review"}
    assert window.images.model.image_at(2).status == "review"
    window.annotate.undo_stack.undo()
    assert {project.image(i).status for i in ids} == {"done"}

    boxes = [box for i in ids for box in project.boxes(i)]
    relabel = _action(window.images.context_menu(), f"Relabel every box ({len(boxes)})", "blue ball")
    relabel.trigger()
    ball = next(label.id for label in project.labels() if label.name == "blue ball")
    assert {box.label_id for i in ids for box in project.boxes(i)} == {ball}
    window.annotate.undo_stack.undo()
    assert [box.label_id for i in ids for box in project.boxes(i)] == [box.label_id for box in boxes]

    _action(window.images.context_menu(), "Split", "No split").trigger()
    assert _splits(project, ids) == [("", True)] * 3  # left out on purpose: a re-split keeps them out


def test_the_context_menu_follows_the_row_under_a_right_click_and_respects_read_only(window, tmp_path):
    create_sample_project(tmp_path / "s", count=4).close()
    window.open_project(tmp_path / "s", read_only=True)
    _select_rows(window, 0, 0)
    menu = window.images.context_menu()
    assert menu.actions()[0].text() == "shapes_0000.jpg"
    assert not _action(menu, "Split", "Train").isEnabled()
    assert not _action(menu, "Status", "Done").isEnabled()


def test_split_project_runs_the_core_in_a_worker_as_one_undoable_edit(opened, qtbot, tmp_path):
    window, project = opened, opened.project
    new = [image.id for image in project.images()][6:]
    project.set_split(new, "")  # as if imported after the sample was split
    kept = _splits(project, range(1, 7))
    window.split_action.trigger()
    dialog = window.findChild(SplitDialog)
    assert dialog is not None and dialog.only_unsplit.isChecked()  # new images join; the others keep theirs
    assert "no split 6" in dialog.current.text() and "Only the 6 images in no split" in dialog.only_unsplit.text()
    dialog.seed.setValue(5)
    dialog.split_button.click()
    qtbot.waitUntil(lambda: "Split:" in dialog.report.toPlainText() and not dialog.busy, timeout=20000)
    assert "6 images changed split" in dialog.report.toPlainText()
    assert "Images with each label per split:" in dialog.report.toPlainText()
    assert _splits(project, range(1, 7)) == kept
    after = _splits(project, new)
    assert all(split for split, _pinned in after)
    assert [window.images.model.image_at(row).split for row in range(6, 12)] == [s for s, _ in after]
    assert "no split 0" in dialog.current.text()
    save_shot(dialog, "split_dialog.png")
    dialog.close()

    window.annotate.undo_stack.undo()  # the whole split is one edit
    assert _splits(project, new) == [("", False)] * 6
    assert window.images.model.image_at(6).split == ""
    assert assign_splits(project, 0.8, 0.1, 0.1, seed=5, only_unsplit=True).assigned == 6
    assert _splits(project, new) == after  # what `vlm-studio split --only-unsplit --seed 5` gives


def test_split_now_on_the_train_page_opens_the_dialog_for_the_images_without_a_split(opened, qtbot):
    window = opened
    window.project.set_split([1, 2], "")
    window.set_mode("train")
    window.mode_pages["train"].split_requested.emit()
    dialog = window.findChild(SplitDialog)
    assert dialog is not None and dialog.isVisible() and dialog.only_unsplit.isChecked()
    dialog.close()
