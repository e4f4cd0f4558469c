"""`train(run_config, on_progress, cancel)`: one training run of a saved workflow, start to finish or stop.

The loop is plain PyTorch over the adapter's supervised examples: length-grouped batches in a seeded order, the
frozen vision tower's outputs cached per image when nothing can change them, gradient accumulation, clipping,
periodic validation loss, checkpoints (best by validation loss + last N) and metrics into the store, the run
folder and TensorBoard. Stop (the cancel token) saves a checkpoint; resuming restores weights, optimizer,
scheduler, RNG and the position in the data order, so the loss curve continues the uninterrupted one."""

from __future__ import annotations

import contextlib
import errno
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from studio.adapters import get_adapter
from studio.adapters.trust import RemoteCodeNotTrusted
from studio.dataset.store import Project
from studio.jobs import Cancelled, CancelToken
from studio.training import checkpoints as ckpt
from studio.training import runs
from studio.training.batching import collate, rope_index_for, to_device
from studio.training.config import WorkflowConfig
from studio.training.data import ExampleSource, batch_plan, snapshot, vision_settings
from studio.training.device import (
    cpu_cores,
    default_threads,
    memory_in_use,
    peak_memory,
    pick_device,
    reset_peak_memory,
    resolve_precision,
)
from studio.training.distributed import Distributed
from studio.training.loss import answer_loss, keeps_logits
from studio.training.model_setup import load_for_training, parameter_counts
from studio.training.preflight import Preflight, check_data, check_settings
from studio.training.prepared import Prepared, discard_prepared, load_prepared, prepared_key, save_prepared
from studio.training.reporting import SessionReporting, TrainingEvent
from studio.training.schedule import LrFactor, make_optimizer, make_scheduler
from studio.training.vision_cache import VisionCache, accepts_encoder_outputs
from studio.training.workflows import get_workflow


class TrainingError(RuntimeError):
    """The run cannot start or had to stop; the message says what to do."""


@dataclass(frozen=True)
class RunConfig:
    project_folder: Path
    workflow: str
    resume: str | None = None  # the name of a stopped run to continue
    run_name: str | None = None  # a new run's name; default <workflow>-<n>
    max_steps: int | None = None  # stop (finished) after this many optimizer steps: quick tries and tests


@dataclass(frozen=True)
class TrainResult:
    run_name: str
    status: str  # finished or stopped
    steps: int
    summary: dict[str, Any]


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": sys.version.split()[0]}
    for name in ("torch", "transformers", "peft", "accelerate", "bitsandbytes"):
        with contextlib.suppress(md.PackageNotFoundError):
            out[name] = md.version(name)
    return out


def _norm_value(norm: Any) -> float:
    """The gradient norm as a number (under FSDP ``clip_grad_norm_`` returns a sharded tensor)."""
    return float(norm.full_tensor() if hasattr(norm, "full_tensor") else norm)


def _memory_mb(device: str) -> float:
    used = memory_in_use(device)
    if used is not None:
        return used[0] / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak RSS (Linux: KiB)


def train(
    run_config: RunConfig,
    on_progress: Callable[[TrainingEvent], None] | None = None,
    cancel: CancelToken | None = None,
) -> TrainResult:
    """Run (or resume) a training run; returns when it finished or was stopped. Raises `TrainingError`."""
    try:
        rank = Distributed.from_env().rank
    except RuntimeError as exc:
        raise TrainingError(str(exc)) from None
    with Project.open(run_config.project_folder, read_only=rank != 0) as project:  # rank 0 writes the records
        try:
            return _Session(project, run_config, on_progress or (lambda event: None), cancel or CancelToken()).run()
        except RemoteCodeNotTrusted as exc:  # before the run exists: say how to consent
            raise TrainingError(str(exc)) from None


