"""The playground and evaluate pages inside the main window: they follow the project and the selected image,
and the evaluation gallery opens an image in Annotate."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.dataset.store import Project
from studio.evaluation.run_eval import START
from studio.ui.overlay import PREDICTION_COLOUR
from tests.qt.play.conftest import add_stepped_run, record_fake_evaluation
from tests.qt.play.test_evaluate import fake_results
from tests.screenshots import save_shot
from tests.unit.inference.conftest import tiny_checkpoints  # noqa: F401 (fixture)


def test_pages_follow_the_window(qtbot, window, sample_project):
    folder = sample_project.folder
    sample_project.close()
    window.set_project(Project.open(folder))
    image = window.project.images()[3]
    window.images.select_image(image.id)
    window.set_mode("playground")
    assert window.playground_page.image_id == image.id
    assert window.playground_page.source.currentText().startswith("full-run — best")  # the newest run
    window.set_mode("evaluate")
    assert window.evaluate_page.run_box.count() == 2
    other = window.project.images()[5]
    window.evaluate_page.open_image.emit(other.id, [], "")
    assert window.current_mode() == "annotate" and window.images.current_image_id() == other.id
    window.set_mode("playground")
    save_shot(window, "main_window_playground.png")
    window.images.select_image(image.id)
    assert window.playground_page.selected_images() == [image.id]
    window.playground_page.suggestions.scope.setCurrentIndex(1)
    assert window.playground_page.suggestions.scope.currentData() == "selected"


def test_added_predictions_undo_with_the_annotation_stack(qtbot, window, sample_project):
    from studio.adapters.boxes import ParsedBox
    from studio.inference.predictor import Prediction

    folder = sample_project.folder
    sample_project.close()
    window.set_project(Project.open(folder))
    image = window.project.images()[1]
    window.images.select_image(image.id)
    page = window.playground_page
    before = len(window.project.boxes(image.id))
    page._answered(Prediction(text="…", boxes=[ParsedBox("blue square", (1.0, 2.0, 30.0, 40.0))]))
    page.add_to_annotations()
    assert len(window.project.boxes(image.id)) == before + 1
    assert window.annotate.undo_stack.undoText() == "Add predicted boxes"
    window.annotate.undo_stack.undo()
    assert len(window.project.boxes(image.id)) == before
    window.annotate.undo_stack.redo()
    page.undo_add()
    assert len(window.project.boxes(image.id)) == before


@pytest.fixture
def evaluated_window(qtbot, window, sample_project, tiny_checkpoints):  # noqa: F811
    """The window at its default size on a project whose run "default-1" has its best and its start evaluated."""
    run_id = add_stepped_run(sample_project, "default-1", tiny_checkpoints["lora"])
    results = fake_results(sample_project)
    record_fake_evaluation(sample_project, run_id, "checkpoints/step-001200", results)
    record_fake_evaluation(sample_project, run_id, START, results, scale=0.7)
    folder = sample_project.folder
    sample_project.close()
    window.resize(1400, 860)  # the first start's size
    window.set_project(Project.open(folder))
    return window


def test_the_evaluation_table_fits_the_default_window(qtbot, evaluated_window):
    window = evaluated_window
    window.set_mode("evaluate")
    table = window.evaluate_page.table
    qtbot.waitUntil(lambda: table.viewport().width() > 0 and table.isVisible())
    qtbot.wait(50)  # the layout settles
    save_shot(window, "main_window_evaluate.png")
    assert table.rowCount() == 2
    assert not table.horizontalScrollBar().isVisible()
    header = table.horizontalHeader()
    assert header.length() <= table.viewport().width()
    metrics = table.fontMetrics()
    for col in range(1, table.columnCount()):  # every number and header shows whole
        assert header.sectionSize(col) >= metrics.horizontalAdvance(table.horizontalHeaderItem(col).text())
    longest = max(metrics.horizontalAdvance(table.item(r, 0).text()) for r in range(table.rowCount()))
    assert header.sectionSize(0) >= longest  # the run's name is not elided


def test_a_tile_opens_annotate_with_the_prediction_until_the_image_changes(qtbot, evaluated_window):
    from studio.ui.annotate.box_item import BoxItem, BoxStyle

    window = evaluated_window
    window.set_mode("evaluate")
    page = window.evaluate_page
    page.task_box.setCurrentIndex(1)  # grounding tiles
    item = page.gallery.item(0)
    page.gallery.itemClicked.emit(item)
    image_id = item.data(Qt.ItemDataRole.UserRole)
    assert window.current_mode() == "annotate" and window.images.current_image_id() == image_id
    canvas = window.annotate.workspace.canvas

    def predicted() -> list[BoxItem]:
        return [i for i in canvas.scene().items() if isinstance(i, BoxItem) and i.style is BoxStyle.PREDICTION]

    red = next(label for label in window.project.labels() if label.name == "red wedge")
    assert sorted((i.name, i.color.name()) for i in predicted()) == [
        ("a purple star", PREDICTION_COLOUR), ("a red wedge", red.color.lower())]
    assert all(i.isVisible() for i in predicted())
    assert "predicted boxes" in window.statusBar().currentMessage()
    save_shot(window, "main_window_annotate_prediction.png")
    other = next(i.id for i in window.project.images() if i.id != image_id)
    window.images.select_image(other)
    assert predicted() == []
