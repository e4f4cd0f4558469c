"""A project with two annotated images, a finished run and suspects of every kind written through the review API
(no model): what the Review queue tests open."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from studio.dataset.store import Project
from studio.review.items import NewReviewItem, review_items, store_review
from studio.training.runs import create_run, set_status
from tests.qt.annotate.conftest import add_image, scene_image


@dataclass
class Reviewed:
    folder: str
    run_id: int
    images: dict[str, int]
    boxes: dict[str, int]
    vqa_id: int
    phrase_id: int
    items: dict[str, int]  # kind -> item id


@pytest.fixture
def reviewed(tmp_path) -> Reviewed:
    folder = tmp_path / "reviewed"
    with Project.create(folder) as project:
        scene = add_image(project, tmp_path / "scene.png", scene_image())
        second = add_image(project, tmp_path / "second.png", scene_image(240, 160))
        dog, ball = project.ensure_label("dog"), project.ensure_label("ball")
        project.ensure_label("cat")
        dog_box = project.add_box(scene, dog.id, 38, 84, 144, 160)
        ball_box = project.add_box(scene, ball.id, 100, 100, 140, 140)  # the real ball is at 198-237, 110-146
        extra = project.add_box(second, ball.id, 10, 10, 40, 40)
        project.set_caption(scene, "a dog and a ball")
        phrase = project.add_phrase(scene, 2, 5, [ball_box])  # "dog" linked to the ball: a wrong link
        vqa = project.add_vqa(scene, "What colour is the ball?", "blue")
        for question in ("How many dogs?", "Is it sunny?"):  # 3 answers as 3 boxes: the queue keeps score order
            project.add_vqa(second, question, "yes")
        run = create_run(project, "lora-1", None, {})
        set_status(project, run, "finished")
        found = [
            NewReviewItem(scene, "misplaced", 0.95, "the model puts the ball 98 px to the right",
                          {"box": [198, 110, 237, 146], "label": "ball", "confidence": 0.91}, box_id=ball_box),
            NewReviewItem(second, "spurious", 0.40, "no ball found here", {"label": "ball", "confidence": 0.1},
                          box_id=extra),
            NewReviewItem(scene, "wrong_answer", 0.70, "the model answers “red”",
                          {"answer": "red", "confidence": 0.88}, vqa_id=vqa),
            NewReviewItem(second, "missing", 0.60, "a ball without a box",
                          {"box": [150, 80, 180, 110], "label": "ball", "confidence": 0.8}),
            NewReviewItem(scene, "wrong_label", 0.55, "the model calls it a cat",
                          {"box": [38, 84, 144, 160], "label": "cat", "confidence": 0.7}, box_id=dog_box),
            NewReviewItem(scene, "wrong_link", 0.50, "“dog” is linked to the ball",
                          {"box": [38, 84, 144, 160], "link_box_ids": [dog_box], "label": "dog", "confidence": 0.9},
                          box_id=ball_box, phrase_id=phrase),
        ]  # fmt: skip
        store_review(project, run.id, [scene, second], found)
        ids = {item.kind: item.id for item in review_items(project, run.id)}
        return Reviewed(str(folder), run.id, {"scene": scene, "second": second},
                        {"dog": dog_box, "ball": ball_box, "extra": extra}, vqa, phrase, ids)  # fmt: skip