class _Session(SessionReporting):
    def __init__(
        self, project: Project, rc: RunConfig, emit: Callable[[TrainingEvent], None], cancel: CancelToken
    ) -> None:
        self.project, self.rc, self.forward, self.cancel = project, rc, emit, cancel
        self.log_lines: list[str] = []  # waiting for the run folder
        self.pending_metrics: list[tuple[int, str, float]] = []
        self.last_flush = time.monotonic()
        self.writer: Any = None
        self.dist = Distributed()
        self.run_record: Any = None

    # --- set-up -------------------------------------------------------------------------------------------
    def run(self) -> TrainResult:
        import torch

        self.status("preparing")
        resume_run = runs.find_run(self.project, self.rc.resume) if self.rc.resume else None
        if resume_run is not None:
            if resume_run.status in ("running", "finished"):
                raise TrainingError(
                    f"run {resume_run.name!r} is {resume_run.status}; only stopped or failed runs resume"
                )
            config = WorkflowConfig.from_dict(resume_run.config["workflow_config"])
            workflow_id = resume_run.workflow_id
        else:
            workflow = get_workflow(self.project, self.rc.workflow)
            config, workflow_id = workflow.config, workflow.id
        self.config = config
        adapter = get_adapter(config.model_id)
        self.dist = Distributed.from_env()
        if self.dist.sharded and config.mode.startswith("qlora"):
            raise TrainingError(
                "FSDP does not shard QLoRA's quantised weights: train LoRA under FSDP, or launch QLoRA as DDP "
                "(`vlm-studio launch-config ... --gpus N` without --fsdp/--deepspeed)"
            )
        device = self.dist.device(pick_device(config.device))
        self.dist.setup(device)
        precision = resolve_precision(config.precision, device)
        torch.set_num_threads(config.threads or default_threads())
        report = check_settings(adapter, config, device)
        self._refuse(report)
        settings = vision_settings(adapter, config)
        processor = adapter.load_processor(settings, folder=config.model_folder or None)
        data = check_data(self.project, adapter, processor, config, device, report)
        train_data, val_data, lengths, val_lengths = data.train, data.val, data.lengths, data.val_lengths
        self._refuse(report)

        if resume_run is None and not self.dist.main:
            resume_from = None  # rank 0 keeps the records
        elif resume_run is None:
            name = self.rc.run_name or runs.new_run_name(self.project, self.rc.workflow)
            record = {
                "model_id": config.model_id,
                "mode": config.mode,
                "workflow": self.rc.workflow,
                "workflow_config": config.to_dict(),
                "system_prompts": config.resolved_system_prompts(),
                "vision": asdict(settings),
                "seed": config.seed,
                "task_mix": asdict(config.task_mix),
                "dataset": snapshot(self.project, [train_data, val_data]),
                "versions": _versions(),
                "device": device,
                "precision": precision,
                "preflight": report.facts,
            }
            self.run_record = runs.create_run(self.project, name, workflow_id, record)
            resume_from = None
        else:
            self.run_record = resume_run
            resume_from = ckpt.latest_checkpoint(resume_run.folder)
            self.log(f"resuming {resume_run.name} from {resume_from.name if resume_from else 'the start'}")
        torch.manual_seed(config.seed)
        self.preflight = report.facts
        reset_peak_memory(device)
        model = load_for_training(adapter, config, device, precision, resume_from=resume_from)
        trainable, total = parameter_counts(model)
        self.log(
            f"{config.model_id}: {trainable:,} of {total:,} parameters train ({config.mode}) on {device}, {precision}"
        )
        self.setup = (adapter, processor, settings, device, precision)
        self.model = model
        try:
            return self._train(train_data, val_data, lengths, val_lengths, resume_from)
        finally:
            self.dist.teardown()

    def _refuse(self, report: Preflight) -> None:
        for warning in report.warnings:
            self.log("warning: " + warning)
        if not report.ok:
            raise TrainingError("cannot start: " + "; ".join(report.errors))

    # --- the loop -----------------------------------------------------------------------------------------
    def _train(self, train_data, val_data, lengths, val_lengths, resume_from) -> TrainResult:
        import torch

        adapter, processor, settings, device, precision = self.setup
        config, model = self.config, self.model
        batches_per_epoch = math.ceil(len(lengths) / config.batch_size)
        per_step = config.grad_accum * self.dist.world  # batches one optimizer step takes, all processes
        if self.dist.active:  # every process needs its batches in every step: an incomplete tail is left out
            steps_per_epoch = max(1, batches_per_epoch // per_step)
        else:
            steps_per_epoch = math.ceil(batches_per_epoch / per_step)
        total_steps = max(1, math.ceil(config.epochs * steps_per_epoch))
        if self.rc.max_steps is not None:
            total_steps = min(total_steps, self.rc.max_steps)
        state = {"step": 0, "samples": 0, "seconds": 0.0, "checkpoints": [], "best_val_loss": None}
        if resume_from is not None:
            state.update(ckpt.loop_state(resume_from))
        run = self.run_record
        if self.dist.main:
            runs.set_status(self.project, run, "running")
            self._open_tensorboard(run.folder)
            start = f", from step {state['step']:,}" if state["step"] else ""
            self.log(f"{run.name} running: {total_steps:,} optimizer steps ({config.epochs:g} epochs of "
                     f"{steps_per_epoch:,}){start}")  # a status event: the runs list shows it running
        core = model  # the model itself; ``model`` is what trains: the DDP wrapper, or ``core`` sharded in place

        use_cache = config.caches_vision and accepts_encoder_outputs(core)
        positions = rope_index_for(core)
        keep = keeps_logits(core)
        pad_id = processor.tokenizer.pad_token_id
        source = ExampleSource(adapter, processor, train_data, config, augmentation=True)
        val_source = ExampleSource(adapter, processor, val_data, config, augmentation=False)
        cache = VisionCache(core) if use_cache else None
        if cache is not None:
            try:
                train_examples = self._prepare_cached(source, cache, "train")
                val_examples = self._prepare_cached(val_source, cache, "validation")
            except Cancelled:  # stopped before the first step: nothing to save, a resume starts afresh
                return self._finish("stopped", state, state["step"])
        model = self.dist.wrap(core, device)  # after the cache: the vision tower ran there unsharded
        optimizer = make_optimizer(core, config.lr, config.weight_decay, fused=device.startswith("cuda"))
        factor = LrFactor(total_steps, config.warmup_steps, config.schedule, config.lr_floor)
        scheduler = make_scheduler(optimizer, factor)
        scaler = torch.amp.GradScaler("cuda") if precision == "fp16" else None
        if resume_from is not None:
            try:
                ckpt.restore_trainer_state(resume_from, core, optimizer, scheduler, scaler, self.dist.rank)
            except ckpt.CheckpointRefused as exc:
                self._fail(str(exc))
                raise TrainingError(str(exc)) from None
            self.log(f"resumed from {resume_from.name}")
        meta = {
            "model_id": config.model_id,
            "mode": config.mode,
            "vision": asdict(settings),
            "system_prompts": config.resolved_system_prompts(),
            "workflow": self.rc.workflow,
            "run": run.name if run is not None else "",
        }

        def make_batch(indices: list[int], epoch: int, examples_of=None, src=source) -> dict[str, Any]:
            if cache is not None:
                examples = [examples_of[i] for i in indices]
                batch = collate(examples, pad_id, positions=positions)
                batch["mm_encoder_outputs"] = cache.encoder_outputs([e["image_key"] for e in examples])
                return to_device(batch, device)
            examples = [src.example(i, epoch) for i in indices]
            return to_device(collate(examples, pad_id, positions=positions), device)

        autocast = (
            torch.autocast("cuda", dtype={"bf16": torch.bfloat16, "fp16": torch.float16}[precision])
            if device.startswith("cuda") and precision != "fp32"
            else contextlib.nullcontext()
        )

        def validation_loss() -> float | None:
            """On the main process; under FSDP every process runs it (each forward is collective)."""
            if not val_lengths or not (self.dist.main or self.dist.sharded):
                return None
            core.eval()
            order = sorted(range(len(val_lengths)), key=lambda i: val_lengths[i])
            total_loss, total_tokens = 0.0, 0
            with torch.no_grad():
                for start in range(0, len(order), config.batch_size):
                    chunk = order[start : start + config.batch_size]
                    batch = make_batch(chunk, 0, val_examples if cache else None, val_source)
                    with autocast:
                        loss = answer_loss(core, batch, keep)
                    tokens = int((batch["labels"][:, 1:] != -100).sum())
                    total_loss += float(loss) * tokens
                    total_tokens += tokens
            core.train()
            return total_loss / max(1, total_tokens) if self.dist.main else None

        step = state["step"]
        started = time.monotonic() - state["seconds"]
        window: list[tuple[float, int]] = [(time.monotonic(), state["samples"])]
        self.emit(
            TrainingEvent(
                "status",
                step,
                total_steps,
                step / steps_per_epoch,
                message=f"training: {total_steps} steps, {len(lengths)} samples per epoch",
            )
        )
        try:
            while step < total_steps:
                epoch = step // steps_per_epoch
                plan = batch_plan(lengths, config.batch_size, config.seed, epoch)
                first = (step % steps_per_epoch) * per_step
                for chunk_start in range(first, steps_per_epoch * per_step, per_step):
                    chunk = plan[chunk_start : chunk_start + per_step]
                    micro = chunk[self.dist.rank :: self.dist.world]
                    loss_value = 0.0
                    for indices in micro:
                        batch = make_batch(indices, epoch, train_examples if cache else None)
                        with autocast:
                            loss = answer_loss(model, batch, keep) / len(micro)
                        if not torch.isfinite(loss):
                            raise TrainingError(
                                f"the loss became {loss.detach().item()} at step {step + 1}: lower the learning rate "
                                f"(now {config.lr:g}), keep gradient clipping on, or train in fp32/bf16 "
                                "instead of fp16"
                            )
                        (scaler.scale(loss) if scaler else loss).backward()
                        loss_value += loss.detach().item()
                    if scaler:
                        scaler.unscale_(optimizer)
                    grad_norm = (
                        _norm_value(
                            torch.nn.utils.clip_grad_norm_(
                                [p for p in model.parameters() if p.requires_grad], config.max_grad_norm
                            )
                        )
                        if config.max_grad_norm > 0
                        else 0.0
                    )
                    if scaler:
                        scaler.step(optimizer)
                        scaler.update()
                    else:
                        optimizer.step()
                    lr = scheduler.get_last_lr()[0]
                    scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
                    step += 1
                    state["step"] = step
                    state["samples"] += sum(len(b) for b in chunk)
                    now = time.monotonic()
                    state["seconds"] = now - started
                    window.append((now, state["samples"]))
                    window = window[-50:]
                    rate = (window[-1][1] - window[0][1]) / max(1e-9, window[-1][0] - window[0][0])
                    steps_rate = (len(window) - 1) / max(1e-9, window[-1][0] - window[0][0])
                    metrics = {
                        "loss": loss_value,
                        "lr": lr,
                        "grad_norm": grad_norm,
                        "samples_per_s": rate,
                        "eta_s": (total_steps - step) / steps_rate if steps_rate > 0 else 0.0,
                        "memory_mb": _memory_mb(device),
                    }
                    self.record(step, metrics)
                    self.emit(TrainingEvent("step", step, total_steps, step / steps_per_epoch, metrics))
                    end_of_epoch = step % steps_per_epoch == 0
                    last = step >= total_steps
                    val_loss = None
                    if (
                        last
                        or (config.eval_every and step % config.eval_every == 0)
                        or (not config.eval_every and end_of_epoch)
                    ):
                        val_loss = validation_loss()
                        if val_loss is not None:
                            self.record(step, {"val_loss": val_loss})
                            self.emit(
                                TrainingEvent("eval", step, total_steps, step / steps_per_epoch, {"val_loss": val_loss})
                            )
                    self.dist.barrier()  # the others wait while rank 0 validates
                    stopping = self.dist.cancelled(self.cancel.cancelled, device) and not last
                    if (
                        last
                        or stopping
                        or (config.save_every and step % config.save_every == 0)
                        or (not config.save_every and end_of_epoch)
                    ):
                        self._save(step, state, val_loss, meta, optimizer, scheduler, scaler, total_steps)
                        self.dist.barrier()
                    if stopping:
                        return self._finish("stopped", state, step)
                    if last:
                        break
            return self._finish("finished", state, step)
        except TrainingError as exc:
            self._fail(str(exc))
            raise
        except torch.cuda.OutOfMemoryError:
            del model, optimizer
            self.model = None
            torch.cuda.empty_cache()
            message = (
                f"out of GPU memory at step {step + 1}: lower max pixels (now "
                f"{settings.max_pixels}) or batch size (now {config.batch_size}, use gradient accumulation "
                "instead), turn on gradient checkpointing, or use QLoRA 4-bit"
            )
            self._fail(message)
            raise TrainingError(message) from None
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                message = (
                    f"the disk is full ({exc.filename or run.folder}): free space there or keep fewer "
                    "checkpoints (keep last)"
                )
                self._fail(message)
                raise TrainingError(message) from None
            self._fail(str(exc))
            raise
        except BaseException as exc:
            self._fail(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self.flush(force=True)
            if self.writer is not None:
                self.writer.close()

    def _prepare_cached(self, source: ExampleSource, cache: VisionCache, what: str) -> list[dict[str, Any]]:
        """Every sample encoded and every image's vision outputs in ``cache``: kept from an earlier start of this
        run when nothing that shapes them changed (studio.training.prepared), else encoded and kept."""
        adapter, _, settings, device, precision = self.setup
        run = self.run_record
        key = prepared_key(self.project, source.data, self.config, settings,
                           adapter.checkpoint_folder(self.config.model_folder or None), device, precision)
        started = time.monotonic()
        kept = load_prepared(run.folder, what, key) if run is not None else None
        if kept is not None:
            try:
                cache.restore(kept.vision, kept.output_type)
            except ValueError as exc:
                self.log(f"preparing the {what} samples again: {exc}")
                kept = None
        if kept is not None:
            total = len(kept.examples)
            self.emit(TrainingEvent("prepare", total, total, message=f"reused prepared {what} samples"))
            self.log(f"reused prepared {what} samples ({total:,}, {time.monotonic() - started:.1f} s)")
            return kept.examples
        examples = self._encode_cached(source, cache, what)
        self.log(f"prepared {len(examples):,} {what} samples in {time.monotonic() - started:.1f} s")
        if run is not None and self.dist.main and examples:
            images = {e["image_key"] for e in examples}
            why = save_prepared(run.folder, what, key, Prepared(examples, cache.entries(images), cache.output_type))
            if why:
                self.log(f"the prepared {what} samples are not kept for a resume: {why}")
        return examples

    def _encode_cached(self, source: ExampleSource, cache: VisionCache, what: str) -> list[dict[str, Any]]:
        """Encode every sample once (in loader processes when there are spare cores); each image goes through
        the vision tower once, in batches, into the cache."""
        from torch.utils.data import DataLoader

        workers = min(8, cpu_cores()) if len(source) > 200 else 0
        loader = DataLoader(source, batch_size=None, num_workers=workers, prefetch_factor=16 if workers else None)
        examples: list[dict[str, Any]] = []
        waiting: dict[int, tuple[Any, Any]] = {}
        total, last_report = len(source), 0.0

        def run_vision() -> None:
            keys = list(waiting)
            import torch

            cache.add(keys, torch.cat([waiting[k][0] for k in keys]), torch.cat([waiting[k][1] for k in keys]))
            waiting.clear()

        for index, example in enumerate(loader):
            key = source.data.samples[index].image_id
            if key not in cache and key not in waiting:
                waiting[key] = (example["pixel_values"].clone(), example["image_grid_thw"].clone())
                if len(waiting) >= 32:
                    run_vision()
            # copies: tensors from loader processes hold a shared-memory file each
            example = {k: v.clone() for k, v in example.items() if k != "pixel_values"}
            example["image_key"] = key
            examples.append(example)
            if time.monotonic() - last_report > 0.5 or index + 1 == total:
                last_report = time.monotonic()
                self.emit(
                    TrainingEvent("prepare", index + 1, total, message=f"preparing {what} samples {index + 1}/{total}")
                )
            self.cancel.raise_if_cancelled()
        if waiting:
            run_vision()
        return examples

    # --- records ------------------------------------------------------------------------------------------
    def _save(self, step, state, val_loss, meta, optimizer, scheduler, scaler, total_steps) -> None:
        """Every process gathers its share of the states; the main one writes the checkpoint."""
        states = ckpt.gather_states(self.model, optimizer)
        if not self.dist.main:
            return
        self.flush(force=True)  # the curve holds every step up to a checkpoint, whatever kills the run after it
        run = self.run_record
        state["checkpoints"] = [c for c in state["checkpoints"] if c["step"] != step]
        state["checkpoints"].append({"step": step, "val_loss": val_loss})
        if val_loss is not None and (state["best_val_loss"] is None or val_loss < state["best_val_loss"]):
            state["best_val_loss"] = val_loss
        _, processor, *_ = self.setup
        folder = ckpt.save_checkpoint(
            run.folder, step, self.model, processor, meta, state, states, scheduler, scaler
        )
        state["checkpoints"] = ckpt.prune(run.folder, state["checkpoints"], self.config.keep_last)
        runs.set_status(self.project, run, "running", self._summary(state))
        self.emit(TrainingEvent("checkpoint", step, total_steps, message=f"saved {folder.name}"))

    def _summary(self, state: dict[str, Any]) -> dict[str, Any]:
        best = ckpt.best_checkpoint(state["checkpoints"])
        last = max(state["checkpoints"], key=lambda c: c["step"]) if state["checkpoints"] else None
        rel = lambda c: f"{ckpt.CHECKPOINTS_DIR}/{ckpt.checkpoint_name(c['step'])}" if c else None  # noqa: E731
        return {
            "best_checkpoint": rel(best) or rel(last),
            "last_checkpoint": rel(last),
            "best_val_loss": state["best_val_loss"],
            "steps": state.get("step"),
            "samples": state["samples"],
            "train_seconds": round(state["seconds"], 1),
            "evaluation": self.run_record.summary.get("evaluation", {}),
        }

    def _finish(self, status: str, state: dict[str, Any], step: int) -> TrainResult:
        state["step"] = step
        if not self.dist.main:
            return TrainResult("", status, step, {})
        summary = self._summary(state)
        summary["samples_per_s"] = round(state["samples"] / max(1e-9, state["seconds"]), 2)
        peak = peak_memory(self.setup[3]) if hasattr(self, "setup") else None
        if peak is not None:  # beside the pre-flight estimate: how close it came on this GPU
            summary["peak_memory_bytes"] = peak
            estimate = self.preflight.get("memory_estimate_bytes")
            self.log(f"peak GPU memory {peak / 2**30:.2f} GiB"
                     + (f" (estimated {estimate / 2**30:.2f} GiB before the run)" if estimate else ""))
        runs.set_status(self.project, self.run_record, status, summary)
        if status == "finished":
            discard_prepared(self.run_record.folder)
        self.emit(TrainingEvent("done", step, step, message=f"run {self.run_record.name} {status} at step {step}"))
        return TrainResult(self.run_record.name, status, step, summary)

    def _fail(self, message: str) -> None:
        run = getattr(self, "run_record", None)
        if run is not None:
            with contextlib.suppress(OSError):  # a full disk must not hide the message itself
                self.keep_log(f"failed: {message}")
            summary = dict(runs.find_run(self.project, run.name).summary)
            summary["error"] = message
            runs.set_status(self.project, run, "failed", summary)
