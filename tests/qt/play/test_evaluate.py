"""The evaluate page: evaluation in a worker fills the table and chart; the gallery is worst first and opens
images in Annotate."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.ui import theme
from studio.ui.evaluate import EvaluatePage
from tests.qt.play.conftest import save_shot


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
    scores = [float(page.gallery.item(i).text().split(" ")[1]) for i in range(page.gallery.count())]
    assert scores == sorted(scores)
    page.task_box.setCurrentIndex(2)  # VQA only
    assert all(page.gallery.item(i).text().startswith("ANLS") for i in range(page.gallery.count()))
    page.task_box.setCurrentIndex(0)
    save_shot(page, "evaluate.png")
    with qtbot.waitSignal(page.open_image) as signal:
        item = page.gallery.item(0)
        page.gallery.itemClicked.emit(item)
    assert signal.args[0] == item.data(Qt.ItemDataRole.UserRole)
    assert signal.args[0] in {i.id for i in sample_project.images(split="val")}


def test_a_runs_start_is_evaluated_beside_it(qtbot, page):
    evaluate(qtbot, page, "full-run")
    page.checkpoint_box.setCurrentText("start")
    assert not page.export_button.isEnabled()  # the start is the base model, not the run's to export
    evaluate(qtbot, page, "full-run")
    titles = sorted(page.table.item(r, 0).text() for r in range(page.table.rowCount()))
    assert titles == ["full-run (start)", "full-run (step-000010)"]
    assert page.checkpoint_box.currentText() == "start"  # the choice outlives the table's refresh
    start_row = next(r for r in range(2) if page.table.item(r, 0).text() == "full-run (start)")
    page.table.selectRow(start_row)
    run, key = page.selected_row()
    assert run.name == "full-run" and key == "val@start" and page.gallery.count() > 0
    page.checkpoint_box.setCurrentText("best")
    assert page.export_button.isEnabled()


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
