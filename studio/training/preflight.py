"""Checks before a run starts, each with what to do: settings, weights on disk, LoRA support, quantisation on
this machine, the token budget (no sample may lose image tokens to truncation) and a memory estimate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.adapters.loading import ModelNotAvailable, QuantizationUnavailable, check_quantization_available
from studio.jobs import CancelToken, Progress, no_progress, throttled
from studio.training.config import WorkflowConfig


@dataclass
class Preflight:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_settings(adapter: Any, config: WorkflowConfig, device: str) -> Preflight:
    """Checks that need no data: settings, weights, LoRA support, quantisation, precision on the device."""
    report = Preflight(errors=list(config.problems()))  # settings, model, LoRA support
    if config.mode in ("qlora4", "qlora8"):
        try:
            check_quantization_available()
        except QuantizationUnavailable as exc:
            report.errors.append(str(exc))
    try:
        folder = adapter.checkpoint_folder(config.model_folder or None)
        report.facts["weights"] = str(folder)
    except ModelNotAvailable as exc:
        report.errors.append(f"weights not found: {exc}")
    if config.mode == "full" and adapter.entry.params_b > 3:
        report.warnings.append(
            f"full fine-tuning of a {adapter.entry.params_b:g} B model needs several large GPUs; LoRA or QLoRA fit one"
        )
    return report


def check_token_budget(
    report: Preflight, config: WorkflowConfig, names: list[str], lengths: list[int], split: str
) -> None:
    """Refuse samples longer than ``max_seq_len``: truncation would cut image tokens or the answer."""
    over = [(name, n) for name, n in zip(names, lengths, strict=True) if n > config.max_seq_len]
    if lengths:
        report.facts[f"{split}_longest_tokens"] = max(lengths)
    if over:
        shown = ", ".join(f"{name} ({n} tokens)" for name, n in over[:10])
        more = f" and {len(over) - 10} more" if len(over) > 10 else ""
        report.errors.append(
            f"{len(over)} {split} sample(s) exceed max sequence length {config.max_seq_len}: {shown}{more}. "
            f"Raise max sequence length to {max(n for _, n in over)} or lower max pixels"
        )


def run_memory(
    entry: Any, config: WorkflowConfig, *, seq_len: int, visual_tokens: int, images: int,
    answer_tokens: int | None = None,
) -> Any:
    """The memory estimate (studio.adapters.memory) of a run of ``config`` at this sequence length and image
    cost; ``images``: how many the run trains and validates on (their vision outputs are cached when frozen)."""
    from studio.adapters.memory import estimate_memory

    return estimate_memory(
        entry,
        config.mode,
        batch=config.batch_size,
        seq_len=seq_len,
        visual_tokens=visual_tokens,
        answer_tokens=answer_tokens,
        grad_checkpointing=config.grad_checkpointing,
        lora_rank=config.lora_r,
        train_vision=config.train_vision,
        cached_images=images if config.caches_vision else 0,
    )


def check_memory(
    report: Preflight,
    adapter: Any,
    config: WorkflowConfig,
    device: str,
    longest: int,
    visual_tokens: int,
    longest_answer: int,
    images: int,
) -> None:
    """The run's peak memory estimate (`run_memory`) against the GPU's free memory."""
    try:
        estimate = run_memory(adapter.entry, config, seq_len=longest, visual_tokens=visual_tokens, images=images,
                              answer_tokens=longest_answer)
    except ValueError as exc:
        report.errors.append(str(exc))
        return
    report.facts["longest_answer_tokens"] = longest_answer
    report.facts["memory_estimate_bytes"] = int(estimate.total)
    report.facts["trainable_parameters_estimate"] = int(estimate.trainable_params)
    if device.startswith("cuda"):
        import torch

        index = torch.device(device).index or 0
        free, capacity = torch.cuda.mem_get_info(index)
        report.facts["device_memory_bytes"] = int(capacity)
        advice = "lower max pixels or batch size, turn on gradient checkpointing, or use QLoRA 4-bit"
        tensors = sum(estimate.parts.values())  # the estimate before its fragmentation and CUDA-context margins
        if tensors > free:
            report.errors.append(
                f"estimated {estimate.total_gib:.1f} GiB ({tensors / 2**30:.1f} GiB of tensors alone) exceeds the "
                f"{free / 2**30:.1f} GiB free on {device}: {advice}"
            )
        elif estimate.total > free:
            report.warnings.append(
                f"estimated {estimate.total_gib:.1f} GiB with margins for fragmentation, {free / 2**30:.1f} GiB free "
                f"on {device}: the run may run out of memory; if it does, {advice}"
            )


@dataclass
class DataCheck:
    """The data side of a run: the split samples, their token lengths, and the checks on them."""

    report: Preflight
    train: Any  # SplitData
    val: Any
    lengths: list[int]
    val_lengths: list[int]


def check_data(project: Any, adapter: Any, processor: Any, config: WorkflowConfig, device: str,
               report: Preflight | None = None, *, progress: Progress = no_progress,
               cancel: CancelToken | None = None) -> DataCheck:
    """Samples of the workflow's splits, the token budget per sample and the memory estimate. ``progress``
    counts the samples of both splits as their tokens are counted; ``cancel`` stops between samples."""
    from pathlib import Path

    from studio.dataset.queries import unsplit_annotated
    from studio.dataset.splits import unsplit_warning
    from studio.training.data import split_data, token_lengths, vision_settings

    report = report or Preflight()
    unsplit = len(unsplit_annotated(project))
    if unsplit:
        report.warnings.append(f"{unsplit_warning(unsplit)}: Project > Split project… (or vlm-studio split "
                               "--only-unsplit) assigns them")
    train = split_data(project, config.train_split, config)
    val = split_data(project, config.val_split, config)
    if not train.samples:
        report.errors.append(
            f"the {config.train_split!r} split has no annotated samples; annotate images and assign them to "
            f"{config.train_split!r} (or change the workflow's split)"
        )
        return DataCheck(report, train, val, [], [])
    total = len(train.samples) + len(val.samples)

    def counted(before: int) -> Progress:
        return lambda done, _, message="": progress(before + done, total, f"counting tokens: sample {before + done:,}"
                                                    f" of {total:,}")

    lengths, answers = token_lengths(adapter, processor, train.samples, config, progress=counted(0), cancel=cancel)
    val_lengths, _ = token_lengths(adapter, processor, val.samples, config, progress=counted(len(train.samples)),
                                   cancel=cancel)
    for data, lens in ((train, lengths), (val, val_lengths)):
        names = [f"{Path(s.image_path).name} ({s.task})" for s in data.samples]
        check_token_budget(report, config, names, lens, data.split)
    report.facts["train_samples"] = len(train.samples)
    report.facts["val_samples"] = len(val.samples)
    settings = vision_settings(adapter, config)
    visual = max(adapter.visual_tokens(s.width, s.height, settings) for s in train.samples)
    images = len({s.image_path for s in train.samples} | {s.image_path for s in val.samples})
    check_memory(report, adapter, config, device, max(lengths), visual, max(answers), images)
    return DataCheck(report, train, val, lengths, val_lengths)


def check_project_data(folder: Any, config: WorkflowConfig, *, progress: Progress | None = None,
                       cancel: CancelToken | None = None) -> Preflight:
    """Every check of a workflow against a project's data (the Train page's "Check data"; train() runs the same):
    settings, weights, then the token budget of every sample and the memory estimate."""
    from studio.adapters import get_adapter
    from studio.dataset.store import Project
    from studio.training.data import vision_settings
    from studio.training.device import pick_device

    report_progress = throttled(progress or no_progress)
    cancel = cancel or CancelToken()
    adapter = get_adapter(config.model_id)
    device = pick_device(config.device)
    report = check_settings(adapter, config, device)
    if not report.ok:
        return report
    report_progress(0, 0, "loading the tokenizer")
    processor = adapter.load_processor(vision_settings(adapter, config), folder=config.model_folder or None)
    cancel.raise_if_cancelled()
    with Project.open(folder, read_only=True) as project:
        check_data(project, adapter, processor, config, device, report, progress=report_progress, cancel=cancel)
    return report
