"""The models a run offers to try or compare, named alike on every page: its best and last checkpoints, each
other saved step, and its start (the model before training)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.dataset.store import Project
from studio.evaluation.run_eval import START
from studio.inference.loading import META_FILE
from studio.training.runs import Run, metrics

DASH = " — "


@dataclass(frozen=True)
class CheckpointChoice:
    """One model of a run: ``roles`` is ("best",), ("last",), ("best", "last"), ("step",) or ("start",)."""

    run: Run
    roles: tuple[str, ...]
    folder: Path | None  # None for the start
    step: int | None = None
    val_loss: float | None = None

    @property
    def is_start(self) -> bool:
        return self.folder is None

    @property
    def argument(self) -> str:
        """What ``vlm-studio eval --checkpoint`` and `evaluate_run` take: best, last, start or the folder name."""
        if self.folder is None:
            return START
        return self.roles[0] if self.roles[0] != "step" else self.folder.name

    def describe(self, *, val_loss: bool = True) -> str:
        """"best (step 1,200, val loss 0.69)", "last (step 1,650)", "step 400 (val loss 0.95)", "start (before
        training)"."""
        if self.folder is None:
            return "start (before training)"
        where = f"step {self.step:,}" if self.step is not None else self.folder.name
        loss = f"val loss {self.val_loss:.2f}" if val_loss and self.val_loss is not None else ""
        if self.roles == ("step",):
            return f"{where} ({loss})" if loss else where
        return f"{' and '.join(self.roles)} ({', '.join(filter(None, (where, loss)))})"

    @property
    def title(self) -> str:
        """The run and the checkpoint: "default-1 — best (step 1,200, val loss 0.69)"."""
        return f"{self.run.name}{DASH}{self.describe()}"

    @property
    def short_title(self) -> str:
        """For a chart's axis: "default-1 (trained, best)", "default-1 (before training)"."""
        if self.folder is None:
            return f"{self.run.name} (before training)"
        what = self.roles[0] if self.roles != ("step",) else self.describe(val_loss=False)
        return f"{self.run.name} (trained, {what})"


def _step(folder: Path) -> int | None:
    try:
        return int(folder.name.removeprefix("step-"))
    except ValueError:
        return None


def _summary_folder(run: Run, key: str) -> Path | None:
    chosen = run.summary.get(key)
    return (run.folder / chosen).resolve() if chosen else None


def run_checkpoints(project: Project, run: Run) -> list[CheckpointChoice]:
    """The run's best and last checkpoints (one entry when they are the same), each other saved step (oldest
    first), then its start when the run names its model."""
    saved = [p for p in run.checkpoints() if not p.name.endswith(".partial") and (p / META_FILE).is_file()]
    losses = dict(metrics(project, run, "val_loss").get("val_loss", []))
    roles: dict[Path, list[str]] = {}
    best, last = _summary_folder(run, "best_checkpoint"), _summary_folder(run, "last_checkpoint")
    if saved and last is None:
        last = saved[-1].resolve()
    for role, folder in (("best", best or last), ("last", last)):
        if folder is not None and (folder / META_FILE).is_file():
            roles.setdefault(folder, []).append(role)
    choices = []
    for folder, named in roles.items():
        step = _step(folder)
        choices.append(CheckpointChoice(run, tuple(named), folder, step, losses.get(step)))
    for folder in saved:
        if folder.resolve() not in roles:
            step = _step(folder)
            choices.append(CheckpointChoice(run, ("step",), folder, step, losses.get(step)))
    if run.config.get("model_id"):
        choices.append(CheckpointChoice(run, ("start",), None))
    return choices


def evaluated_choice(project: Project, run: Run, summary: dict[str, Any]) -> CheckpointChoice:
    """The checkpoint an evaluation ``summary`` of ``run`` was made with, in today's roles (a later resume may
    have moved the run's best)."""
    if summary.get("checkpoint") == START:
        return CheckpointChoice(run, ("start",), None)
    folder = (run.folder / summary["checkpoint"]).resolve()
    match = next((c for c in run_checkpoints(project, run) if c.folder is not None and c.folder.resolve() == folder),
                 None)
    return match or CheckpointChoice(run, ("step",), folder, _step(folder))
