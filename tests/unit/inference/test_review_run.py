"""Reviewing a project with a (tiny, untrained) run: items stored per image, resumable, cancellable, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from studio.adapters.boxes import ParsedBox
from studio.dataset.sample import create_sample_project
from studio.inference.predictor import BatchAnswer, Predictor
from studio.jobs import CancelToken
from studio.review.items import review_items, review_runs, reviewed_image_ids, set_state
from studio.review.run_review import box_confidences, queries_for, review_project
from tests.unit.inference.conftest import add_run


@pytest.fixture
def reviewed(tmp_path, tiny_checkpoints):
    with create_sample_project(tmp_path / "sample", count=4) as project:
        add_run(project, "full-run", tiny_checkpoints["full"])
        yield project, Predictor.from_checkpoint(tiny_checkpoints["full"])


def test_each_box_gets_the_confidence_of_the_tokens_that_wrote_it():
    tokens = ("A", "1", "B", "2", ".")  # one token per character; box k is complete once its digit is written
    answer = BatchAnswer("A1B2.", 0.5, tuple(range(5)), (-0.1, -0.1, -2.0, -2.0, -0.5))

    def decode(ids):
        return "".join(tokens[i] for i in ids)

    def parse(text):
        return [ParsedBox(text[i], (float(text[i + 1]),) * 4) for i in range(0, len(text) - 1, 2) if text[i + 1] != "."]

    confidences = box_confidences(answer, decode, parse)
    assert confidences == pytest.approx([0.904837, 0.135335], abs=1e-5)
    assert box_confidences(BatchAnswer("", 0.5), decode, parse) == []


def test_queries_ask_for_the_caption_each_unlinked_label_and_every_question(reviewed):
    project, _ = reviewed
    image = project.images()[0]
    names = {label.id: label.name for label in project.labels()}
    annotation = project.annotation(image.id)
    queries = queries_for(annotation, names)
    assert [q.kind for q in queries] == ["caption"] + ["vqa"] * len(annotation.vqa)
    extra = project.add_box(image.id, project.labels()[0].id, 1, 1, 9, 9)  # no phrase names it
    queries = queries_for(project.annotation(image.id), names)
    assert [q.kind for q in queries][:2] == ["caption", "label"] and queries[1].subject == names[
        project.box(extra).label_id
    ]


@pytest.mark.slow
def test_a_review_stores_items_resumes_and_keeps_decisions(reviewed):
    project, predictor = reviewed
    ids = [i.id for i in project.images()]
    steps = []
    first = review_project(project, "full-run", image_ids=ids[:2], predictor=predictor, max_new_tokens=24,
                           progress=lambda d, t, m: steps.append((d, t)))  # fmt: skip
    assert first.images == 2 and steps[-1] == (2, 2)
    assert reviewed_image_ids(project, first.run_id) == set(ids[:2])
    items = review_items(project, first.run_id)
    assert sum(first.items_by_kind.values()) == len(items) > 0  # an untrained model disagrees with everything
    assert all(0 <= i.score <= 1 and i.image_id in ids[:2] for i in items)
    set_state(project, [items[0].id], "dismissed")

    again = review_project(project, "full-run", image_ids=ids[:3], predictor=predictor, max_new_tokens=24)
    assert (again.images, again.skipped) == (1, 2)
    cancel = CancelToken()
    cancel.cancel()
    stopped = review_project(project, "full-run", predictor=predictor, max_new_tokens=24, cancel=cancel)
    assert stopped.cancelled and stopped.images == 0

    redone = review_project(project, "full-run", image_ids=ids[:2], restart=True, predictor=predictor,
                            max_new_tokens=24)  # fmt: skip
    assert redone.images == 2
    dismissed = review_items(project, first.run_id, states=["dismissed"])
    assert [(i.kind, i.box_id, i.vqa_id) for i in dismissed] == [(items[0].kind, items[0].box_id, items[0].vqa_id)]
    (run,) = review_runs(project)
    assert run.images_done == 3 and run.by_state["dismissed"] == 1


@pytest.mark.slow
def test_the_review_command_prints_json_and_stores_the_queue(reviewed):
    project, _ = reviewed
    folder = str(project.folder)
    project.close()
    command = ["review", folder, "--run", "full-run", "--split", "train", "--json", "--threads", "1",
               "--max-new-tokens", "24"]  # fmt: skip
    result = subprocess.run([sys.executable, "-m", "studio", *command], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["images"] > 0 and report["open_items"] == len(report["items"]) > 0
    assert all({"kind", "score", "message", "evidence"} <= set(item) for item in report["items"])
    progress = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert progress and progress[-1]["event"] == "progress"
