"""The evaluate page: evaluation in a worker fills the table and chart; the gallery is worst first and opens
images in Annotate."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from studio.evaluation.run_eval import START, SampleResult
from studio.ui import theme
from studio.ui.evaluate import EvaluatePage
from studio.ui.evaluate.page import RIGHT_COLOUR, WRONG_COLOUR
from studio.ui.overlay import PREDICTION_COLOUR
from tests.qt.play.conftest import add_stepped_run, record_fake_evaluation
from tests.screenshots import save_shot
from tests.unit.inference.conftest import tiny_checkpoints  # noqa: F401 (fixture)


@pytest.fixture
def page(qtbot, qapp, sample_project):
    theme.apply(qapp)
    widget = EvaluatePage(sample_project)
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    yield widget
    if widget.job is not None:
        widget.job.cancel()
        widget.job.wait()


def evaluate(qtbot, page, run: str) -> None:
    page.run_box.setCurrentText(run)
    qtbot.mouseClick(page.evaluate_button, Qt.MouseButton.LeftButton)
    assert page.job is not None and page.progress.isVisible()
    qtbot.waitUntil(lambda: page.job is None, timeout=120000)


def test_evaluations_fill_the_table_and_gallery(qtbot, page, sample_project):
    assert page.table.rowCount() == 0 and not page.empty.isHidden()
    evaluate(qtbot, page, "lora-run")
    assert page.table.rowCount() == 1 and page.empty.isHidden()
    assert page.message.text().startswith("Evaluated")
    evaluate(qtbot, page, "full-run")
    assert page.table.rowCount() == 2
    names = {page.table.item(r, 0).text().split(" ")[0] for r in range(2)}
    assert names == {"lora-run", "full-run"}
    assert page.gallery.count() > 0
    scores = [float(re.search(r"(?:F1|ANLS) (\d\.\d+)", page.gallery.item(i).text()).group(1))
              for i in range(page.gallery.count())]
    assert scores == sorted(scores)
    def tiles() -> list[str]:
        return [page.gallery.item(i).text() for i in range(page.gallery.count())]

    page.task_box.setCurrentIndex(2)  # VQA only
    vqa = tiles()
    assert vqa and all(text[:7] in ("✓ ANLS ", "✗ ANLS ") for text in vqa)  # not all() over an empty gallery
    page.task_box.setCurrentIndex(1)  # grounding only
    grounding = tiles()
    assert grounding and all(text.startswith("F1 ") for text in grounding)
    page.task_box.setCurrentIndex(0)
    save_shot(page, "evaluate.png")
    with qtbot.waitSignal(page.open_image) as signal:
        item = page.gallery.item(0)
        page.gallery.itemClicked.emit(item)
    assert signal.args[0] == item.data(Qt.ItemDataRole.UserRole)
    assert all(box.style == "prediction" for box in signal.args[1]) and signal.args[2]
    assert signal.args[0] in {i.id for i in sample_project.images(split="val")}


def test_a_runs_start_is_evaluated_beside_it(qtbot, page):
    evaluate(qtbot, page, "full-run")
    page.checkpoint_box.setCurrentText("start (before training)")
    assert not page.export_button.isEnabled()  # the start is the base model, not the run's to export
    evaluate(qtbot, page, "full-run")
    titles = sorted(page.table.item(r, 0).text() for r in range(page.table.rowCount()))
    assert titles == ["full-run — best and last (step 10)", "full-run — start (before training)"]
    assert page.checkpoint() == "start"  # the choice outlives the table's refresh
    start_row = next(r for r in range(2) if page.table.item(r, 0).text() == "full-run — start (before training)")
    page.table.selectRow(start_row)
    run, key = page.selected_row()
    assert run.name == "full-run" and key == "val@start" and page.gallery.count() > 0
    page.checkpoint_box.setCurrentIndex(0)
    assert page.checkpoint() == "best" and page.export_button.isEnabled()


def test_cancel_stops_the_evaluation(qtbot, page):
    page.run_box.setCurrentText("lora-run")
    page.evaluate()
    page.cancel()
    qtbot.waitUntil(lambda: page.job is None, timeout=120000)
    assert page.message.text() == "Evaluation cancelled"
    assert page.table.rowCount() == 0


def test_export_dialog_writes_the_adapter_and_shows_the_vllm_command(qtbot, page, tmp_path):
    page.run_box.setCurrentText("lora-run")
    dialog = page.open_export()
    qtbot.addWidget(dialog)
    dialog.folder.setText(str(tmp_path / "exported"))
    dialog.export()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=60000)
    assert (tmp_path / "exported" / "adapter_config.json").is_file()
    assert "--lora-modules lora-run=" in dialog.output.toPlainText()
    assert '"role": "system"' in dialog.output.toPlainText()
    save_shot(dialog, "export_dialog.png")
    dialog.export()  # the folder is not empty now: a sentence, not a crash
    qtbot.waitUntil(lambda: dialog.job is None, timeout=60000)
    assert "not empty" in dialog.status.text()


def fake_results(project) -> list[SampleResult]:
    first, second = [image.id for image in project.images(split="val")][:2]
    return [
        SampleResult(first, "grounding", "Locate a red wedge.", '[{"bbox_2d": [40, 40, 180, 200], ...}]',
                     [["a red wedge", [[10.0, 10.0, 60.0, 60.0]]]],
                     [["a red wedge", [12.0, 14.0, 58.0, 66.0]], ["a purple star", [70.0, 70.0, 100.0, 100.0]]],
                     0.4, 0.6),
        SampleResult(second, "vqa", "How many shapes are there?", "2", "3", [], 0.0),
        SampleResult(second, "vqa", "What colour is the ball?", "blue", "blue", [], 1.0),
    ]


@pytest.fixture
def evaluated(sample_project, tiny_checkpoints):  # noqa: F811
    """A run with several checkpoints, its best and its start evaluated (stored results, no model run)."""
    run_id = add_stepped_run(sample_project, "default-1", tiny_checkpoints["lora"])
    results = fake_results(sample_project)
    record_fake_evaluation(sample_project, run_id, "checkpoints/step-001200", results)
    record_fake_evaluation(sample_project, run_id, START, results, scale=0.7)
    return run_id


def test_rows_and_chart_say_which_model_is_trained(page, evaluated):
    page.refresh()
    titles = sorted(page.table.item(r, 0).text() for r in range(page.table.rowCount()))
    assert titles == ["default-1 — best (step 1,200)", "default-1 — start (before training)"]
    assert sorted(page.chart.names) == ["default-1 (before training)", "default-1 (trained, best)"]
    headers = [page.table.horizontalHeaderItem(c) for c in range(page.table.columnCount())]
    assert all(h.toolTip() for h in headers) and max(len(h.text()) for h in headers) <= 7
    page.run_box.setCurrentText("default-1")
    offered = [page.checkpoint_box.itemText(i) for i in range(page.checkpoint_box.count())]
    assert offered == ["best (step 1,200, val loss 0.69)", "last (step 1,650, val loss 0.71)",
                       "step 400 (val loss 0.95)", "step 800 (val loss 0.78)", "start (before training)"]
    page.checkpoint_box.setCurrentIndex(2)
    assert page.checkpoint() == "step-000400" and page.export_button.isEnabled()
    page.checkpoint_box.setCurrentIndex(4)
    assert page.checkpoint() == "start" and not page.export_button.isEnabled()


def test_question_tiles_show_the_expected_and_the_models_answer(page, evaluated):
    page.refresh()
    page.task_box.setCurrentIndex(2)  # VQA only
    tiles = {page.gallery.item(i).text(): page.gallery.item(i) for i in range(page.gallery.count())}
    wrong = next(t for t in tiles if "How many" in t)
    right = next(t for t in tiles if "colour" in t)
    assert wrong.startswith("✗") and wrong.endswith("expected: 3 · model: 2")
    assert right.startswith("✓") and right.endswith("expected: blue · model: blue")
    assert tiles[wrong].foreground().color() == QColor(WRONG_COLOUR)
    assert tiles[right].foreground().color() == QColor(RIGHT_COLOUR)


def test_a_tile_opens_its_image_with_the_prediction(qtbot, page, evaluated, sample_project):
    page.refresh()
    page.task_box.setCurrentIndex(1)  # grounding
    item = page.gallery.item(0)
    with qtbot.waitSignal(page.open_image) as signal:
        page.gallery.itemClicked.emit(item)
    image_id, boxes, note = signal.args
    red = next(label for label in sample_project.labels() if label.name == "red wedge")
    assert image_id == item.data(Qt.ItemDataRole.UserRole)
    assert [(b.label, b.colour, b.style) for b in boxes] == [("a red wedge", red.color, "prediction"),
                                                             ("a purple star", PREDICTION_COLOUR, "prediction")]
    assert "2 predicted boxes" in note and "F1 0.40" in note
