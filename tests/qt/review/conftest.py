"""A project with two annotated images, a finished run and suspects of every kind written through the review API
(no model): what the Review queue tests open."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from studio.dataset.store import Project
from studio.review import items as review
from studio.training.runs import create_run, set_status
from tests.qt.annotate.conftest import add_image, scene_image


def insert_items(project: Project, rows: list[dict]) -> list[int]:
    """Store suspects as a review would (the one place that knows the API's writer)."""
    return review.add_items(project, [review.ReviewItem(id=0, **row) for row in rows])


@dataclass
class Fixture:
    folder: str
    run_id: int
    images: dict[str, int]
    boxes: dict[str, int]
    vqa_id: int
    phrase_id: int
    items: dict[str, int]  # kind -> item id


@pytest.fixture
def reviewed(tmp_path) -> Fixture:
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
        run = create_run(project, "lora-1", None, {})
        set_status(project, run, "finished")
        rows = [
            dict(run_id=run.id, image_id=scene, kind="misplaced", score=0.95, box_id=ball_box,
                 evidence={"box": [198, 110, 237, 146], "label": "ball", "confidence": 0.91},
                 message="the model puts the ball 98 px to the right"),
            dict(run_id=run.id, image_id=second, kind="spurious", score=0.40, box_id=extra,
                 evidence={"box": None, "label": "ball", "confidence": 0.1}, message="no ball found here"),
            dict(run_id=run.id, image_id=scene, kind="wrong_answer", score=0.70, vqa_id=vqa,
                 evidence={"box": None, "answer": "red", "confidence": 0.88}, message="the model answers “red”"),
            dict(run_id=run.id, image_id=second, kind="missing", score=0.60,
                 evidence={"box": [150, 80, 180, 110], "label": "ball", "confidence": 0.8},
                 message="a ball without a box"),
            dict(run_id=run.id, image_id=scene, kind="wrong_label", score=0.55, box_id=dog_box,
                 evidence={"box": [38, 84, 144, 160], "label": "cat", "confidence": 0.7},
                 message="the model calls it a cat"),
            dict(run_id=run.id, image_id=scene, kind="wrong_link", score=0.50, box_id=ball_box, phrase_id=phrase,
                 evidence={"box": [38, 84, 144, 160], "label": "dog", "confidence": 0.9},
                 message="“dog” is linked to the ball"),
        ]
        ids = insert_items(project, rows)
        return Fixture(str(folder), run.id, {"scene": scene, "second": second},
                       {"dog": dog_box, "ball": ball_box, "extra": extra}, vqa, phrase,
                       {row["kind"]: item_id for row, item_id in zip(rows, ids, strict=True)})
