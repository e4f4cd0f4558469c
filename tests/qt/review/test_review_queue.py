"""The Review queue dock in the main window: worst first, filtered by kind, Enter shows the suspect, Y accepts the
model's fix as one undo step, N dismisses for good, S skips; an empty queue says what to do."""

from __future__ import annotations

from PySide6.QtCore import Qt

from studio.dataset.store import Project
from studio.review.items import NewReviewItem, review_items, store_review
from studio.review.run_review import ReviewSummary
from studio.ui.annotate.box_item import BoxStyle
from studio.ui.annotate.shortcuts_dialog import ShortcutsDialog
from studio.ui.review.dock import NO_PROJECT, NO_RUNS, NOT_REVIEWED
from studio.ui.review.queue_model import ITEM_ROLE


def open_review(window, qtbot, folder):
    assert window.open_project(folder)
    dock = window.review.dock
    dock.show()
    dock.raise_()
    window.activateWindow()
    qtbot.waitUntil(dock.isVisible)
    return dock


def rows(dock) -> list:
    return [dock.filtered.index(row, 0).data(ITEM_ROLE) for row in range(dock.filtered.rowCount())]


def test_the_queue_lists_the_open_suspects_worst_first_and_filters_by_kind(window, qtbot, reviewed):
    dock = open_review(window, qtbot, reviewed.folder)
    assert dock.run_box.currentText() == "lora-1 · reviewed"
    assert [item.kind for item in rows(dock)] == [
        "misplaced",
        "wrong_answer",
        "missing",
        "wrong_label",
        "wrong_link",
        "spurious",
    ]
    assert dock.stack.currentWidget() is dock.view
    assert dock.kind_box.itemText(0) == "All kinds (6)"
    dock.kind_box.setCurrentIndex(dock.kind_box.findData("wrong_answer"))
    assert [item.kind for item in rows(dock)] == ["wrong_answer"]
    assert dock.kind_box.currentText() == "Wrong answer (1)"


def test_enter_shows_the_image_with_the_box_selected_and_the_models_box_dashed(window, qtbot, reviewed):
    dock = open_review(window, qtbot, reviewed.folder)
    window.images.select_image(reviewed.images["second"])
    dock.select_row(0)
    dock.view.setFocus()
    qtbot.keyClick(dock.view, Qt.Key.Key_Return)
    workspace = window.annotate.workspace
    assert workspace.image_id == reviewed.images["scene"]
    assert workspace.canvas.selected_box_ids() == [reviewed.boxes["ball"]]
    overlays = workspace.canvas.boxes._overlays
    assert len(overlays) == 1 and overlays[0].style is BoxStyle.SUGGESTION
    assert overlays[0].rect().getCoords() == (198, 110, 237, 146)
    assert overlays[0].name == "ball 91%"
    assert dock.view.hasFocus()  # the keys keep working on the queue


def test_accept_moves_the_box_and_marks_the_item_in_one_undo_step(window, qtbot, reviewed):
    dock = open_review(window, qtbot, reviewed.folder)
    dock.select_row(0)
    dock.show_current()
    stack = window.annotate.undo_stack
    before = stack.count()
    qtbot.keyClick(dock.view, Qt.Key.Key_Y)
    project = window.project
    ball = next(b for b in project.boxes(reviewed.images["scene"]) if b.id == reviewed.boxes["ball"])
    assert ball.xyxy == (198, 110, 237, 146)
    assert stack.count() == before + 1
    assert [i.id for i in review_items(project, states=("accepted",))] == [reviewed.items["misplaced"]]
    assert "misplaced" not in [item.kind for item in rows(dock)]
    assert dock.current_item().kind == "wrong_answer"  # the next suspect, shown
    assert window.annotate.workspace.vqa_panel.selected_pair().id == reviewed.vqa_id
    stack.undo()
    ball = next(b for b in project.boxes(reviewed.images["scene"]) if b.id == reviewed.boxes["ball"])
    assert ball.xyxy == (100, 100, 140, 140)
    assert review_items(project, states=("accepted",)) == []
    assert rows(dock)[0].kind == "misplaced"  # back in the queue


def test_dismiss_is_remembered_after_reopening_and_skip_moves_on(window, qtbot, reviewed):
    dock = open_review(window, qtbot, reviewed.folder)
    dock.select_row(0)
    qtbot.keyClick(dock.view, Qt.Key.Key_S)
    assert dock.current_item().kind == "wrong_answer"
    assert window.annotate.workspace.image_id == reviewed.images["scene"]
    qtbot.keyClick(dock.view, Qt.Key.Key_N)
    assert dock.current_item().kind == "missing"
    assert window.annotate.workspace.image_id == reviewed.images["second"]
    window.set_project(None)
    assert dock.empty.text() == NO_PROJECT
    dock = open_review(window, qtbot, reviewed.folder)
    assert "wrong_answer" not in [item.kind for item in rows(dock)]
    assert len(rows(dock)) == 5


