"""The playground and evaluate pages inside the main window: they follow the project and the selected image,
and the evaluation gallery opens an image in Annotate."""

from __future__ import annotations

from studio.dataset.store import Project
from tests.qt.play.conftest import save_shot


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
    window.evaluate_page.open_image.emit(other.id)
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
