"""A run's progress on every page: the main window's status bar follows the Train page's run (step, loss, ETA,
a bar), stops it and leads back to Train; the Train page's Check data shows its progress and cancels."""

from __future__ import annotations

import re
import threading

from PySide6.QtCore import QObject, QPoint, Qt, Signal

from studio.dataset.sample import create_sample_project
from studio.jobs import CancelToken
from studio.training import runs
from studio.ui.jobs_bar import JobsBar
from tests.screenshots import save_shot


def test_a_running_training_shows_in_the_status_bar_on_another_page(qtbot, window, tmp_path):
    project = create_sample_project(tmp_path / "shapes", count=12)
    window.set_project(project)
    window.set_mode("train")
    page = window.mode_pages["train"]
    page.form.editors["batch_size"][1].setValue(2)
    page.form.editors["threads"][1].setValue(1)
    qtbot.waitUntil(page.start_button.isEnabled, timeout=10000)
    page.start_button.click()
    window.set_mode("annotate")
    bar = window.jobs_bar
    assert bar.isVisible()
    qtbot.waitUntil(lambda: " step " in bar.label.text(), timeout=120000)
    text = bar.label.text()
    assert re.fullmatch(r"Training default-1: step \d+ / [\d,]+, loss \d+\.\d\d, ETA \d+ (s|min)", text), text
    assert 0 < bar.bar.value() < bar.bar.maximum()
    qtbot.waitUntil(lambda: bar.bar.value() >= 12, timeout=120000)  # a bar one can see in the screenshot
    assert window.current_mode() == "annotate"
    save_shot(window, "status_bar_training.png")
    qtbot.mouseClick(bar.label, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))  # the entry leads to the run
    assert window.current_mode() == "train"
    bar.cancel_button.click()  # stops the run as the page's Stop does
    assert bar.label.text() == "Training default-1: stopping…"
    assert "stopping after this step" in page.state_label.text() and not page.stop_button.isEnabled()
    qtbot.waitUntil(lambda: page.worker is None, timeout=60000)
    assert runs.find_run(project, "default-1").status == "stopped"
    assert not bar.isVisible()
    assert re.fullmatch(r"Training default-1 stopped at step \d+ \(\d+ (s|min)\)", window.statusBar().currentMessage())


class _FakeJob(QObject):
    progress = Signal(int, int, str)
    done = Signal()
    home = None
    own_eta = False
    cancel_hint = "Cancel this job"

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title, self.started_at, self.token = title, 0.0, CancelToken()

    def cancel(self) -> None:
        self.token.cancel()


def test_an_older_job_comes_back_when_the_newer_one_ends(qtbot):
    bar = JobsBar()
    qtbot.addWidget(bar)
    training, importing = _FakeJob("Training default-1"), _FakeJob("Importing images")
    training.own_eta = True
    bar.track(training)
    training.progress.emit(3, 10, "step 3 / 10, loss 0.50, ETA 1 min")
    bar.track(importing)
    assert bar.label.text() == "Importing images"
    training.progress.emit(4, 10, "step 4 / 10, loss 0.40, ETA 1 min")  # kept while the newer job shows
    assert bar.label.text() == "Importing images"
    importing.done.emit()
    assert bar.label.text() == "Training default-1: step 4 / 10, loss 0.40, ETA 1 min" and bar.bar.value() == 4
    training.done.emit()
    assert bar.isHidden()


def test_check_data_shows_its_progress_and_cancels(qtbot, window, tmp_path, monkeypatch):
    from studio.jobs import Cancelled
    from studio.ui.train import page as page_module

    reached = threading.Event()

    def slow_check(folder, config, *, progress, cancel):
        for done in range(1, 1000):
            progress(done, 1000, f"counting tokens: sample {done} of 1,000")
            if done == 3:
                reached.set()
            if cancel.cancelled:
                raise Cancelled()
            threading.Event().wait(0.02)
        raise AssertionError("the check was not cancelled")

    monkeypatch.setattr(page_module, "check_project_data", slow_check)
    window.set_project(create_sample_project(tmp_path / "shapes", count=6))
    window.set_mode("train")
    page = window.mode_pages["train"]
    page.data_button.click()
    qtbot.waitUntil(lambda: reached.is_set() and page.data_progress.value() >= 3, timeout=10000)
    assert page.data_progress.isVisible() and page.data_progress.maximum() == 1000
    assert page.data_label.text().startswith("counting tokens: sample ")
    assert page.data_button.text() == "Cancel check"
    page.data_button.click()
    qtbot.waitUntil(lambda: page.data_job is None, timeout=10000)
    assert page.data_label.text() == "Check cancelled." and not page.data_progress.isVisible()
    assert page.data_button.text() == "Check data"
