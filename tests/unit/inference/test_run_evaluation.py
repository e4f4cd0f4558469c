"""Evaluating a run on the sample project's val split, the stored summary, and the CLI twins."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from studio.dataset.sample import create_sample_project
from studio.dataset.store import Project
from studio.evaluation.run_eval import evaluate_run, load_details, project_samples, score_answers
from studio.inference.generation import GenerationSettings
from studio.inference.predictor import Predictor
from studio.training.runs import find_run
from tests.unit.inference.conftest import add_run


@pytest.fixture
def sample_project(tmp_path, tiny_checkpoints):
    with create_sample_project(tmp_path / "sample", count=12) as project:
        project.set_split([i.id for i in project.images()][:3], "val", pinned=True)
        add_run(project, "lora-run", tiny_checkpoints["lora"])
        add_run(project, "full-run", tiny_checkpoints["full"])
        yield project


def vlm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True, text=True, timeout=180)


def test_true_answers_score_perfectly_and_wrong_ones_do_not(sample_project, tiny_checkpoints):
    predictor = Predictor.from_checkpoint(tiny_checkpoints["full"])
    samples = project_samples(sample_project, "val")
    assert {s.task for s in samples} == {"grounding", "vqa"}
    truth = [predictor.adapter.answer_text(s, predictor.settings) for s in samples]
    metrics, results = score_answers(predictor, samples, truth)
    g, v = metrics["grounding"], metrics["vqa"]
    assert g["mAP"] > 0.6 and g["AP50"] == pytest.approx(1.0) and g["f1@0.5"] == pytest.approx(1.0)
    assert g["unparseable_rate"] == 0 and v["exact_match"] == 1.0 and all(r.score == 1.0 for r in results)
    wrong = ["no idea" for _ in samples]
    metrics, _ = score_answers(predictor, samples, wrong)
    assert metrics["grounding"]["unparseable_rate"] == 1.0 and metrics["grounding"]["AP50"] == 0.0
    assert metrics["vqa"]["exact_match"] == 0.0


def test_evaluate_run_stores_the_summary_and_details(sample_project):
    steps = []
    summary = evaluate_run(sample_project, "lora-run", max_new_tokens=16, batch_size=4,
                           progress=lambda d, t, m: steps.append((d, t)))
    assert steps[-1][0] == steps[-1][1] == summary["samples"] > 0
    run = find_run(sample_project, "lora-run")
    assert run.summary["evaluation"]["val"] == summary
    assert summary["grounding"]["count"] > 0 and summary["vqa"]["count"] == 3 * summary["images"]
    details = load_details(run.folder, summary)
    assert len(details) == summary["samples"]
    assert [d.score for d in details] == sorted(d.score for d in details)


def test_the_start_of_a_run_is_evaluated_apart_from_its_checkpoints(sample_project):
    trained = evaluate_run(sample_project, "full-run", max_new_tokens=16, batch_size=4)
    start = evaluate_run(sample_project, "full-run", checkpoint="start", max_new_tokens=16, batch_size=4)
    other_start = evaluate_run(sample_project, "lora-run", checkpoint="start", max_new_tokens=16, batch_size=4)
    run = find_run(sample_project, "full-run")
    assert run.summary["evaluation"] == {"val": trained, "val@start": start}
    assert start["checkpoint"] == "start" and start["details"] == "evaluation/val-start.json"
    # both runs started from the tiny base model: the same answers, whatever their own weights
    answers = [d.answer for d in load_details(run.folder, start)]
    assert answers == [d.answer for d in load_details(find_run(sample_project, "lora-run").folder, other_start)]
    assert answers != [d.answer for d in load_details(run.folder, trained)]


@pytest.mark.slow
def test_cli_eval_predict_and_eval_boxes(sample_project, tmp_path):
    folder = str(sample_project.folder)
    sample_project.close()
    result = vlm("eval", folder, "--run", "full-run", "--limit", "4", "--max-new-tokens", "8", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["samples"] == 4
    with Project.open(folder, read_only=True) as project:
        assert find_run(project, "full-run").summary["evaluation"]["val"]["samples"] == 4
        image = project.images()[0].path
    result = vlm("predict", folder, image, "--run", "lora-run", "--prompt", "Locate the red circle.",
                 "--max-new-tokens", "6", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["new_tokens"] == 6 and answer["model_id"] == "tiny"
    result = vlm("predict", image, "--model", "tiny", "--prompt", "Hi", "--max-new-tokens", "3")
    assert result.returncode == 0, result.stderr
    assert "tokens" in result.stdout
    result = vlm("eval", folder, "--run", "missing")
    assert result.returncode == 2 and "no run 'missing'" in result.stderr


def test_a_runs_start_answers_as_the_model_before_training(sample_project, tmp_path):
    """The Playground's "start (before training)" entry and its CLI twin, predict --checkpoint start."""
    image = sample_project.images()[0].path
    start = Predictor.from_run(sample_project, "full-run", "start")
    assert start.meta["mode"] == "base" and start.model_id == "tiny"
    prompt, settings = "Locate the red circle.", GenerationSettings(max_new_tokens=8)
    answer = start(image, prompt, generation=settings).text
    assert answer == Predictor.from_model("tiny")(image, prompt, generation=settings).text
    assert answer != Predictor.from_run(sample_project, "full-run")(image, prompt, generation=settings).text
    folder = str(sample_project.folder)
    sample_project.close()
    result = vlm("predict", folder, image, "--run", "full-run", "--checkpoint", "start", "--prompt", prompt,
                 "--max-new-tokens", "8", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["text"] == answer


def test_cli_eval_boxes(tmp_path):
    gt = {"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 1, "name": "cat"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100}]}
    det = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
           {"image_id": 2, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.95}]
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "det.json").write_text(json.dumps(det))
    result = vlm("eval-boxes", "--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "det.json"), "--json")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert scores["AP50"] == pytest.approx(0.5 * 51 / 101 + 0.5 * 50 / 101, abs=0.01)
    text = vlm("eval-boxes", "--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "det.json"))
    assert "mAP@[.5:.95]" in text.stdout and "id 0" not in text.stdout
    gt["annotations"][0]["id"] = 0  # labelme's COCO converter numbers from 0; pycocotools cannot match it
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    noted = vlm("eval-boxes", "--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "det.json"))
    assert "note: 1 ground-truth annotation(s) have id 0" in noted.stdout and "pycocotools" in noted.stdout
    assert json.loads(vlm("eval-boxes", "--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "det.json"),
                          "--json").stdout)["notes"]
    missing = vlm("eval-boxes", "--gt", str(tmp_path / "nope.json"), "--pred", str(tmp_path / "det.json"))
    assert missing.returncode == 2 and "nope.json: cannot read" in missing.stderr


@pytest.mark.parametrize(("device", "bits"), [("cuda", 4), ("cpu", None)])
def test_a_qlora_runs_start_loads_as_its_checkpoints_do(monkeypatch, device, bits):
    from types import SimpleNamespace

    from studio.evaluation import run_eval

    loaded = {}
    monkeypatch.setattr(run_eval, "default_device", lambda: device)
    monkeypatch.setattr(Predictor, "from_model", lambda model_id, **kw: loaded.update(kw) or SimpleNamespace(meta={}))
    run_eval.start_predictor({"model_id": "tiny", "workflow_config": {"mode": "qlora4", "model_folder": "/m"}})
    assert loaded == {"folder": "/m", "device": device, "quantization": bits, "vision": None}


def test_a_runs_start_sees_the_runs_resolution_and_box_frame():
    """A run trained at other pixel settings than the catalog's: its start is evaluated at the run's, as its
    checkpoints are (for Qwen2.5-VL the box frame depends on them)."""
    from studio.evaluation import run_eval

    vision = {"min_pixels": 3136, "max_pixels": 200_704, "max_tiles": 0}
    predictor = run_eval.start_predictor({"model_id": "tiny", "workflow_config": {"mode": "full"}, "vision": vision})
    assert predictor.settings.max_pixels == 200_704 and predictor.settings.min_pixels == 3136
    assert predictor.processor.image_processor.size.longest_edge == 200_704  # what the processor resizes to
