"""The playground page: streamed answers from a worker, stop, overlays, adding predictions to annotations."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.adapters import get_adapter
from studio.adapters.boxes import ParsedBox
from studio.dataset.predictions import NewSuggestion, add_suggestions
from studio.inference.predictor import Prediction
from studio.ui import theme
from studio.ui.overlay import PREDICTION_COLOUR
from studio.ui.playground import PlaygroundPage
from tests.qt.play.conftest import add_stepped_run
from tests.screenshots import save_shot
from tests.unit.inference.conftest import SYSTEM, add_run, tiny_checkpoints  # noqa: F401 (fixture)


@pytest.fixture
def page(qtbot, qapp, sample_project):
    theme.apply(qapp)
    widget = PlaygroundPage(sample_project)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    widget.show_image(sample_project.images()[0].id)
    widget.source.setCurrentIndex(widget.source.findText("lora-run — best", flags=Qt.MatchFlag.MatchStartsWith))
    yield widget
    if widget.job is not None:
        widget.job.cancel()
        widget.job.wait()


def entries(page) -> list[str]:
    """The picker's entries; "—" for a separator between groups."""
    return [page.source.itemText(i) if page.source.itemData(i) else "—" for i in range(page.source.count())]


def test_sources_list_runs_then_base_models(page):
    titles = entries(page)
    assert titles[:6] == ["full-run — best and last (step 10)", "full-run — start (before training)", "—",
                          "lora-run — best and last (step 10)", "lora-run — start (before training)", "—"]
    assert all(t.startswith("Base model: ") for t in titles[6:]) and any("Tiny" in t for t in titles[6:])


def test_the_picker_offers_start_best_last_and_each_step_of_a_run(page, sample_project, tiny_checkpoints):  # noqa: F811
    run_id = add_stepped_run(sample_project, "default-1", tiny_checkpoints["lora"])
    page.refresh_sources()
    assert entries(page)[:6] == ["default-1 — best (step 1,200, val loss 0.69)",
                                 "default-1 — last (step 1,650, val loss 0.71)",
                                 "default-1 — step 400 (val loss 0.95)", "default-1 — step 800 (val loss 0.78)",
                                 "default-1 — start (before training)", "—"]
    assert page.source.currentText() == "default-1 — best (step 1,200, val loss 0.69)"  # a new run: its best
    assert page.source.currentData().endswith("step-001200")
    page.source.setCurrentIndex(page.source.findText("default-1 — step 400", flags=Qt.MatchFlag.MatchStartsWith))
    assert page.source.currentData().endswith("step-000400")
    assert page.system_prompt.toPlainText() == SYSTEM["grounding"]
    page.refresh_sources()
    assert page.source.currentText().startswith("default-1 — step 400")  # the choice stays
    page.source.setCurrentIndex(page.source.findText("lora-run — best", flags=Qt.MatchFlag.MatchStartsWith))
    assert page.choose_run(run_id) and page.source.currentText().startswith("default-1 — best")


def test_the_start_answers_with_the_model_before_training(qtbot, page, sample_project,
                                                          tiny_checkpoints):  # noqa: F811
    add_stepped_run(sample_project, "default-1", tiny_checkpoints["lora"], {10: 0.5})
    page.refresh_sources()
    page.source.setCurrentIndex(page.source.findText("default-1 — start (before training)"))
    assert page.system_prompt.toPlainText() == SYSTEM["grounding"]  # the run's prompt, not the default
    page.prompt.setText("Locate the red circle.")
    page.generation.max_new_tokens.setValue(4)
    page.send()
    qtbot.waitUntil(lambda: page.job is None and page.prediction is not None, timeout=60000)
    predictor = page.predictors[page.source.currentData()]
    assert predictor.meta["mode"] == "base" and predictor.model_id == "tiny"
    assert predictor.system_prompt("grounding") == SYSTEM["grounding"]


def test_a_run_trained_since_is_listed_and_chosen(page, sample_project, tiny_checkpoints):  # noqa: F811
    page.source.setCurrentIndex(page.source.findText("Base model", flags=Qt.MatchFlag.MatchStartsWith))
    page.system_prompt.setPlainText("Edited.")
    page.refresh_sources()  # the same runs: the choice and the edited prompt stay
    assert page.source.currentText().startswith("Base model") and page.system_prompt.toPlainText() == "Edited."
    before = len([t for t in entries(page) if t != "—"])
    add_run(sample_project, "new-run", tiny_checkpoints["full"])
    page.refresh_sources()
    assert page.source.currentText().startswith("new-run — best") and len([t for t in entries(page) if t != "—"]) \
        == before + 2  # its checkpoint and its start
    assert page.system_prompt.toPlainText() == page.run_system_prompt()


