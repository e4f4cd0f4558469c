"""The token-budget dock on the sample project with the tiny model: totals, histogram, over-budget list (file names;
a click shows the image) and filter, advice, and live updates when the annotations, the images (imports), the model
or the settings change."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from studio.adapters import get_adapter
from studio.budget import budget as core_budget
from studio.dataset.sample import create_sample_project
from studio.dataset.store import NewImage, Project
from studio.ui.budget_dock import BudgetPanel, token_histogram


@pytest.fixture
def sample(tmp_path):
    with create_sample_project(tmp_path / "sample", count=10) as project:
        yield project


@pytest.fixture
def dock(qtbot, sample):
    widget = BudgetPanel()
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
    names = {image.id: image.name for image in dock._project.images()}
    first = dock.over_list.item(0)
    image_id = first.data(Qt.ItemDataRole.UserRole)
    assert first.text().startswith(f"{names[image_id]} — ") and first.text().endswith(" tokens")  # a file name
    assert "of 10 images over the limit" in dock.headline.text()
    with qtbot.waitSignal(dock.image_activated) as shown:  # one click shows the image
        qtbot.mouseClick(dock.over_list.viewport(), Qt.MouseButton.LeftButton,
                         pos=dock.over_list.visualItemRect(first).center())
    assert shown.args == [image_id]
    with qtbot.waitSignal(dock.filter_requested) as emitted:
        dock.filter_button.click()
    assert sorted(emitted.args[0]) == sorted(over)
    dock.grab().save(str(tmp_path / "budget_dock.png"))


@pytest.fixture
def counted(monkeypatch):
    """The images each recount of the dock asked for (None: all of them)."""
    asked = []

    def recount(*args, image_ids=None, **kwargs):
        asked.append(None if image_ids is None else sorted(image_ids))
        return core_budget.recount_budget(*args, image_ids=image_ids, **kwargs)

    monkeypatch.setattr("studio.ui.budget_dock.recount_budget", recount)
    return asked


def test_updates_live_on_edits_and_settings(qtbot, dock, sample, counted):
    before = dock.budget.totals.copy()
    image_id = sample.images()[0].id
    with qtbot.waitSignal(dock.budget_changed, timeout=60000):
        sample.add_vqa(image_id, "What colour is the circle in the top left corner of this picture?",
                       "The circle in the top left corner of this picture is red. " * 8)
    assert dock.budget.totals[0] > before[0] + 50 and (dock.budget.totals[1:] == before[1:]).all()
    assert counted[-1] == [image_id]  # only the edited image was counted again
    sample.set_split([image_id], "test", pinned=True)
    sample.set_status(image_id, "review")
    box = sample.boxes(image_id)[0]
    sample.update_box(box.id, x2=box.x2 - 1)
    sample.ensure_label("not used yet")
    assert not dock._debounce.isActive() and not dock._dirty  # the text is the same: nothing to count
    generation = dock._generation
    with qtbot.waitSignal(dock.budget_changed, timeout=60000):
        sample.rename_label(box.label_id, "renamed")  # any image may say the name: everything is counted
    assert dock._generation == generation + 1 and counted[-1] is None
    adapter = get_adapter("tiny")
    with qtbot.waitSignal(dock.budget_changed):
        dock.set_model("tiny", adapter.settings(max_pixels=64 * 64, min_pixels=32 * 32))
    assert (dock.budget.visual < 10).all()
    with qtbot.waitSignal(dock.budget_changed, timeout=60000):
        dock.set_model("qwen2.5-vl-7b")
    assert not dock.budget.exact_text and "estimate" in dock.title.text()


def test_a_count_started_as_a_job_ends_takes_the_edits_the_debounce_waited_for(qtbot, dock, sample, counted):
    image_id = sample.images()[0].id
    qtbot.waitUntil(lambda: not dock._jobs.busy)
    sample.add_vqa(image_id, "What is there?", "A circle.")
    assert dock._debounce.isActive()
    with qtbot.waitSignal(dock.budget_changed, timeout=60000):
        dock._jobs.idle.emit()  # as when the job running during the edit ends: the edit is counted at once
    assert counted == [[image_id]] and not dock._debounce.isActive()  # and not once more when the timer is due


def test_the_histogram_bars_are_readable_whatever_the_limit():
    """The tiny model's images take about 150 of 4,096 tokens: their bar is a bar, not a hairline."""
    counts, edges = token_histogram(np.array([138, 150, 163, 198]), 4096)
    widths = np.diff(edges)
    assert 15 <= len(counts) <= 30 and counts.sum() == 4
    assert widths[counts > 0].min() >= edges[-1] / 50
    assert np.any(np.isclose(edges, 4096.5))  # no bar holds images on both sides of the limit
    counts, edges = token_histogram(np.array([1000, 4096, 4097, 15303]), 4096)
    over = edges[:-1] > 4096
    assert counts[~over].sum() == 2 and counts[over].sum() == 2 and edges[-1] > 15303


