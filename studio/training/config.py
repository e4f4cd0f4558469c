"""Workflow settings: one validated, JSON-serialisable record of how to fine-tune one model on a project.

`WorkflowConfig.from_dict` fills defaults for missing keys (so older saved workflows keep loading) and
`problems()` lists every invalid value in words a person can act on."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from studio.adapters import prompts
from studio.dataset.model import SPLITS
from studio.training.device import PRECISIONS
from studio.training.schedule import SCHEDULES

MODES = ("lora", "qlora4", "qlora8", "full")
MODE_NAMES = {"lora": "LoRA", "qlora4": "QLoRA 4-bit", "qlora8": "QLoRA 8-bit", "full": "Full fine-tuning"}
# words that make a horizontal flip change the meaning of a text
DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")  # what `device.pick_device` accepts
SIDE_WORDS = re.compile(r"\b(left|right|leftmost|rightmost|west|east)\b", re.IGNORECASE)


# Each number setting's name and bounds (inclusive): the Train page's spin boxes offer exactly these and
# `WorkflowConfig.keyed_problems` refuses values outside them, so a workflow saved anywhere opens unchanged there.
BOUNDS: dict[str, tuple[str, float, float]] = {
    "epochs": ("epochs", 0.1, 1000),
    "lr": ("learning rate", 1e-7, 0.5),
    "warmup_steps": ("warm-up steps", 0, 100_000),
    "lr_floor": ("the final learning-rate fraction", 0, 1),
    "weight_decay": ("weight decay", 0, 1),
    "max_grad_norm": ("gradient clipping (0: off)", 0, 100),
    "batch_size": ("batch size", 1, 4096),
    "grad_accum": ("gradient accumulation", 1, 1024),
    "max_seq_len": ("max sequence length", 16, 262_144),
    "min_pixels": ("min pixels (0: the model's)", 0, 100_000_000),
    "max_pixels": ("max pixels (0: the model's)", 0, 100_000_000),
    "max_tiles": ("max tiles (0: the model's; tiled models such as InternVL)", 0, 64),
    "lora_r": ("LoRA rank", 1, 1024),
    "lora_alpha": ("LoRA alpha", 1, 4096),
    "lora_dropout": ("LoRA dropout", 0, 0.99),
    "augment.scale": ("augmentation scale", 0, 0.9),
    "augment.crop": ("augmentation crop", 0, 0.49),
    "augment.colour": ("augmentation colour jitter", 0, 1),
    "threads": ("CPU threads (0: cores - 1)", 0, 512),
    "seed": ("seed", 0, 2**31 - 1),
    "eval_every": ("the validation interval (0: once per epoch)", 0, 10**7),
    "save_every": ("the checkpoint interval (0: once per epoch)", 0, 10**7),
    "keep_last": ("checkpoints kept", 1, 1000),
}


@dataclass
class TaskMixConfig:
    caption: bool = True
    phrases: bool = True
    vqa: bool = True


@dataclass
class AugmentConfig:
    """Box-aware augmentation; all off by default (off keeps the frozen-vision cache usable)."""

    scale: float = 0.0  # resize by a factor in [1 - scale, 1 + scale]
    crop: float = 0.0  # crop up to this fraction of each side, never through a box
    colour: float = 0.0  # brightness/contrast/saturation jitter strength
    hflip: bool = False  # only applied to samples whose text has no left/right words

    @property
    def active(self) -> bool:
        return self.scale > 0 or self.crop > 0 or self.colour > 0 or self.hflip


@dataclass
class WorkflowConfig:
    model_id: str = "tiny"
    model_folder: str = ""  # a local checkpoint folder; empty: the catalog's (bundled or Hugging Face cache)
    mode: str = "lora"
    epochs: float = 3.0
    lr: float = 2e-4
    schedule: str = "cosine"
    warmup_steps: int = 20
    lr_floor: float = 0.05  # the schedule ends at this fraction of lr
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    batch_size: int = 4
    grad_accum: int = 1
    min_pixels: int = 0  # 0: the model's default
    max_pixels: int = 0
    max_tiles: int = 0  # 0: the model's default; tiled models (InternVL) only
    max_seq_len: int = 2048
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: list[str] = field(default_factory=list)  # empty: the model's default projections
    train_vision: bool = False
    train_projector: bool = False
    grad_checkpointing: bool = False
    precision: str = "auto"
    seed: int = 42
    task_mix: TaskMixConfig = field(default_factory=TaskMixConfig)
    system_prompts: dict[str, str] = field(default_factory=dict)  # empty entries: studio/resources/prompts defaults
    train_split: str = "train"
    val_split: str = "val"
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    eval_every: int = 0  # optimizer steps between validation losses; 0: once per epoch
    save_every: int = 0  # optimizer steps between checkpoints; 0: once per epoch
    keep_last: int = 2  # checkpoints kept besides the best one
    device: str = "auto"
    threads: int = 0  # torch CPU threads; 0: cores - 1

    # ---------------------------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkflowConfig:
        """A config from saved JSON; unknown keys are an error, missing keys take the defaults."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown workflow setting(s): {', '.join(unknown)}")
        values = dict(data)
        if isinstance(values.get("task_mix"), dict):
            values["task_mix"] = TaskMixConfig(**values["task_mix"])
        if isinstance(values.get("augment"), dict):
            values["augment"] = AugmentConfig(**values["augment"])
        try:
            return cls(**values)
        except TypeError as exc:
            raise ValueError(f"bad workflow setting: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def system_prompt(self, task: str) -> str:
        """The workflow's system prompt for ``task``, or the shipped default."""
        return self.system_prompts.get(task) or prompts.system_prompt(task)

    def resolved_system_prompts(self) -> dict[str, str]:
        return {task: self.system_prompt(task) for task in prompts.TASKS}

    @property
    def vision_frozen(self) -> bool:
        return not self.train_vision and not self.train_projector

    @property
    def caches_vision(self) -> bool:
        """Whether each image's vision outputs never change during the run (so the trainer computes them once)."""
        return self.vision_frozen and not self.augment.active

    def problems(self) -> list[str]:
        """Every invalid setting, as sentences (empty when the config is valid)."""
        return [message for _key, message in self.keyed_problems()]

    def keyed_problems(self) -> list[tuple[str, str]]:
        """Every invalid setting as (the setting's key, a sentence saying what is wrong and what is allowed): the
        one validation the Train page, saving and the command line's workflow files all use."""
        out = self._choice_problems()
        for key, (name, low, high) in BOUNDS.items():
            group, _, field_name = key.rpartition(".")
            value = getattr(getattr(self, group) if group else self, field_name)
            if not low <= value <= high:
                out.append((key, f"{name} must be between {_number(low)} and {_number(high)}"))
        checks = [
            ("min_pixels", not (self.min_pixels > 0 and self.max_pixels > 0) or self.min_pixels <= self.max_pixels,
             "min pixels must not exceed max pixels"),
            ("task_mix", self.task_mix.caption or self.task_mix.phrases or self.task_mix.vqa,
             "the task mix is empty: choose captions, phrases or VQA"),
            ("val_split", self.train_split != self.val_split, "train and validation splits must differ"),
        ]
        out.extend((key, message) for key, ok, message in checks if not ok)
        unknown_tasks = sorted(set(self.system_prompts) - set(prompts.TASKS))
        if unknown_tasks:
            out.append(("system_prompts", f"system prompts for unknown task(s): {', '.join(unknown_tasks)}; "
                                          f"the tasks are {', '.join(prompts.TASKS)}"))
        return out

    def _choice_problems(self) -> list[tuple[str, str]]:
        """Settings that must be one of a list (what the Train page's drop-down lists offer)."""
        from studio.adapters import load_catalog

        out: list[tuple[str, str]] = []
        catalog = load_catalog()
        entry = catalog.get(self.model_id)
        if entry is None or not entry.available:
            available = ", ".join(e.id for e in catalog.values() if e.available)
            state = "is not in the model catalog" if entry is None else f"is {entry.status.replace('_', ' ')}"
            out.append(("model_id", f"model {self.model_id!r} {state}; available: {available}"))
        if self.mode not in MODES:
            out.append(("mode", f"training mode {self.mode!r} is not one of {', '.join(MODES)}"))
        elif entry is not None and self.mode != "full" and not entry.lora.supported:
            out.append(("mode", f"{entry.name} does not support LoRA ({entry.lora.reason}); choose full fine-tuning"))
        for key, value, allowed in (("schedule", self.schedule, SCHEDULES), ("precision", self.precision, PRECISIONS),
                                    ("train_split", self.train_split, SPLITS), ("val_split", self.val_split, SPLITS)):
            if value not in allowed:
                out.append((key, f"{key.replace('_', ' ')} {value!r} is not one of {', '.join(allowed)}"))
        if not DEVICE.fullmatch(self.device):
            out.append(("device", f"device {self.device!r} is not one of auto, cpu, cuda, cuda:N, mps"))
        return out

    def validate(self) -> WorkflowConfig:
        """Self, or a `ValueError` listing every problem."""
        problems = self.problems()
        if problems:
            raise ValueError("invalid workflow: " + "; ".join(problems))
        return self


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def default_workflow(model_id: str) -> WorkflowConfig:
    """The shipped starting point for ``model_id``. The tiny model trains fully (it is 1.9 M parameters) with
    its vision tower frozen, so the vision outputs are cached: 5 epochs of the sample project take ~6.6 min on
    2 CPU cores and teach it the sample's words for its shapes (val mean phrase IoU 0.373 -> 0.532;
    bench/bench_default_workflow.py; the settings swept in docs/pretrain/README.md)."""
    if model_id == "tiny":
        return WorkflowConfig(
            model_id="tiny",
            mode="full",
            epochs=5.0,
            lr=6e-4,
            warmup_steps=20,
            batch_size=16,
            max_seq_len=512,
            precision="fp32",
        )
    return WorkflowConfig(model_id=model_id, mode="lora", grad_checkpointing=True)
