"""Checkpoint folders of a run (``checkpoints/step-000123/``): standard model or peft adapter files with the
processor and ``vlm_studio.json``, plus ``trainer_state/`` for an exact resume. Keeps the best by validation
loss and the last N."""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

CHECKPOINTS_DIR = "checkpoints"
STATE_DIR = "trainer_state"


def checkpoint_name(step: int) -> str:
    return f"step-{step:06d}"


def save_checkpoint(
    run_folder: Path,
    step: int,
    model: Any,
    processor: Any,
    meta: dict[str, Any],
    state: dict[str, Any],
    optimizer: Any,
    scheduler: Any,
    scaler: Any = None,
) -> Path:
    """Write the checkpoint of ``step`` atomically (a staging folder renamed into place) and return it."""
    import numpy as np
    import torch

    final = run_folder / CHECKPOINTS_DIR / checkpoint_name(step)
    staging = final.with_name(final.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    model.save_pretrained(staging, safe_serialization=True)
    processor.save_pretrained(staging)
    (staging / "vlm_studio.json").write_text(json.dumps({**meta, "step": step}, indent=2) + "\n", encoding="utf-8")
    trainer_state = staging / STATE_DIR
    trainer_state.mkdir()
    torch.save(optimizer.state_dict(), trainer_state / "optimizer.pt")
    torch.save(scheduler.state_dict(), trainer_state / "scheduler.pt")
    if scaler is not None:
        torch.save(scaler.state_dict(), trainer_state / "scaler.pt")
    rng = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    torch.save(rng, trainer_state / "rng.pt")
    (trainer_state / "state.json").write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    return final


def load_trainer_state(checkpoint: Path, optimizer: Any, scheduler: Any, scaler: Any = None) -> dict[str, Any]:
    """Restore optimizer, scheduler, scaler and RNG states; return the saved loop state."""
    import numpy as np
    import torch

    folder = checkpoint / STATE_DIR
    if not (folder / "state.json").is_file():
        raise FileNotFoundError(f"{checkpoint}: no {STATE_DIR}/state.json; this checkpoint cannot be resumed")
    optimizer.load_state_dict(torch.load(folder / "optimizer.pt", weights_only=False))
    scheduler.load_state_dict(torch.load(folder / "scheduler.pt", weights_only=False))
    if scaler is not None and (folder / "scaler.pt").is_file():
        scaler.load_state_dict(torch.load(folder / "scaler.pt", weights_only=False))
    rng = torch.load(folder / "rng.pt", weights_only=False)
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    return json.loads((folder / "state.json").read_text(encoding="utf-8"))


def prune(run_folder: Path, checkpoints: list[dict[str, Any]], keep_last: int) -> list[dict[str, Any]]:
    """Delete checkpoints that are neither the best by validation loss nor among the last ``keep_last``;
    returns the kept entries ({"step", "val_loss"})."""
    by_step = sorted(checkpoints, key=lambda c: c["step"])
    keep = {c["step"] for c in by_step[-keep_last:]}
    best = best_checkpoint(by_step)
    if best is not None:
        keep.add(best["step"])
    for entry in by_step:
        if entry["step"] not in keep:
            shutil.rmtree(run_folder / CHECKPOINTS_DIR / checkpoint_name(entry["step"]), ignore_errors=True)
    return [c for c in by_step if c["step"] in keep]


def best_checkpoint(checkpoints: list[dict[str, Any]]) -> dict[str, Any] | None:
    scored = [c for c in checkpoints if c.get("val_loss") is not None]
    return min(scored, key=lambda c: (c["val_loss"], -c["step"])) if scored else None


def latest_checkpoint(run_folder: Path) -> Path | None:
    """The newest complete checkpoint folder of a run."""
    folder = run_folder / CHECKPOINTS_DIR
    found = sorted(p for p in folder.glob("step-*") if p.is_dir() and not p.name.endswith(".partial"))
    return found[-1] if found else None
