"""Checkpoint folders of a run (``checkpoints/step-000123/``): standard model or peft adapter files with the
processor and ``vlm_studio.json``, plus ``trainer_state/`` for an exact resume. Keeps the best by validation
loss and the last N.

A project folder may come from someone else, so resuming never unpickles arbitrary objects: the optimizer,
scheduler, scaler and RNG states are plain containers of tensors and numbers (the numpy RNG key as a tensor),
read back with ``torch.load(weights_only=True)``; a file holding anything else is refused, naming it."""

from __future__ import annotations

import json
import os
import pickle
import random
import shutil
from pathlib import Path
from typing import Any, NamedTuple

CHECKPOINTS_DIR = "checkpoints"
STATE_DIR = "trainer_state"


class CheckpointRefused(RuntimeError):
    """A trainer state file holds more than tensors and numbers (it could run code when loaded) or cannot be read."""


def checkpoint_name(step: int) -> str:
    return f"step-{step:06d}"


class Gathered(NamedTuple):
    """What a checkpoint holds beyond ``save_pretrained``, gathered from every process by `gather_states`."""

    weights: dict[str, Any] | None  # the whole model state when it is sharded (FSDP), else None
    optimizer: dict[str, Any]  # keyed by parameter name
    rng: list[dict[str, Any]]  # one per process: each drew its own dropout masks


def gather_states(model: Any, optimizer: Any) -> Gathered:
    """Every process calls this together; the main one receives the states (in CPU memory)."""
    import torch.distributed as dist
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        get_model_state_dict,
        get_optimizer_state_dict,
    )
    from torch.distributed.fsdp import FSDPModule

    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    weights = get_model_state_dict(model, options=options) if isinstance(model, FSDPModule) else None
    optimizer_state = get_optimizer_state_dict(model, optimizer, options=options)
    rng = [_rng_state()]
    if dist.is_initialized() and dist.get_world_size() > 1:
        rng = [None] * dist.get_world_size() if dist.get_rank() == 0 else None
        dist.gather_object(_rng_state(), rng, dst=0)
    return Gathered(weights, optimizer_state, rng or [])


def _rng_state() -> dict[str, Any]:
    import numpy as np
    import torch

    kind, keys, position, has_gauss, gauss = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, gauss],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def save_checkpoint(
    run_folder: Path,
    step: int,
    model: Any,
    processor: Any,
    meta: dict[str, Any],
    state: dict[str, Any],
    states: Gathered,
    scheduler: Any,
    scaler: Any = None,
) -> Path:
    """Write the checkpoint of ``step`` atomically (a staging folder renamed into place) and return it;
    ``states`` come from `gather_states`."""
    import torch

    final = run_folder / CHECKPOINTS_DIR / checkpoint_name(step)
    staging = final.with_name(final.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    extra = {"state_dict": states.weights} if states.weights is not None else {}
    model.save_pretrained(staging, safe_serialization=True, **extra)
    processor.save_pretrained(staging)
    (staging / "vlm_studio.json").write_text(json.dumps({**meta, "step": step}, indent=2) + "\n", encoding="utf-8")
    trainer_state = staging / STATE_DIR
    trainer_state.mkdir()
    torch.save(states.optimizer, trainer_state / "optimizer.pt")
    torch.save(scheduler.state_dict(), trainer_state / "scheduler.pt")
    if scaler is not None:
        torch.save(scaler.state_dict(), trainer_state / "scaler.pt")
    torch.save(states.rng, trainer_state / "rng.pt")
    (trainer_state / "state.json").write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    return final


def loop_state(checkpoint: Path) -> dict[str, Any]:
    """The saved loop state (step, samples, seconds, checkpoints, best validation loss) of a checkpoint."""
    path = checkpoint / STATE_DIR / "state.json"
    if not path.is_file():
        raise FileNotFoundError(f"{checkpoint}: no {STATE_DIR}/state.json; this checkpoint cannot be resumed")
    return json.loads(path.read_text(encoding="utf-8"))


def restore_trainer_state(
    checkpoint: Path, model: Any, optimizer: Any, scheduler: Any, scaler: Any = None, rank: int = 0
) -> None:
    """Restore the optimizer (for ``model``, sharded or not), scheduler, scaler and process ``rank``'s RNG
    states (rank 0's when the checkpoint was written by fewer processes)."""
    import numpy as np
    import torch
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

    folder = checkpoint / STATE_DIR
    set_optimizer_state_dict(
        model,
        optimizer,
        optim_state_dict=load_state(folder / "optimizer.pt"),
        options=StateDictOptions(full_state_dict=True),
    )
    scheduler.load_state_dict(load_state(folder / "scheduler.pt"))
    if scaler is not None and (folder / "scaler.pt").is_file():
        scaler.load_state_dict(load_state(folder / "scaler.pt"))
    ranks = load_state(folder / "rng.pt")
    rng = ranks[rank] if rank < len(ranks) else ranks[0]
    random.setstate(_python_rng(rng["python"]))
    kind, keys, position, has_gauss, gauss = rng["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, gauss))
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


def load_state(path: Path) -> Any:
    """A trainer state file read with ``weights_only=True`` (tensors, numbers, strings and containers only);
    `CheckpointRefused` naming the file for anything else, such as a pickle that would run code."""
    import torch

    try:
        return torch.load(path, weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointRefused(
            f"{path}: holds objects other than tensors and numbers, which could run code when loaded (or was "
            "written by a VLM Studio before 2026-12-03); it is not loaded. Resume from another checkpoint or "
            "start a new run"
        ) from None
    except (OSError, RuntimeError, EOFError) as exc:
        raise CheckpointRefused(f"{path}: cannot be read ({exc}); this checkpoint cannot be resumed") from None


def _python_rng(state: Any) -> tuple:
    """``random.setstate``'s tuple from its saved form (``torch.save`` keeps tuples; be lenient with lists)."""
    version, internal, gauss = state
    return version, tuple(internal), gauss


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
