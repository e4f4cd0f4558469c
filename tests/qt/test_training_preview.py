"""The training-text preview shows exactly the trainer's text and draws the boxes parsed back from it."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QFontInfo, QTextCursor
from PySide6.QtWidgets import QApplication

from studio.adapters import get_adapter, samples_from_annotation
from studio.dataset.sample import create_sample_project
from studio.ui.training_preview import TrainingPreview


@pytest.fixture
def sample(tmp_path):
    with create_sample_project(tmp_path / "sample", count=3) as project:
        yield project


def test_preview_matches_the_trainer_and_follows_edits(qtbot, sample, tmp_path):
    widget = TrainingPreview()
    qtbot.addWidget(widget)
    widget.resize(500, 700)
    widget.show()
    widget.set_project(sample)
    image_id = sample.images()[0].id
    with qtbot.waitSignal(widget.preview_ready, timeout=60000):
        widget.show_image(image_id)
    adapter = get_adapter("tiny")
    processor = adapter.load_processor()
    expected = [adapter.training_text(s, processor) for s in samples_from_annotation(sample.annotation(image_id))]
    assert [(s.prompt, s.target) for s in widget.samples] == [(t.prompt, t.target) for t in expected]
    assert widget.choice.count() == len(expected)
    first = widget.samples[0]
    assert first.task == "grounding" and first.boxes and first.problems == []
    assert expected[0].target.split("<|im_end|>")[0] in widget.text.toPlainText()
    assert not widget.picture.pixmap().isNull()
    widget.grab().save(str(tmp_path / "training_preview.png"))
    assert_readable(widget, qtbot)
    with qtbot.waitSignal(widget.preview_ready, timeout=60000):
        sample.add_vqa(image_id, "Is there a yellow square?", "no")
    assert widget.samples[-1].target.startswith("no<|im_end|>")
    widget.set_project(None)


def assert_readable(widget: TrainingPreview, qtbot) -> None:
    """Monospace at no less than the application's size, and the text, not the picture, fills a dock-sized panel."""
    cursor = QTextCursor(widget.text.document())
    cursor.setPosition(1)
    font = QFontInfo(cursor.charFormat().font())
    assert font.fixedPitch() and font.pointSizeF() >= QApplication.font().pointSizeF()
    widget.resize(400, 300)  # the Training text dock in the default layout
    qtbot.wait(20)
    assert widget.text.height() > widget.picture.height()
    assert widget.text.viewport().height() >= 8 * widget.text.fontMetrics().lineSpacing()
