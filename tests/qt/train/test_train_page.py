"""The Train page: the default workflow in the form, validation, Start / Stop / Resume with live curves, and an
offscreen screenshot in artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from studio.dataset.sample import create_sample_project
from studio.training import runs
from studio.training.config import WorkflowConfig
from studio.ui import theme
from studio.ui.train import TrainPage
from studio.ui.train.runs_panel import RunsPanel
from tests.screenshots import save_shot


@pytest.fixture
def page(qtbot, qapp, tmp_path):
    theme.apply(qapp)
    project = create_sample_project(tmp_path / "shapes", count=24)
    widget = TrainPage(project)
    qtbot.addWidget(widget)
    widget.resize(1400, 850)
    widget.show()
    yield widget
    widget.shutdown()
    project.close()


def test_the_form_holds_the_default_workflow_and_validates(page, qtbot):
    assert page.workflow_box.currentText() == "default"
    config = page.form.config()
    assert config.model_id == "tiny" and config.mode == "full"
    assert page.start_button.isEnabled() and not page.stop_button.isEnabled() and not page.try_button.isEnabled()
    page.form.editors["batch_size"][1].setValue(8)
    page.form.editors["train_split"][1].setCurrentIndex(page.form.editors["train_split"][1].findData("val"))
    qtbot.waitUntil(lambda: "must differ" in page.check_label.text(), timeout=10000)
    assert not page.start_button.isEnabled()
    page.form.editors["train_split"][1].setCurrentIndex(0)
    qtbot.waitUntil(lambda: "Ready on" in page.check_label.text(), timeout=3000)
    assert page.start_button.isEnabled()
    assert "Ready on <b>cpu</b> · memory estimate at most" in page.check_label.text()  # no "GPU" on a CPU
    page.data_button.click()
    qtbot.waitUntil(lambda: "validation samples" in page.data_label.text() and page.data_job is None, timeout=60000)
    worst = float(re.search(r"at most ([\d.]+) GiB", page.check_label.text()).group(1))
    for_data = float(re.search(r"for this data: ([\d.]+) GiB", page.data_label.text()).group(1))
    assert worst >= for_data > 0  # the settings' worst case bounds what the data needs
    page.form.editors["max_seq_len"][1].setValue(60)
    page.data_button.click()
    qtbot.waitUntil(lambda: "exceed max sequence length 60" in page.data_label.text(), timeout=60000)


def test_lora_settings_are_greyed_out_for_full_fine_tuning(page):
    rank, mode = page.form.editors["lora_r"][1], page.form.editors["mode"][1]
    assert mode.currentData() == "full" and not rank.isEnabled() and not page.form.labels["lora_r"].isEnabled()
    mode.setCurrentIndex(mode.findData("lora"))
    assert rank.isEnabled() and page.form.labels["lora_targets"].isEnabled()
    page.form.set_config(WorkflowConfig(mode="full"))
    assert not page.form.editors["lora_targets"][1].isEnabled()


@pytest.mark.slow
def test_start_stop_resume(page, qtbot):
    page.form.editors["batch_size"][1].setValue(4)
    page.form.editors["threads"][1].setValue(1)
    qtbot.waitUntil(page.start_button.isEnabled, timeout=3000)
    page.start_button.click()
    assert page.stop_button.isEnabled() and not page.start_button.isEnabled()
    qtbot.waitUntil(lambda: len(page.curves.series["loss"]) >= 3, timeout=120000)
    page.stop_button.click()
    qtbot.waitUntil(lambda: page.worker is None, timeout=60000)
    run = runs.list_runs(page.project)[0]
    assert run.status == "stopped" and run.summary["last_checkpoint"]
    assert page.resume_button.isEnabled()
    page.resume_button.click()
    qtbot.waitUntil(lambda: ", from step " in page.runs_panel.log.toPlainText(), timeout=60000)  # the resumed half
    assert page.runs_panel.list.item(0).text().startswith("▶")  # running, not the "stopped" it was listed as
    qtbot.waitUntil(lambda: page.worker is None, timeout=180000)
    run = runs.find_run(page.project, run.name)
    assert run.status == "finished"
    steps = [s for s, _ in page.curves.series["loss"]]
    assert steps == sorted(set(steps)) and steps[-1] == run.summary["steps"]
    assert page.curves.series["val_loss"]
    shown = page.runs_panel.log.toPlainText()  # the run's stored log, both halves
    stages = (f"run {run.name} stopped at step", f"resuming {run.name} from step-", f"run {run.name} finished at step")
    assert [shown.index(stage) for stage in stages] == sorted(shown.index(stage) for stage in stages)
    page.form.editors["epochs"][1].setValue(0.5)
    qtbot.waitUntil(page.start_button.isEnabled, timeout=3000)
    page.start_button.click()  # a second, shorter run, then both compared
    qtbot.waitUntil(lambda: page.worker is None, timeout=180000)
    assert "resuming" not in page.runs_panel.log.toPlainText()  # the new run's own log
    page.runs_panel.list.selectAll()
    assert len(page.curves._compared) == 2  # the other run's train and val curves
    page.curves._redraw()
    assert save_shot(page, "train_page.png").is_file()


def test_the_main_window_shows_the_train_page_for_an_open_project(qtbot, window, tmp_path):
    project = create_sample_project(tmp_path / "p", count=12)
    window.set_project(project)
    window.set_mode("train")
    assert isinstance(window.mode_pages["train"], TrainPage)
    assert window.pages.currentWidget() is window.mode_pages["train"]
    window.set_project(None)
    assert not isinstance(window.mode_pages["train"], TrainPage)


def test_a_stored_run_shows_its_curves_and_outcome_when_the_page_opens(qtbot, qapp, tmp_path):
    from studio.training.trainer import RunConfig, train
    from studio.training.workflows import ensure_default_workflow

    project = create_sample_project(tmp_path / "shapes", count=24)
    ensure_default_workflow(project)
    done = train(RunConfig(project.folder, "default", max_steps=2))
    widget = TrainPage(project)
    qtbot.addWidget(widget)
    try:
        assert widget.runs_panel.selected_run() == done.run_name
        assert [s for s, _ in widget.curves.series["loss"]] == [1, 2] and widget.curves.series["val_loss"]
        assert widget.curves.stats.text().startswith(f"{done.run_name}: finished · 2 steps · best val loss")
        assert widget.try_button.isEnabled()
        with qtbot.waitSignal(widget.try_run) as signal:
            widget.try_button.click()
        assert signal.args == [runs.find_run(project, done.run_name).id]
    finally:
        widget.shutdown()
        project.close()


def test_a_stored_log_shows_each_date_once(qtbot):
    panel = RunsPanel()
    qtbot.addWidget(panel)
    panel.show_log("2026-11-26 23:59:58  preparing\n2026-11-27 00:00:01  saved step-000016\n"
                   "2026-11-27 00:00:02  run default-1 finished at step 16\n")
    assert panel.log.toPlainText().splitlines() == [
        "— 2026-11-26", "23:59:58  preparing", "— 2026-11-27", "00:00:01  saved step-000016",
        "00:00:02  run default-1 finished at step 16"]
    panel.append_log("starting a run")
    assert panel.log.toPlainText().splitlines()[-1][8:] == "  starting a run"


def test_check_data_shows_warnings_beside_the_result(page, qtbot, monkeypatch):
    from studio.training.preflight import Preflight
    from studio.ui.train import page as page_module

    found = Preflight(warnings=["the run may run out of memory"], facts={"train_samples": 3, "val_samples": 1})
    monkeypatch.setattr(page_module, "check_project_data", lambda *args, **kwargs: found)
    page.data_button.click()
    qtbot.waitUntil(lambda: page.data_job is None, timeout=20000)
    text = page.data_label.text()
    assert "✓ 3 training and 1 validation samples" in text and "! the run may run out of memory" in text


def test_a_run_outcome_names_its_peak_gpu_memory():
    from studio.ui.train.page import run_outcome

    summary = {"steps": 1650, "best_val_loss": 0.6883, "samples_per_s": 440.0, "peak_memory_bytes": 3 * 2**30}
    run = runs.Run(id=1, workflow_id=1, name="default-1", status="finished", folder=Path("."), config={},
                   summary=summary, created_at=0.0, finished_at=1.0)
    assert run_outcome(run) == ("default-1: finished · 1,650 steps · best val loss 0.6883 · 440.0 samples/s · "
                                "peak GPU memory 3.0 GiB")


def test_start_first_asks_about_annotated_images_without_a_split(page, qtbot, monkeypatch):
    """Imported images get no split: Start says how many annotated ones training would leave out and offers to
    split them (Split now… / Start anyway / Cancel)."""
    from PySide6.QtWidgets import QMessageBox

    assert page.confirm_unsplit()  # every image of the sample has a split: nothing to ask
    page.project.set_split([1, 2, 3], "")
    page.project.set_split([4], "", pinned=True)  # left out on purpose: not counted
    asked: list[str] = []

    def answer(text: str):
        def click(box: QMessageBox) -> int:
            asked.append(box.text())
            next(button for button in box.buttons() if button.text() == text).click()
            return 0
        return click

    monkeypatch.setattr(QMessageBox, "exec", answer("Cancel"))
    qtbot.waitUntil(page.start_button.isEnabled, timeout=3000)
    page.start_button.click()
    assert asked == ["3 annotated images have no split: training and evaluation leave them out."]
    assert page.worker is None
    page.data_button.click()  # Check data says it too
    qtbot.waitUntil(lambda: page.data_job is None and "validation" in page.data_label.text(), timeout=60000)
    assert "3 annotated images have no split" in page.data_label.text()
    monkeypatch.setattr(QMessageBox, "exec", answer("Split now…"))
    with qtbot.waitSignal(page.split_requested, timeout=1000):
        page.start_button.click()
    assert page.worker is None
    monkeypatch.setattr(QMessageBox, "exec", answer("Start anyway"))
    assert page.confirm_unsplit()
    page.project.set_split([1, 2, 3], "train")
    asked.clear()
    assert page.confirm_unsplit() and asked == []


def test_the_budget_counts_at_the_workflows_pixel_limit_and_sequence_length(qtbot, window, tmp_path):
    """Max pixels, max tiles and the sequence length are workflow settings: the budget dock follows the Train page."""
    create_sample_project(tmp_path / "s", count=5).close()
    window.open_project(tmp_path / "s")
    qtbot.waitUntil(lambda: window.models.ready, timeout=20000)
    window.set_mode("train")
    page = window.mode_pages["train"]
    page.form.editors["max_pixels"][1].setValue(3136 * 4)
    page.form.editors["max_seq_len"][1].setValue(300)
    dock = window.models.budget_panel
    qtbot.waitUntil(lambda: dock.budget is not None and dock.budget.settings.max_pixels == 3136 * 4
                    and dock.budget.max_seq_len == 300, timeout=30000)
