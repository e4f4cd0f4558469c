"""Pre-training of the tiny built-in model's starting checkpoint on freshly generated shape scenes.

Reproducible: the same arguments (and data-loader worker count) give the same data order and initial weights.
The scenes come from `studio.dataset.synthetic.make_scene` with stream ``--seed`` (never 0: stream 0 is the
sample project, whose validation images must stay unseen). Each scene yields the adapter's own samples: the
caption prompt, one prompt per phrase, and one VQA pair, so the model learns the text it will see, with the
generator's own words (circle, square, triangle; the sample project names them otherwise, for its training to teach).

    python -m studio.training.pretrain OUT --minutes 30          # CPU: batch 16, ~2 steps/s on 2 busy cores
    python -m studio.training.pretrain OUT --minutes 7 --device cuda --workers 14 --batch 32  # H200: ~19.6 steps/s
    python -m studio.training.pretrain OUT --init studio/resources/tiny-model --lr 5e-4 ...  # continue the shipped one

An ``--init`` checkpoint from before the tokenizer's spare words (`studio.adapters.tiny.SPARE_WORDS`) gets their
embedding and output rows first; ``--steps 0`` writes it just so.

OUT receives a complete checkpoint folder (model.safetensors, config, generation config, tokenizer and
processor files) every ``--save-every`` seconds and at the end, plus ``pretrain.json`` (arguments, steps,
throughput, held-out mean IoU, library versions). Ship it with
``cp OUT/model.safetensors studio/resources/tiny-model/``.

The recipe (AdamW, weight decay 0.01, 50 warm-up steps, cosine to 5 %, gradient clipping 1.0, fp32) is the
measured one from the tiny-model notes; the learning rate defaults to 1e-3 at batch 16 and scales with the
square root of the batch. With ``--minutes`` the cosine is stretched over the steps that fit the budget,
re-estimated as training goes. The vision tower runs batched (`studio.training.uniform_vision`): the tiny model's
images all have one size, and a GPU step is otherwise bound by per-image kernel launches.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

from studio.adapters import get_adapter
from studio.adapters.samples import TaskMix
from studio.training.batching import collate, rope_index_for, to_device
from studio.training.box_check import grounding_iou
from studio.training.device import default_threads, pick_device
from studio.training.loss import answer_loss
from studio.training.scenes import HELD_OUT_SEED, check_stream, scene_samples
from studio.training.schedule import LrFactor, make_optimizer, make_scheduler
from studio.training.uniform_vision import batch_uniform_images

MODEL_ID = "tiny"
BASE_BATCH, BASE_LR = 16, 1e-3
GROUP = 8  # batches sorted by length together
TASK_NAMES = ("caption", "phrases", "vqa")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m studio.training.pretrain", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="checkpoint folder to write (created)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=float, default=None, help="training time budget (default 10)")
    budget.add_argument(
        "--steps",
        type=int,
        default=None,
        help="a fixed number of optimizer steps instead (0: write the initial checkpoint as it is)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    parser.add_argument("--seed", type=int, default=1, help="scene stream and weight seed, not 0 (default 1)")
    parser.add_argument("--batch", type=int, default=None, help="batch size (default 16 on CPU, 64 on a GPU)")
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate (default 1e-3*sqrt(batch/16))")
    parser.add_argument("--warmup", type=int, default=50, help="warm-up steps (default 50)")
    parser.add_argument("--workers", type=int, default=None, help="data-loader worker processes")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default cores - 1)")
    parser.add_argument("--save-every", type=float, default=120.0, help="seconds between checkpoints")
    parser.add_argument("--eval-images", type=int, default=100, help="held-out scenes for the final IoU")
    parser.add_argument("--init", type=Path, default=None, help="continue from this checkpoint folder")
    parser.add_argument(
        "--tasks", default="caption,phrases,vqa", help="samples per scene: caption, phrases, vqa (default all)"
    )
    args = parser.parse_args(argv)
    if args.minutes is None and args.steps is None:
        args.minutes = 10.0
    check_stream(args.seed)
    if args.steps is not None and args.steps < 0:
        parser.error("--steps must be 0 or more")
    if not set(args.tasks.split(",")) <= set(TASK_NAMES):
        parser.error(f"--tasks takes a comma list of {', '.join(TASK_NAMES)}")
    if args.seed == HELD_OUT_SEED:
        parser.error(f"seed {HELD_OUT_SEED} is the held-out stream")
    return args


class SceneStream:
    """An endless stream of collated batches from fresh scenes. Worker ``w`` of ``n`` draws scenes
    ``w, w + n, ...``; every ``GROUP`` batches' worth of examples is shuffled, sorted by length and cut into
    batches (little padding), and the batches are yielded in a shuffled order."""

    def __init__(
        self, adapter: Any, processor: Any, seed: int, batch: int, collate_fn: Any, task_mix: TaskMix
    ) -> None:
        self.adapter = adapter
        self.task_mix = task_mix
        self.processor = processor
        self.seed = seed
        self.batch = batch
        self.collate_fn = collate_fn

    def __iter__(self):
        from torch.utils.data import get_worker_info

        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        rng = random.Random(f"{self.seed}/{worker}")
        pool: list[dict[str, Any]] = []
        index = worker
        while True:
            for sample, image in scene_samples(self.seed, index, self.task_mix, vqa_per_scene=1):
                pool.append(self.adapter.supervised_example(sample, self.processor, image=image))
            index += workers
            if len(pool) >= GROUP * self.batch:
                rng.shuffle(pool)
                group, pool = pool[: GROUP * self.batch], pool[GROUP * self.batch :]
                group.sort(key=lambda e: len(e["input_ids"]))
                batches = [group[i : i + self.batch] for i in range(0, len(group), self.batch)]
                rng.shuffle(batches)
                for examples in batches:
                    yield self.collate_fn(examples)


def _iterable(stream: SceneStream):
    from torch.utils.data import IterableDataset

    class _Dataset(IterableDataset):
        def __iter__(self):
            return iter(stream)

    return _Dataset()


def save_checkpoint(model: Any, processor: Any, out: Path, meta: dict[str, Any]) -> None:
    """Write a loadable checkpoint folder; files are written beside and moved in, so a reader never sees a
    half-written model."""
    staging = out / ".saving"
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging, safe_serialization=True)
    processor.save_pretrained(staging)
    (staging / "pretrain.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    for path in staging.iterdir():
        os.replace(path, out / path.name)
    staging.rmdir()


def _versions() -> dict[str, str]:
    import tokenizers
    import torch
    import transformers

    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
    }


def _initial_model(adapter: Any, args: argparse.Namespace, device: str, vocab_size: int) -> Any:
    from transformers import AutoConfig, GenerationConfig

    from studio.adapters.tiny import build_model, grow_vocabulary

    folder = adapter.checkpoint_folder()
    if args.init is not None:
        model = adapter.load_model(folder=args.init, dtype="float32")
        grow_vocabulary(model, vocab_size, seed=args.seed)
    else:
        config = AutoConfig.from_pretrained(folder, local_files_only=True, trust_remote_code=False)
        model = build_model(config, seed=args.seed)
    model.generation_config = GenerationConfig.from_pretrained(folder, local_files_only=True)
    batch_uniform_images(model)
    return model.to(device).train()


def pretrain(args: argparse.Namespace, log=print) -> dict[str, Any]:
    """Train, save and evaluate as ``args`` say; returns the summary also written to pretrain.json."""
    import torch
    from torch.utils.data import DataLoader

    device = pick_device(args.device)
    on_gpu = device != "cpu"
    torch.set_num_threads(args.threads or default_threads())
    torch.manual_seed(args.seed)
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
    batch = args.batch or (64 if on_gpu else BASE_BATCH)
    lr = args.lr or BASE_LR * math.sqrt(batch / BASE_BATCH)
    workers = args.workers if args.workers is not None else (min(12, os.cpu_count() or 1) if on_gpu else 1)

    adapter = get_adapter(MODEL_ID)
    processor = adapter.load_processor()
    model = _initial_model(adapter, args, device, len(processor.tokenizer))
    pad_id = processor.tokenizer.pad_token_id
    loader = DataLoader(
        _iterable(
            SceneStream(
                adapter,
                processor,
                args.seed,
                batch,
                partial(collate, pad_id=pad_id, positions=rope_index_for(model)),
                TaskMix(**{name: name in args.tasks.split(",") for name in TASK_NAMES}),
            )
        ),
        batch_size=None,
        num_workers=workers,
        pin_memory=device.startswith("cuda"),
        prefetch_factor=4 if workers else None,
        persistent_workers=bool(workers),
    )
    optimizer = make_optimizer(model, lr, 0.01, fused=device.startswith("cuda"))
    budget_s = args.minutes * 60 if args.minutes is not None else math.inf
    factor = LrFactor(args.steps or 1_000_000, args.warmup, "cosine", 0.05)
    scheduler = make_scheduler(optimizer, factor)
    args.out.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "model_id": MODEL_ID,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "device": device,
        "batch": batch,
        "lr": lr,
        "workers": workers,
        "threads": torch.get_num_threads(),
        "scene_stream_seed": args.seed,
        "held_out_seed": HELD_OUT_SEED,
        "versions": _versions(),
    }
    log(
        f"pretraining {MODEL_ID} on {device}: batch {batch}, lr {lr:.2e}, {workers} workers, "
        f"{torch.get_num_threads()} threads, budget {'' if args.steps is None else f'{args.steps} steps'}"
        f"{f'{args.minutes:g} min' if args.minutes is not None else ''}"
    )

    step, loss_ema, started, elapsed, rate = 0, None, None, 0.0, 0.0
    last_log = last_save = time.monotonic()
    batches = iter(loader)
    while args.steps != 0:
        data = to_device(next(batches), device)
        loss = answer_loss(model, data)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {loss.item()} at step {step}; lower --lr")
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        value = loss.item()
        loss_ema = value if loss_ema is None else 0.98 * loss_ema + 0.02 * value
        now = time.monotonic()
        if started is None:  # the clock starts after the first step (workers up, kernels warm)
            started, first_step = now, step
            continue
        elapsed = now - started
        rate = (step - first_step) / elapsed if elapsed > 0 else 0.0
        if args.steps is None and step % 50 == 0 and rate > 0:
            factor.total = max(args.warmup + 1, int(step + rate * (budget_s - elapsed)))
        done = step >= factor.total if args.steps is not None else elapsed >= budget_s
        if now - last_log >= 10 or done:
            last_log = now
            log(
                f"step {step}/{factor.total} loss {loss_ema:.4f} lr {scheduler.get_last_lr()[0]:.2e} "
                f"{rate:.2f} steps/s {rate * batch:.0f} samples/s {elapsed:.0f}s"
            )
        if done:
            break
        if now - last_save >= args.save_every:
            last_save = now
            save_checkpoint(model, processor, args.out, {**meta, "step": step, "final": False})
    meta.update(
        steps=step,
        samples=step * batch,
        train_seconds=round(elapsed, 1),
        steps_per_s=round(rate, 3),
        samples_per_s=round(rate * batch, 1),
        final_loss_ema=None if loss_ema is None else round(loss_ema, 5),
    )
    del batches, loader
    if args.eval_images > 0:
        t0 = time.monotonic()
        meta["held_out"] = {
            kind: grounding_iou(model, processor, adapter, _held_out(args.eval_images, mix), batch_size=64)
            for kind, mix in (
                ("phrase", TaskMix(caption=False, vqa=False)),
                ("caption", TaskMix(phrases=False, vqa=False)),
            )
        }
        meta["eval_seconds"] = round(time.monotonic() - t0, 1)
    meta["final"] = True
    save_checkpoint(model, processor, args.out, meta)
    return meta


def _held_out(count: int, mix: TaskMix) -> list[tuple[Any, Any]]:
    return [item for index in range(count) for item in scene_samples(HELD_OUT_SEED, index, mix)]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    summary = pretrain(args)
    print(
        json.dumps(
            {k: summary[k] for k in ("steps", "samples", "steps_per_s", "samples_per_s", "held_out") if k in summary}
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
