"""The embedded default must learn: the sample project, the default workflow of the tiny model, from the shipped
starting checkpoint (studio/resources/tiny-model/model.safetensors), on this machine's CPU.

Prints the validation split's mean phrase IoU (studio.evaluation) of the starting checkpoint and of the trained
run's best checkpoint, and the wall time of the whole training (preparation included). Target: >= 0.5 after a
run that ends within 10 minutes on 2 CPU cores, and a clear gain over the start.

    python bench/bench_default_workflow.py [--folder DIR] [--epochs E] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.adapters import load_image
from studio.dataset.sample import create_sample_project
from studio.dataset.store import Project
from studio.evaluation.run_eval import evaluate_run, project_samples, score_answers
from studio.inference.predictor import Predictor
from studio.training.config import WorkflowConfig
from studio.training.trainer import RunConfig, train
from studio.training.workflows import DEFAULT_NAME, ensure_default_workflow, get_workflow, save_workflow


def base_metrics(project: Project, config: WorkflowConfig, split: str = "val") -> dict:
    """The workflow's starting checkpoint's metrics on ``split`` (the same scoring as a run's evaluation)."""
    predictor = Predictor.from_model(config.model_id, folder=config.model_folder or None, device="cpu")
    samples = project_samples(project, split)
    answers = []
    for start in range(0, len(samples), 32):
        chunk = samples[start : start + 32]
        answers += predictor.generate_batch(chunk, [load_image(s.image_path) for s in chunk], max_new_tokens=256)
    metrics, _ = score_answers(predictor, samples, [a.text for a in answers], [a.confidence for a in answers])
    return metrics


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, default=None, help="project folder (default: a new temporary one)")
    parser.add_argument("--epochs", type=float, default=None, help="override the default workflow's epochs")
    parser.add_argument("--threads", type=int, default=None, help="override the torch threads")
    parser.add_argument("--lr", type=float, default=None, help="override the learning rate")
    parser.add_argument("--model-folder", default=None, help="start from this checkpoint folder instead")
    parser.add_argument("--no-before", action="store_true", help="skip evaluating the starting checkpoint")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="vlm-default-")) / "sample"
    project = Project.open(folder) if (folder / "project.vlmstudio.sqlite").exists() else create_sample_project(folder)
    config = ensure_default_workflow(project).config
    config.epochs = args.epochs or config.epochs
    config.lr = args.lr or config.lr
    config.threads = args.threads if args.threads is not None else config.threads
    config.model_folder = args.model_folder or config.model_folder
    save_workflow(project, DEFAULT_NAME, config)
    before = None if args.no_before else base_metrics(project, config)
    if before is not None:
        print("before:", json.dumps(before["grounding"]), flush=True)
    started = time.monotonic()

    def on_progress(event) -> None:
        if event.kind in ("eval", "done") or (event.kind == "step" and event.step % 100 == 0):
            print(f"{time.monotonic() - started:6.0f}s {event.kind} {event.step}/{event.total_steps} "
                  f"{ {k: round(v, 4) for k, v in event.metrics.items()} } {event.message}", flush=True)

    result = train(RunConfig(folder, DEFAULT_NAME), on_progress)
    wall = time.monotonic() - started
    after = evaluate_run(project, result.run_name, split="val", batch_size=32)
    report = {
        "workflow": get_workflow(project, DEFAULT_NAME).config.to_dict(),
        "train_wall_s": round(wall, 1),
        "samples_per_s": result.summary.get("samples_per_s"),
        "before_mean_phrase_iou": before["grounding"]["mean_phrase_iou"] if before else None,
        "after_mean_phrase_iou": after["grounding"]["mean_phrase_iou"],
        "before_f1@0.5": before["grounding"]["f1@0.5"] if before else None,
        "after_f1@0.5": after["grounding"]["f1@0.5"],
        "vqa_before": before["vqa"] if before else None,
        "vqa_after": after["vqa"],
    }
    print(json.dumps(report, indent=2))
    project.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
