"""The models a run offers (the Playground's picker and Evaluate's checkpoint list): best, last, each other saved
step and the start, named alike on both pages."""

from __future__ import annotations

import shutil

from studio.training.runs import find_run
from studio.ui.run_checkpoints import evaluated_choice, run_checkpoints
from tests.qt.play.conftest import add_stepped_run
from tests.unit.inference.conftest import tiny_checkpoints  # noqa: F401 (fixture)


def test_a_run_offers_best_last_each_step_and_its_start(sample_project, tiny_checkpoints):  # noqa: F811
    run = find_run(sample_project, add_stepped_run(sample_project, "default-1", tiny_checkpoints["lora"]))
    choices = run_checkpoints(sample_project, run)
    assert [(c.argument, c.describe(), c.short_title) for c in choices] == [
        ("best", "best (step 1,200, val loss 0.69)", "default-1 (trained, best)"),
        ("last", "last (step 1,650, val loss 0.71)", "default-1 (trained, last)"),
        ("step-000400", "step 400 (val loss 0.95)", "default-1 (trained, step 400)"),
        ("step-000800", "step 800 (val loss 0.78)", "default-1 (trained, step 800)"),
        ("start", "start (before training)", "default-1 (before training)"),
    ]
    summary = {"checkpoint": "checkpoints/step-000400"}
    assert evaluated_choice(sample_project, run, summary).describe(val_loss=False) == "step 400"
    assert evaluated_choice(sample_project, run, {"checkpoint": "start"}).title == "default-1 — start (before training)"


def test_a_checkpoint_being_written_is_not_offered_and_a_run_without_one_offers_its_start(
        sample_project, tiny_checkpoints):  # noqa: F811
    run = find_run(sample_project, add_stepped_run(sample_project, "default-1", tiny_checkpoints["lora"],
                                                   {10: 0.5}))
    shutil.copytree(tiny_checkpoints["lora"], run.folder / "checkpoints" / "step-000020.partial")
    assert [c.describe() for c in run_checkpoints(sample_project, run)] == [
        "best and last (step 10, val loss 0.50)", "start (before training)"]
    shutil.rmtree(run.folder / "checkpoints")
    assert [c.describe() for c in run_checkpoints(sample_project, run)] == ["start (before training)"]
