"""The playground page: streamed answers from a worker, stop, overlays, adding predictions to annotations."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.adapters.boxes import ParsedBox
from studio.inference.predictor import Prediction
from studio.ui import theme
from studio.ui.playground import PlaygroundPage
from tests.qt.play.conftest import save_shot
from tests.unit.inference.conftest import add_run, tiny_checkpoints  # noqa: F401 (fixture)


@pytest.fixture
def page(qtbot, qapp, sample_project):
    theme.apply(qapp)
    widget = PlaygroundPage(sample_project)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    widget.show_image(sample_project.images()[0].id)
    widget.source.setCurrentIndex(widget.source.findText("Run: lora-run", flags=Qt.MatchFlag.MatchStartsWith))
    yield widget
    if widget.job is not None:
        widget.job.cancel()
        widget.job.wait()


def test_sources_list_runs_then_base_models(page):
    titles = [page.source.itemText(i) for i in range(page.source.count())]
    assert titles[0].startswith("Run: full-run") and titles[1].startswith("Run: lora-run")  # newest first
    assert any(t.startswith("Base model: Tiny") for t in titles)


def test_a_run_trained_since_is_listed_and_chosen(page, sample_project, tiny_checkpoints):  # noqa: F811
    page.source.setCurrentIndex(page.source.findText("Base model", flags=Qt.MatchFlag.MatchStartsWith))
    page.system_prompt.setPlainText("Edited.")
    page.refresh_sources()  # the same runs: the choice and the edited prompt stay
    assert page.source.currentText().startswith("Base model") and page.system_prompt.toPlainText() == "Edited."
    add_run(sample_project, "new-run", tiny_checkpoints["full"])
    page.refresh_sources()
    assert page.source.currentText().startswith("Run: new-run") and page.source.count() == 4
    assert page.system_prompt.toPlainText() == page.run_system_prompt()


def test_answer_streams_from_a_worker_and_shows_timing(qtbot, page):
    page.prompt.setText("Locate the red circle.")
    page.generation.max_new_tokens.setValue(12)
    page.send()
    assert not page.send_button.isEnabled() and page.stop_button.isEnabled()
    qtbot.waitUntil(lambda: page.prediction is not None, timeout=60000)
    qtbot.waitUntil(lambda: page.job is None, timeout=20000)
    assert 1 <= page.prediction.new_tokens <= 12  # the shipped pre-trained weights may end the answer early
    assert page.generating_text == page.prediction.text
    assert "tokens/s" in page.stats.text() and "first token" in page.stats.text()
    page.raw.setChecked(True)
    assert page.answer.toPlainText() == page.prediction.text
    page.prompt.setText("Find the blue square.")
    page.send()
    qtbot.waitUntil(lambda: page.job is None and page.prediction is not None, timeout=60000)
    assert page.prediction.image_cached and "image reused" in page.stats.text()
    assert page.send_button.isEnabled()


def test_stop_ends_generation(qtbot, page):
    page.prompt.setText("Locate the red circle.")
    page.generation.max_new_tokens.setValue(4000)
    page.send()
    qtbot.waitUntil(lambda: len(page.generating_text) > 0, timeout=60000)
    page.stop()
    qtbot.waitUntil(lambda: page.job is None, timeout=30000)
    assert page.prediction.stopped and page.prediction.new_tokens < 4000


def test_system_prompt_warning_and_add_to_annotations(qtbot, page, sample_project):
    image_id = page.image_id
    assert page.system_warning.isHidden()
    page.system_prompt.setPlainText("Something else.")
    assert not page.system_warning.isHidden()
    page.task.setCurrentIndex(0)
    page._reset_system_prompt()
    before = len(sample_project.boxes(image_id))
    page._answered(Prediction(text='[{"bbox_2d": [100, 100, 400, 500], "label": "red circle"}]',
                              boxes=[ParsedBox("red circle", (20.0, 20.0, 90.0, 100.0))], new_tokens=20,
                              prompt_tokens=60, time_to_first_token=0.01, seconds=0.1))
    assert page.answer.toPlainText().startswith("red circle: 20, 20, 90, 100")
    assert page.add_button.isEnabled()
    assert any(b.style == "prediction" for b in page.view.boxes) and any(b.style == "truth" for b in page.view.boxes)
    save_shot(page, "playground.png")
    page.add_to_annotations()
    boxes = sample_project.boxes(image_id)
    assert len(boxes) == before + 1 and boxes[-1].xyxy == (20.0, 20.0, 90.0, 100.0)
    page.undo_add()
    assert len(sample_project.boxes(image_id)) == before


def test_suggestions_are_drawn_and_accepted_or_rejected(qtbot, page, sample_project, tiny_checkpoints):  # noqa: F811
    from studio.inference.predictor import Predictor
    from tests.unit.inference.test_labelling import ScriptedPredictor

    page.predictors[page.source.currentData()] = ScriptedPredictor(
        Predictor.from_checkpoint(tiny_checkpoints["full"]))
    image_id = page.image_id
    before = len(sample_project.boxes(image_id))
    page.tabs.setCurrentIndex(1)
    panel = page.suggestions
    qtbot.mouseClick(panel.suggest_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.job is None, timeout=60000)
    labels = len(sample_project.labels())
    assert panel.list.count() == labels  # one box per label (the questions of the sample are all answered)
    assert "suggested" in panel.status.text()
    assert sum(b.style == "suggestion" for b in page.view.boxes) == labels
    save_shot(page, "playground_suggestions.png")
    panel.list.item(0).setSelected(True)
    qtbot.mouseClick(panel.accept_button, Qt.MouseButton.LeftButton)
    assert len(sample_project.boxes(image_id)) == before + 1
    assert panel.list.count() == labels - 1
    qtbot.mouseClick(panel.reject_all_button, Qt.MouseButton.LeftButton)
    assert panel.list.count() == 0 and not any(b.style == "suggestion" for b in page.view.boxes)
    assert len(sample_project.boxes(image_id)) == before + 1
