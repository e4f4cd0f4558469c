"""Model-assisted labelling: suggestions stored, accepted into real annotations, rejected, cancelled."""

from __future__ import annotations

import pytest

from studio.adapters import load_image
from studio.dataset.importer import import_images
from studio.dataset.predictions import NewSuggestion, accept, add_suggestions, reject, suggestions
from studio.inference.labelling import suggest, unannotated_images
from studio.inference.predictor import BatchAnswer, Predictor
from studio.jobs import Cancelled, CancelToken


class ScriptedPredictor:
    """The real predictor's adapter and settings, with answers chosen by the test (a random tiny model seldom
    writes a box)."""

    def __init__(self, real: Predictor) -> None:
        self.adapter, self.settings = real.adapter, real.settings
        self.calls = 0

    def generate_batch(self, samples, images, *, max_new_tokens=128):
        self.calls += 1
        assert all(img.size == (s.width, s.height) for s, img in zip(samples, images, strict=True))
        return [BatchAnswer('[{"bbox_2d": [100, 200, 500, 600], "label": "x"}]' if s.task == "grounding" else "two",
                            0.5) for s in samples]


@pytest.fixture
def labelled(project, shapes_image):
    import_images(project, [str(shapes_image)])
    image_id = project.images()[0].id
    project.ensure_label("red circle")
    project.add_vqa(image_id, "How many shapes are there?")
    return project, image_id


def test_suggest_accept_and_reject(labelled, tiny_checkpoints):
    project, image_id = labelled
    predictor = ScriptedPredictor(Predictor.from_checkpoint(tiny_checkpoints["full"]))
    assert unannotated_images(project) == [image_id]
    counts = suggest(project, predictor, batch_size=1)
    assert counts == {"images": 1, "prompts": 2, "boxes": 1, "answers": 1} and predictor.calls == 2
    answer, box = sorted(suggestions(project, image_id), key=lambda s: s.kind)
    assert box.label == "red circle" and box.xyxy == pytest.approx((24, 32, 120, 96))  # 0-1000 of 240 x 160
    assert answer.kind == "answer" and answer.text == "two" and answer.score == 0.5
    new_boxes = accept(project, [box.id, answer.id])
    assert project.boxes(image_id)[0].id == new_boxes[0]
    assert project.label(project.boxes(image_id)[0].label_id).name == "red circle"
    assert project.vqa(image_id)[0].answer == "two"
    assert suggestions(project, image_id) == []
    assert {s.status for s in suggestions(project, image_id, status=None)} == {"accepted"}
    assert unannotated_images(project) == []
    [other] = add_suggestions(project, [NewSuggestion(image_id, "box", "blue", box=(5, 5, 1, 1))])
    reject(project, [other])
    assert suggestions(project, image_id, status="rejected")[0].xyxy == (1, 1, 5, 5)
    assert len(project.boxes(image_id)) == 1


def test_suggest_with_the_real_tiny_model_and_cancel(labelled, tiny_checkpoints, shapes_image):
    project, image_id = labelled
    predictor = Predictor.from_checkpoint(tiny_checkpoints["lora"])
    counts = suggest(project, predictor, [image_id], max_new_tokens=8)
    assert counts["prompts"] == 2
    assert load_image(shapes_image).size == (240, 160)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        suggest(project, predictor, [image_id], cancel=token)
    project.delete_boxes([b.id for b in project.boxes(image_id)])
    with pytest.raises(ValueError, match="no labels"):
        suggest(project, predictor, [image_id], labels=[])
