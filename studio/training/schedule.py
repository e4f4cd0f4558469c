"""The optimizer (AdamW) and learning-rate schedules: linear warm-up, then cosine or linear decay to a floor, or
constant."""

from __future__ import annotations

import math
from typing import Any

SCHEDULES = ("cosine", "linear", "constant")


class LrFactor:
    """The multiplier of the base learning rate at a step. ``total`` may be changed while training (time-budgeted
    runs re-estimate how many steps fit); the factor follows it smoothly."""

    def __init__(self, total: int, warmup: int, kind: str = "cosine", floor: float = 0.05) -> None:
        if kind not in SCHEDULES:
            raise ValueError(f"unknown schedule {kind!r}; expected one of {', '.join(SCHEDULES)}")
        self.total = max(1, int(total))
        self.warmup = max(0, int(warmup))
        self.kind = kind
        self.floor = float(floor)

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / (self.warmup + 1)
        if self.kind == "constant":
            return 1.0
        span = max(1, self.total - self.warmup)
        progress = min(1.0, (step - self.warmup) / span)
        shape = 0.5 * (1 + math.cos(math.pi * progress)) if self.kind == "cosine" else 1 - progress
        return self.floor + (1 - self.floor) * shape


def make_scheduler(optimizer: Any, factor: LrFactor) -> Any:
    """A `LambdaLR` driven by ``factor`` (its state round-trips through ``state_dict``)."""
    from torch.optim.lr_scheduler import LambdaLR

    return LambdaLR(optimizer, factor)


def make_optimizer(model: Any, lr: float, weight_decay: float, *, fused: bool = False) -> Any:
    """AdamW over the trainable parameters; no weight decay on biases and norms."""
    import torch

    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    decay = [p for n, p in named if p.ndim >= 2 and "norm" not in n]
    no_decay = [p for n, p in named if p.ndim < 2 or "norm" in n]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=lr, fused=fused)