def test_an_empty_queue_says_what_to_do(window, qtbot, reviewed, tmp_path):
    with Project.create(tmp_path / "fresh"):
        pass
    dock = open_review(window, qtbot, tmp_path / "fresh")
    assert dock.stack.currentWidget() is dock.empty
    assert dock.empty.text() == NO_RUNS
    assert not dock.find_button.isEnabled()
    with Project.open(reviewed.folder) as project:
        project.conn.execute("DELETE FROM review_items")
        project.conn.execute("DELETE FROM review_done")
        project.conn.commit()
    dock = open_review(window, qtbot, reviewed.folder)
    assert dock.empty.text() == NOT_REVIEWED
    assert dock.find_button.isEnabled()


def test_the_shortcuts_dialog_lists_the_review_keys(qtbot):
    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    listed = dict(dialog.rows())
    assert listed["Skip to the next suspect"] == "S"
    assert any(keys == "Y" for keys in listed.values())


def test_suspects_of_a_deleted_box_leave_the_queue_and_a_finished_queue_says_so(window, qtbot, reviewed):
    dock = open_review(window, qtbot, reviewed.folder)
    workspace = window.annotate.workspace
    window.images.select_image(reviewed.images["scene"])
    workspace.canvas.select_boxes([reviewed.boxes["ball"]])
    workspace.delete_selected()
    assert [item.kind for item in rows(dock)] == ["wrong_answer", "missing", "wrong_label", "spurious"]
    window.annotate.undo_stack.undo()
    assert len(rows(dock)) == 6
    for _ in range(6):
        dock.select_row(0)
        dock.dismiss_current()
    assert dock.stack.currentWidget() is dock.empty
    assert dock.empty.text().startswith("No open suspects — all 6 suspects accepted or dismissed")


def test_find_mistakes_runs_the_review_in_a_worker_and_lists_what_it_wrote(window, qtbot, reviewed, monkeypatch):
    """The core's review_project is replaced by a fake that writes one suspect (no model)."""
    calls = []

    def review_project(project, run_id, *, restart=False, threads=None, progress, cancel):
        calls.append((run_id, restart, threads))
        progress(0, 1, "predicting")
        store_review(project, run_id, [reviewed.images["second"]],
                     [NewReviewItem(reviewed.images["second"], "missing", 0.99, "a second ball",
                                    {"box": [1, 1, 20, 20], "label": "ball", "confidence": 0.99})])  # fmt: skip
        progress(1, 1, "done")
        return ReviewSummary(run_id, "lora-1", images=1, items_by_kind={"missing": 1})

    monkeypatch.setattr("studio.review.run_review.review_project", review_project)
    dock = open_review(window, qtbot, reviewed.folder)
    qtbot.mouseClick(dock.find_button, Qt.MouseButton.LeftButton)
    assert dock.busy and dock.find_button.text() == "Stop"
    assert window.jobs_bar.label.text().startswith("Finding mistakes with lora-1")
    qtbot.waitUntil(lambda: not dock.busy, timeout=10000)
    assert calls == [(reviewed.run_id, False, 0)]  # resumes; leaves a core to the window
    assert window.statusBar().currentMessage() == "Review with lora-1 done: 1 image checked, 1 suspect found"
    assert dock.find_button.text() == "Find mistakes"
    assert rows(dock)[0].message == "a second ball"
    assert len(rows(dock)) == 5  # the old spurious/missing of that image were replaced by the new finding
    assert dock.again_button.isVisible()
    qtbot.mouseClick(dock.again_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dock.busy, timeout=10000)
    assert calls[-1] == (reviewed.run_id, True, 0)


def test_the_queue_names_only_the_images_it_lists(window, qtbot, reviewed, monkeypatch):
    """Opening a project never reads every image row (100,000 of them in a big project) for the names."""
    monkeypatch.setattr(Project, "images", lambda *a, **k: (_ for _ in ()).throw(AssertionError("read all images")))
    dock = open_review(window, qtbot, reviewed.folder)
    listed = {item.image_id for item in rows(dock)}
    assert listed and set(dock.model.names) == listed
    assert all(dock.model.image_name(i).endswith(".png") for i in listed)
