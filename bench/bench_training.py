"""Training speed: VLM Studio's trainer against a plain transformers `Trainer` on the same model (the tiny
model, vision tower frozen), the same data (the sample project's train split, caption + phrase + VQA samples),
the same settings (batch, learning rate, schedule, clipping, fp32, threads), measured in one run.

Both train one epoch. Reported: samples/s of the training loop, and end to end (data preparation included:
the plain Trainer encodes every sample on the fly; ours encodes once and caches the frozen vision outputs).
Target: >= 1.3x on CPU.

    python bench/bench_training.py [--images 300] [--threads 1] [--batch 16] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.adapters import get_adapter
from studio.dataset.sample import create_sample_project
from studio.training.batching import collate
from studio.training.config import default_workflow
from studio.training.data import ExampleSource, split_data
from studio.training.model_setup import load_for_training
from studio.training.trainer import RunConfig, train
from studio.training.workflows import save_workflow


def plain_trainer(project, config, out: Path) -> dict:
    """One epoch with transformers.Trainer: a dataset that encodes each sample with the adapter, a padding
    collator, no length grouping, the vision tower run every step."""
    import torch
    from transformers import Trainer, TrainingArguments

    adapter = get_adapter(config.model_id)
    processor = adapter.load_processor()
    data = split_data(project, config.train_split, config)
    source = ExampleSource(adapter, processor, data, config, augmentation=False)
    torch.manual_seed(config.seed)
    device = "cuda" if config.device == "cuda" else "cpu"
    model = load_for_training(adapter, config, device, "fp32")
    args = TrainingArguments(
        output_dir=str(out), per_device_train_batch_size=config.batch_size, num_train_epochs=1,
        learning_rate=config.lr, weight_decay=config.weight_decay, warmup_steps=config.warmup_steps,
        lr_scheduler_type="cosine", max_grad_norm=config.max_grad_norm, logging_steps=50, save_strategy="no",
        report_to=[], dataloader_num_workers=0, use_cpu=device == "cpu", remove_unused_columns=False, seed=config.seed,
        disable_tqdm=True,
    )
    trainer = Trainer(model=model, args=args, train_dataset=source,
                      data_collator=partial(collate, pad_id=processor.tokenizer.pad_token_id))
    started = time.monotonic()
    result = trainer.train()
    wall = time.monotonic() - started
    return {"samples": len(source), "wall_s": round(wall, 1), "samples_per_s": round(len(source) / wall, 2),
            "loop_samples_per_s": round(result.metrics["train_samples_per_second"], 2),
            "final_loss": round(result.metrics["train_loss"], 4)}


def ours(folder: Path) -> dict:
    started = time.monotonic()
    result = train(RunConfig(folder, "bench"))
    wall = time.monotonic() - started
    return {"samples": result.summary["samples"], "wall_s": round(wall, 1),
            "samples_per_s": round(result.summary["samples"] / wall, 2),
            "loop_samples_per_s": result.summary["samples_per_s"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    root = Path(tempfile.mkdtemp(prefix="vlm-bench-training-"))
    project = create_sample_project(root / "sample", count=args.images)
    config = default_workflow("tiny")
    config.epochs, config.batch_size, config.threads = 1.0, args.batch, args.threads
    config.device = args.device
    save_workflow(project, "bench", config)
    baseline = plain_trainer(project, config, root / "trainer")
    print("plain Trainer:", json.dumps(baseline), flush=True)
    mine = ours(project.folder)
    print("VLM Studio:", json.dumps(mine), flush=True)
    report = {
        "device": args.device, "threads": args.threads, "batch": args.batch, "images": args.images,
        "end_to_end_ratio": round(mine["samples_per_s"] / baseline["samples_per_s"], 2),
        "loop_ratio": round(mine["loop_samples_per_s"] / baseline["loop_samples_per_s"], 2),
        "trainer": baseline, "studio": mine,
    }
    print(json.dumps(report, indent=2))
    project.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
