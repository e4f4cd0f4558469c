"""QLoRA through the product path on a CUDA GPU: 4-bit and 8-bit runs of the tiny model on a fresh sample project
(train(), as the Train button and `vlm-studio train` run it), each best checkpoint reloaded quantised, evaluated on
val beside the run's start (also loaded quantised), with the peak memory and the wall times.

    python bench/gpu_qlora_run.py OUT_DIR [--images 300] [--steps 60] [--modes qlora4,qlora8] [--limit N]

Needs bitsandbytes (`pip install -e '.[quant]'`) and a CUDA GPU. Writes OUT_DIR/qlora.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def linear_types(model) -> list[str]:
    return sorted({type(m).__name__ for m in model.modules() if "Linear" in type(m).__name__})


def scores(summary: dict) -> dict:
    g, v = summary["grounding"], summary["vqa"]
    return {"mean_phrase_iou": g.get("mean_phrase_iou"), "f1@0.5": g.get("f1@0.5"), "vqa_em": v.get("exact_match")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--modes", default="qlora4,qlora8", help="lora runs the same on a CPU (a smoke test)")
    parser.add_argument("--limit", type=int, default=None, help="evaluate only the first N val samples")
    args = parser.parse_args()

    import torch

    from studio.dataset.sample import create_sample_project
    from studio.dataset.store import Project
    from studio.evaluation.run_eval import evaluate_run, start_predictor
    from studio.inference.loading import load_checkpoint
    from studio.training import runs
    from studio.training.trainer import RunConfig, train
    from studio.training.workflows import ensure_default_workflow, save_workflow

    modes = args.modes.split(",")
    cuda = torch.cuda.is_available()
    report: dict = {"device": torch.cuda.get_device_name() if cuda else "cpu", "torch": torch.__version__}
    with tempfile.TemporaryDirectory() as tmp:
        with create_sample_project(Path(tmp) / "sample", count=args.images) as project:
            config = ensure_default_workflow(project).config
            for mode in modes:
                config.mode, config.lr, config.epochs = mode, 2e-3, 1
                save_workflow(project, mode, config)
            folder = project.folder
        for mode in modes:
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            started = time.perf_counter()
            events: list = []
            result = train(RunConfig(folder, mode, max_steps=args.steps), events.append)
            losses = [e.metrics["loss"] for e in events if e.kind == "step"]
            row = {"status": result.status, "steps": result.steps, "train_s": time.perf_counter() - started,
                   "peak_gib": torch.cuda.max_memory_allocated() / 2**30 if cuda else None,
                   "best_val_loss": result.summary.get("best_val_loss"), "losses_every_10": losses[::10]}
            with Project.open(folder) as project:
                run = runs.find_run(project, result.run_name)
                checkpoint = run.checkpoint("best")
                row["checkpoint_files"] = sorted(p.name for p in checkpoint.iterdir())
                row["checkpoint_linear_types"] = linear_types(load_checkpoint(checkpoint).model)
                row["start_linear_types"] = linear_types(start_predictor(run.config).model)
                started = time.perf_counter()
                row["val"] = scores(evaluate_run(project, result.run_name, batch_size=16, max_new_tokens=64,
                                                 limit=args.limit))
                row["val_start"] = scores(evaluate_run(project, result.run_name, checkpoint="start", batch_size=16,
                                                       max_new_tokens=64, limit=args.limit))
                row["eval_s"] = time.perf_counter() - started
            print(mode, json.dumps(row), flush=True)
            report[mode] = row
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "qlora.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
