"""Evaluating a run's checkpoint on the val or test split: batched greedy answers for every sample (caption and
phrase grounding, VQA), the metrics, a per-sample file for the worst-first browser, and the summary stored with the
run (``runs.summary["evaluation"][split]``). The checkpoint ``start`` is the model the run started from (before any
training), stored apart (``[f"{split}@start"]``) so that a run's table row and its start's sit side by side."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from studio.adapters import Sample, TaskMix, load_image, samples_from_annotation
from studio.dataset.store import Project
from studio.evaluation.grounding import GroundingCase, grounding_metrics, score_case
from studio.evaluation.vqa import vqa_metrics, vqa_scores
from studio.inference.loading import default_device, trained_quantization
from studio.inference.predictor import BatchAnswer, Predictor
from studio.jobs import CancelToken, Progress, no_progress
from studio.training.runs import find_run, record_evaluation

EVALUATION_DIR = "evaluation"
START = "start"  # the checkpoint name for the model a run started from


def evaluation_key(split: str, checkpoint: str) -> str:
    """Where the summary of ``checkpoint`` on ``split`` is stored in the run's ``summary["evaluation"]``."""
    return f"{split}@{START}" if checkpoint == START else split


@dataclass(frozen=True)
class SampleResult:
    """One evaluated sample, for the worst-first browser: ``score`` is F1 at IoU 0.5 (grounding) or ANLS (VQA)."""

    image_id: int
    task: str
    prompt: str
    answer: str
    truth: Any  # [[phrase, [box, ...]], ...] or the true answer
    boxes: list[list[Any]]  # [[label, [x1, y1, x2, y2]], ...] in original pixels
    score: float
    mean_iou: float | None = None


def project_samples(project: Project, split: str, task_mix: TaskMix | None = None) -> list[Sample]:
    images = project.images(split=split)
    if not images:
        raise ValueError(f"{project.folder}: no images in the {split!r} split")
    return [s for image in images for s in samples_from_annotation(project.annotation(image.id), task_mix)]


def score_answers(
    predictor: Predictor, samples: list[Sample], answers: list[str], confidences: list[float] | None = None
) -> tuple[dict[str, Any], list[SampleResult]]:
    """The metrics of ``answers`` to ``samples`` (``confidences`` rank the detections for AP), and one result
    per sample."""
    cases, pairs, results = [], [], []
    confidences = confidences or [1.0] * len(answers)
    for sample, answer, confidence in zip(samples, answers, confidences, strict=True):
        if sample.task == "vqa":
            pairs.append((answer, sample.answer))
            results.append(SampleResult(sample.image_id, "vqa", sample.prompt, answer, sample.answer, [],
                                        vqa_scores(answer, sample.answer)["anls"]))
            continue
        parsed = predictor.adapter.parse_boxes(answer, sample.width, sample.height, predictor.settings)
        case = GroundingCase(
            truth=tuple((p.text, p.boxes) for p in sample.phrases),
            predicted=tuple((b.label, b.box) for b in parsed.boxes),
            parsed=bool(parsed.boxes) or not parsed.problems,
            score=confidence,
        )
        cases.append(case)
        score = score_case(case)
        results.append(SampleResult(
            sample.image_id, "grounding", sample.prompt, answer,
            [[p.text, [list(b) for b in p.boxes]] for p in sample.phrases],
            [[b.label, list(b.box)] for b in parsed.boxes], score.f1, score.mean_iou,
        ))
    metrics = {"grounding": grounding_metrics(cases), "vqa": vqa_metrics(pairs)}
    return metrics, results


def generate_all(
    predictor: Predictor,
    samples: list[Sample],
    *,
    batch_size: int,
    max_new_tokens: int,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
    message: str = "",
) -> list[BatchAnswer]:
    """Greedy answers for every sample, in batches of similar samples (short VQA answers do not wait for long
    box lists), returned in the samples' order."""
    order = sorted(range(len(samples)), key=lambda i: (samples[i].task, len(samples[i].phrases), i))
    answers: dict[int, BatchAnswer] = {}
    for start in range(0, len(order), batch_size):
        if cancel is not None:
            cancel.raise_if_cancelled()
        chunk = order[start:start + batch_size]
        images = [load_image(samples[i].image_path) for i in chunk]
        batch = predictor.generate_batch([samples[i] for i in chunk], images, max_new_tokens=max_new_tokens)
        answers.update(zip(chunk, batch, strict=True))
        progress(len(answers), len(samples), message)
    return [answers[i] for i in range(len(samples))]


def evaluate_run(
    project: Project,
    run: str | int,
    *,
    split: str = "val",
    checkpoint: str = "best",
    batch_size: int = 8,
    max_new_tokens: int = 256,
    limit: int | None = None,
    predictor: Predictor | None = None,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> dict[str, Any]:
    """Evaluate and store the summary; returns it. ``limit`` evaluates only the first samples (a quick look)."""
    record = find_run(project, run)
    folder = None if checkpoint == START else record.checkpoint(checkpoint)
    started = time.perf_counter()
    samples = project_samples(project, split)[:limit]
    progress(0, len(samples), "loading the model")
    if predictor is None:
        predictor = Predictor.from_checkpoint(folder) if folder is not None else start_predictor(record.config)
    answers = generate_all(predictor, samples, batch_size=batch_size, max_new_tokens=max_new_tokens,
                           progress=progress, cancel=cancel, message=f"evaluating on {split}")
    metrics, results = score_answers(predictor, samples, [a.text for a in answers], [a.confidence for a in answers])
    details = record.folder / EVALUATION_DIR / f"{split}-{folder.name if folder is not None else START}.json"
    details.parent.mkdir(parents=True, exist_ok=True)
    details.write_text(json.dumps([asdict(r) for r in results]), encoding="utf-8")
    summary = {
        "split": split,
        "checkpoint": str(folder.relative_to(record.folder)) if folder is not None else START,
        "samples": len(samples),
        "images": len({s.image_id for s in samples}),
        "seconds": round(time.perf_counter() - started, 2),
        "details": str(details.relative_to(record.folder)),
        **metrics,
    }
    record_evaluation(project, record.id, evaluation_key(split, checkpoint), summary)
    return summary


def start_predictor(record: dict[str, Any]) -> Predictor:
    """The model a run started from (its run ``record``: model, local folder), loaded as the run's checkpoints are
    (a QLoRA run's quantised on CUDA, the run's pixel settings: the same resolution and box frame), prompted with
    the run's system prompts."""
    config = record.get("workflow_config") or {}
    device = default_device()
    bits = trained_quantization({"mode": config.get("mode")}, device)
    predictor = Predictor.from_model(record["model_id"], folder=config.get("model_folder") or None, device=device,
                                     quantization=bits, vision=record.get("vision"))
    predictor.meta["system_prompts"] = record.get("system_prompts") or {}
    return predictor


def load_details(run_folder: str | Path, summary: dict[str, Any]) -> list[SampleResult]:
    """The per-sample results behind an evaluation summary, worst first."""
    path = Path(run_folder) / summary["details"]
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OSError(f"{path}: cannot read the evaluation details ({exc.strerror or exc})") from None
    return sorted((SampleResult(**row) for row in rows), key=lambda r: r.score)