def test_images_added_here_or_by_another_connection_are_counted(qtbot, dock, sample, tmp_path, counted):
    picture = tmp_path / "mine.png"
    Image.new("RGB", (300, 200), "white").save(picture)
    with qtbot.waitSignal(dock.budget_changed, timeout=60000):
        (mine,) = sample.add_images([NewImage(str(picture), 300, 200)])  # a store change with images added
    assert counted[-1] == [mine]  # only the new image was counted
    assert len(dock.budget.totals) == 11 and int(dock.budget.image_ids[-1]) == mine and dock._name(mine) == "mine.png"
    other = tmp_path / "theirs.png"
    Image.new("RGB", (64, 64), "white").save(other)
    with Project.open(sample.folder) as worker_side:  # an import in a worker writes on its own connection
        worker_side.add_images([NewImage(str(other), 64, 64)])
    with qtbot.waitSignal(dock.budget_changed, timeout=60000):
        dock.reload()
    assert len(dock.budget.totals) == 12 and "theirs.png" in map(dock._name, dock.budget.image_ids.tolist())


def test_the_window_counts_imported_images_and_a_click_shows_an_image_over_budget(qtbot, window, tmp_path):
    create_sample_project(tmp_path / "s", count=6).close()
    window.open_project(tmp_path / "s")
    qtbot.waitUntil(lambda: window.models.ready and window.models.budget_panel.budget is not None,
                    timeout=60000)
    dock = window.models.budget_panel
    folder = tmp_path / "mine"
    folder.mkdir()
    for i in range(3):
        Image.new("RGB", (1600, 1200), "orange").save(folder / f"holiday_{i}.png")
    window.import_paths([str(folder)])
    qtbot.waitUntil(lambda: dock.budget is not None and len(dock.budget.totals) == 9, timeout=60000)
    assert dock.totals["images"].text().startswith("9 / ")
    assert {"holiday_0.png", "holiday_1.png", "holiday_2.png"} <= set(map(dock._name, dock.budget.image_ids.tolist()))
    with qtbot.waitSignal(dock.budget_changed, timeout=60000):
        dock.set_max_seq_len(int(dock.budget.totals.max()) - 1)
    item = dock.over_list.item(0)
    image_id = item.data(Qt.ItemDataRole.UserRole)
    assert item.text().startswith(window.project.image(image_id).name + " — ")
    window.images.split_box.setCurrentIndex(window.images.split_box.findData("unassigned"))  # hides the image
    assert window.images.model.row_of(image_id) is None
    qtbot.mouseClick(dock.over_list.viewport(), Qt.MouseButton.LeftButton,
                     pos=dock.over_list.visualItemRect(item).center())
    assert window.images.current_image_id() == image_id  # the filter made way
    assert window.annotate.workspace.image_id == image_id  # shown on the canvas
