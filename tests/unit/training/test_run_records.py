"""Run records: a status change with a new summary keeps what evaluation stored beside it."""

from __future__ import annotations

from studio.training.runs import create_run, find_run, record_evaluation, set_status


def test_a_resumed_run_keeps_its_evaluation(project):
    run = create_run(project, "wf-1", None, {"model_id": "tiny"})
    set_status(project, run, "stopped", {"last_checkpoint": "checkpoints/step-000010"})
    record_evaluation(project, run.id, "val", {"phrase_iou": 0.5})
    set_status(project, find_run(project, "wf-1"), "finished", {"last_checkpoint": "checkpoints/step-000020"})
    summary = find_run(project, "wf-1").summary
    assert summary["last_checkpoint"] == "checkpoints/step-000020"
    assert summary["evaluation"] == {"val": {"phrase_iou": 0.5}}
