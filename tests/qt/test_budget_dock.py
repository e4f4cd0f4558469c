"""The token-budget dock on the sample project with the tiny model: totals, histogram, over-budget filter, advice,
and live updates when the annotations, the model or the settings change."""

from __future__ import annotations

import pytest

from studio.adapters import get_adapter
from studio.dataset.sample import create_sample_project
from studio.ui.budget_dock import BudgetDock


@pytest.fixture
def sample(tmp_path):
    with create_sample_project(tmp_path / "sample", count=10) as project:
        yield project


@pytest.fixture
def dock(qtbot, sample):
    widget = BudgetDock()
    qtbot.addWidget(widget)
    widget.resize(360, 700)
    widget.show()
    with qtbot.waitSignal(widget.budget_changed, timeout=60000):
        widget.set_project(sample)
    yield widget
    widget.set_project(None)


def test_totals_histogram_and_filter(qtbot, dock, tmp_path):
    budget = dock.budget
    assert budget.model_id == "tiny" and budget.exact_text and len(budget.totals) == 10
    assert dock.totals["images"].text().startswith("10 / ")
    assert dock.totals["over"].text() == "none" and not dock.filter_button.isEnabled()
    assert len(dock.plot.getPlotItem().items) == 2  # bars and the limit line
    with qtbot.waitSignal(dock.budget_changed):
        dock.set_max_seq_len(int(sorted(budget.totals)[5]))
    over = [int(i) for i in dock.budget.over]
    assert 0 < len(over) < 10 and dock.over_list.count() == len(over)
    assert dock.filter_button.isEnabled() and "exceed" in dock.advice.text()
    with qtbot.waitSignal(dock.filter_requested) as emitted:
        dock.filter_button.click()
    assert sorted(emitted.args[0]) == sorted(over)
    dock.grab().save(str(tmp_path / "budget_dock.png"))


def test_updates_live_on_edits_and_settings(qtbot, dock, sample):
    before = dock.budget.totals.copy()
    image_id = sample.images()[0].id
    with qtbot.waitSignal(dock.budget_changed, timeout=60000):
        sample.add_vqa(image_id, "What colour is the circle in the top left corner of this picture?",
                       "The circle in the top left corner of this picture is red. " * 8)
    assert dock.budget.totals[0] > before[0] + 50 and (dock.budget.totals[1:] == before[1:]).all()
    assert dock._job_partial  # only the edited image was counted again
    adapter = get_adapter("tiny")
    with qtbot.waitSignal(dock.budget_changed):
        dock.set_model("tiny", adapter.settings(max_pixels=64 * 64, min_pixels=32 * 32))
    assert (dock.budget.visual < 10).all()
    with qtbot.waitSignal(dock.budget_changed, timeout=60000):
        dock.set_model("qwen2.5-vl-7b")
    assert not dock.budget.exact_text and "estimate" in dock.title.text()
