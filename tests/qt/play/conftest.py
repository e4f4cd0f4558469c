"""Fixtures for the playground and evaluate pages: a small sample project with two runs of tiny checkpoints."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from studio.dataset.sample import create_sample_project
from studio.evaluation.run_eval import START, SampleResult, evaluation_key
from studio.training.checkpoints import checkpoint_name
from studio.training.runs import add_metrics, find_run, record_evaluation
from tests.unit.inference.conftest import SYSTEM, add_run, tiny_checkpoints  # noqa: F401 (fixtures)


@pytest.fixture
def sample_project(tmp_path, tiny_checkpoints):  # noqa: F811
    with create_sample_project(tmp_path / "sample", count=8) as project:
        project.set_split([i.id for i in project.images()][:2], "val", pinned=True)
        add_run(project, "lora-run", tiny_checkpoints["lora"])
        add_run(project, "full-run", tiny_checkpoints["full"])
        yield project


STEP_LOSSES = {400: 0.95, 800: 0.78, 1200: 0.69, 1650: 0.71}  # the best is step 1,200


def add_stepped_run(project, name: str, checkpoint: Path, losses: dict[int, float] = STEP_LOSSES) -> int:
    """A run as training leaves it: a checkpoint per step in ``losses`` (copies of ``checkpoint``), its validation
    losses, the best (lowest loss) and the last step in its summary, and the model it started from."""
    folder = project.folder / "runs" / name
    for step in losses:
        shutil.copytree(checkpoint, folder / "checkpoints" / checkpoint_name(step))
    best, last = min(losses, key=losses.get), max(losses)
    summary = {"best_checkpoint": f"checkpoints/{checkpoint_name(best)}",
               "last_checkpoint": f"checkpoints/{checkpoint_name(last)}"}
    with project.transaction({"runs"}) as conn:
        run_id = conn.execute(
            "INSERT INTO runs (name, status, folder, config, summary) VALUES (?, 'finished', ?, ?, ?)",
            (name, f"runs/{name}", json.dumps({"model_id": "tiny", "system_prompts": SYSTEM}), json.dumps(summary)),
        ).lastrowid
    add_metrics(project, find_run(project, run_id), [(step, "val_loss", loss) for step, loss in losses.items()])
    return run_id


def record_fake_evaluation(project, run_id: int, checkpoint: str, results: list[SampleResult],
                           scale: float = 1.0) -> dict:
    """Store an evaluation of ``checkpoint`` (a path relative to the run, or start) with ``results`` as its
    details, as `evaluate_run` would, without running a model; every metric is set (``scale`` varies them)."""
    from dataclasses import asdict

    run = find_run(project, run_id)
    key = evaluation_key("val", START if checkpoint == START else "best")
    details = run.folder / "evaluation" / f"val-{checkpoint.rsplit('/', 1)[-1]}.json"
    details.parent.mkdir(parents=True, exist_ok=True)
    details.write_text(json.dumps([asdict(r) for r in results]), encoding="utf-8")
    metric = lambda v: round(v * scale, 3)  # noqa: E731
    summary = {"split": "val", "checkpoint": checkpoint, "samples": len(results) * 10, "images": 2, "seconds": 1.0,
               "details": str(details.relative_to(run.folder)),
               "grounding": {"mean_phrase_iou": metric(0.513), "f1@0.5": metric(0.62), "AP50": metric(0.58),
                             "mAP": metric(0.311), "unparseable_rate": metric(0.04)},
               "vqa": {"exact_match": metric(0.75), "vqav2_match": metric(0.8), "anls": metric(0.812),
                       "token_f1": metric(0.79)}}
    record_evaluation(project, run_id, key, summary)
    return summary