def test_predicted_boxes_take_the_colour_of_their_label(page, sample_project):
    labels = {label.name: label for label in sample_project.labels()}
    page._answered(Prediction(text="…", boxes=[ParsedBox("A red wedge", (10.0, 10.0, 60.0, 60.0)),
                                               ParsedBox("a purple star", (5.0, 5.0, 30.0, 30.0))]))
    predicted = {b.label: b for b in page.view.boxes if b.style == "prediction"}
    assert predicted["A red wedge"].colour == labels["red wedge"].color != PREDICTION_COLOUR
    assert predicted["a purple star"].colour == PREDICTION_COLOUR  # no such label in the project
    before = len(sample_project.labels())
    page.add_to_annotations()
    added = sample_project.boxes(page.image_id)[-2:]
    assert added[0].label_id == labels["red wedge"].id  # the label the model named, not a new "A red wedge"
    assert len(sample_project.labels()) == before + 1  # only "a purple star" is new


def test_an_unreadable_answer_says_what_was_expected_and_shows_it_raw_on_request(page):
    text = '{"bbox": "0000000000001111green567", "label": "green ball"}'
    parsed = get_adapter("tiny").parse_boxes(text, 320, 240)
    assert parsed.problems and not parsed.boxes
    page._answered(Prediction(text=text, problems=parsed.problems))
    assert not page.problem.isHidden()
    assert page.problem.text().startswith('The answer has no boxes in the Qwen3-VL format (expected [{"bbox_2d": '
                                          '[x1, y1, x2, y2], "label": …}] with coordinates 0–1000).')
    assert "no bbox_2d" not in page.problem.text() + page.answer.toPlainText()
    assert page.raw.text() == "Show raw answer" and page.answer.toPlainText() == ""
    save_shot(page, "playground_unreadable.png")
    page.raw.setChecked(True)
    assert page.answer.toPlainText() == text and page.problem.text().startswith("The answer has no boxes")
    page.raw.setChecked(False)
    page._answered(Prediction(text='[{"bbox_2d": [100, 100, 400, 500], "label": "red wedge"}]',
                              boxes=[ParsedBox("red wedge", (32.0, 24.0, 128.0, 120.0))]))
    assert page.problem.isHidden() and page.answer.toPlainText() == "red wedge: 32, 24, 128, 120"


def test_the_selected_suggestion_is_highlighted_and_the_others_dimmed(page, sample_project):
    add_suggestions(sample_project, [NewSuggestion(page.image_id, "box", "red wedge", (10, 10, 60, 60)),
                                     NewSuggestion(page.image_id, "box", "blue ball", (70, 20, 120, 90)),
                                     NewSuggestion(page.image_id, "box", "green block", (20, 80, 90, 140))])
    page._suggestions_changed()
    panel = page.suggestions
    page.tabs.setCurrentIndex(1)
    emphasis = lambda: [b.emphasis for b in page.view.boxes if b.style == "suggestion"]  # noqa: E731
    assert emphasis() == ["", "", ""]
    panel.list.item(1).setSelected(True)
    assert emphasis() == ["dimmed", "selected", "dimmed"]
    selected = next(b for b in page.view.boxes if b.emphasis == "selected")
    assert selected.label == "blue ball"
    save_shot(page, "playground_suggestion_selected.png")
    panel.list.clearSelection()
    assert emphasis() == ["", "", ""]


def test_a_selected_box_is_drawn_thicker_and_a_dimmed_one_fainter(qapp):
    from PySide6.QtGui import QColor, QImage

    from studio.ui.overlay import OverlayBox, overlay_pixmap

    image = QImage(200, 200, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))

    def ink(emphasis: str) -> float:
        box = OverlayBox("", (40.0, 40.0, 160.0, 160.0), "suggestion", "#1f77b4", emphasis)
        picture = overlay_pixmap(image, [box], 200, 200).toImage()
        return sum(255 - QColor(picture.pixel(x, y)).red() for x in range(200) for y in range(200))

    assert ink("selected") > 1.5 * ink("") > 2 * ink("dimmed")


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
