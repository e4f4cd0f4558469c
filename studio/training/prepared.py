"""Prepared samples kept in the run folder, so that resuming a run does not encode its data again.

When the vision tower is frozen the trainer encodes every sample once (tokens, labels, image grid) and runs each
image through the vision tower once. `save_prepared` keeps both in ``<run>/prepared/<role>.safetensors`` (tensors
only, never pickle) under a key: a SHA-256 over everything that shapes them (the split's snapshot and image files,
the settings that change samples or vision outputs, the checkpoint's processor files and weights' identity, the
library versions). `load_prepared` hands them back only when the key still matches; otherwise the run rebuilds.
A finished run, which never resumes, drops them (`discard_prepared`)."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from studio.files import replaced_atomically
from studio.training.config import WorkflowConfig
from studio.training.data import SplitData, snapshot

PREPARED_DIR = "prepared"
FORMAT = 1  # bump when the file layout changes: older files are rebuilt
PREPARED_BUDGET = 4 * 2**30  # larger preparations (big vision outputs) are rebuilt on resume rather than kept
PROCESSOR_FILES = (".json", ".jinja", ".txt", ".model", ".tiktoken")  # tokenizer, processor, chat template
WEIGHT_FILES = (".safetensors", ".bin", ".pt", ".gguf")


@dataclass(frozen=True)
class Prepared:
    """One split's encoded examples (in sample order) and its images' vision outputs (pooled, then deepstack)."""

    examples: list[dict[str, Any]]
    vision: dict[int, list[Any]]
    output_type: str


def prepared_key(project: Any, data: SplitData, config: WorkflowConfig, settings: Any, checkpoint: Path,
                 device: str, precision: str) -> str:
    """The SHA-256 that must match for kept samples of ``data`` to be reused."""
    import importlib.metadata as md

    digest = hashlib.sha256()

    def add(name: str, value: Any) -> None:
        digest.update(f"{name}={json.dumps(value, sort_keys=True, default=str)}\n".encode())

    add("format", FORMAT)
    add("snapshot", snapshot(project, [data]))
    add("image_files", [_file_identity(Path(p)) for p in sorted({s.image_path for s in data.samples})])
    add("settings", {
        "model_id": config.model_id, "model_folder": config.model_folder, "mode": config.mode,
        "train_vision": config.train_vision, "train_projector": config.train_projector,
        "task_mix": asdict(config.task_mix), "system_prompts": config.resolved_system_prompts(),
        "vision": asdict(settings), "device": device, "precision": precision,
    })
    add("checkpoint", str(checkpoint.resolve()))
    for path in sorted(p for p in checkpoint.iterdir() if p.is_file()):
        if path.suffix in PROCESSOR_FILES:
            digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
        elif path.suffix in WEIGHT_FILES:  # too large to read: their identity on disk
            add(path.name, _file_identity(path))
    add("versions", {name: md.version(name) for name in ("torch", "transformers", "safetensors")})
    return digest.hexdigest()


def _file_identity(path: Path) -> list[Any]:
    try:
        stat = path.stat()
    except OSError:
        return [str(path), None]
    return [str(path), stat.st_size, stat.st_mtime_ns]


def prepared_path(run_folder: Path, role: str) -> Path:
    return Path(run_folder) / PREPARED_DIR / f"{role}.safetensors"


def load_prepared(run_folder: Path, role: str, key: str) -> Prepared | None:
    """The kept preparation of ``role`` when its key is ``key``; None when absent, stale or unreadable."""
    from safetensors import SafetensorError, safe_open

    path = prepared_path(run_folder, role)
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as kept:
            meta = kept.metadata() or {}
            if meta.get("key") != key or meta.get("format") != str(FORMAT):
                return None
            tensors = {name: kept.get_tensor(name) for name in kept.keys()}  # noqa: SIM118 (not a dict)
    except (OSError, ValueError, RuntimeError, SafetensorError):  # a damaged file is rebuilt
        return None
    names = json.loads(meta["example_keys"])
    columns = {name: _unpack(tensors, f"examples.{name}") for name in names}
    image_keys = tensors["examples.image_key"].tolist()
    examples = [{name: columns[name][i] for name in names} | {"image_key": image_keys[i]}
                for i in range(len(image_keys))]
    parts = [_unpack(tensors, f"vision.{j}") for j in range(int(meta["vision_parts"]))]
    vision = {key: [part[i] for part in parts] for i, key in enumerate(tensors["vision.keys"].tolist())}
    return Prepared(examples, vision, meta["output_type"])


def save_prepared(run_folder: Path, role: str, key: str, prepared: Prepared) -> str:
    """Keep ``prepared`` for a resume; returns '' when kept, else why not (a sentence for the run's log)."""
    import torch
    from safetensors.torch import save_file

    examples = prepared.examples
    if not examples:
        return "no samples"
    names = sorted(set(examples[0]) - {"image_key"})
    if any(sorted(set(e) - {"image_key"}) != names for e in examples):
        return "its examples differ in their fields"
    keys = sorted(prepared.vision)
    tensors: dict[str, Any] = {"examples.image_key": torch.tensor([e["image_key"] for e in examples])}
    for name in names:
        _pack(tensors, f"examples.{name}", [e[name] for e in examples])
    layers = len(prepared.vision[keys[0]]) if keys else 0
    for j in range(layers):
        _pack(tensors, f"vision.{j}", [prepared.vision[k][j] for k in keys])
    tensors["vision.keys"] = torch.tensor(keys, dtype=torch.int64)
    size = sum(t.numel() * t.element_size() for t in tensors.values())
    path = prepared_path(run_folder, role)
    path.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(path.parent).free
    if size > PREPARED_BUDGET or size * 2 > free:
        return f"{size / 2**30:.1f} GiB is more than the {PREPARED_BUDGET / 2**30:.0f} GiB kept (or half the free disk)"
    meta = {"key": key, "format": str(FORMAT), "output_type": prepared.output_type,
            "example_keys": json.dumps(names), "vision_parts": str(layers)}
    try:
        with replaced_atomically(path) as partial:
            save_file(tensors, str(partial), metadata=meta)
    except OSError as exc:
        return f"could not write {path}: {exc.strerror or exc}"
    return ""


def discard_prepared(run_folder: Path) -> None:
    """Remove a run's kept preparation (a finished run never resumes)."""
    shutil.rmtree(Path(run_folder) / PREPARED_DIR, ignore_errors=True)


def _pack(tensors: dict[str, Any], name: str, values: list[Any]) -> None:
    """``values`` (same trailing shape) as one CPU tensor plus their first-dimension sizes."""
    import torch

    tensors[name] = torch.cat([v.detach().to("cpu") for v in values]).contiguous()
    tensors[f"{name}.sizes"] = torch.tensor([v.shape[0] for v in values], dtype=torch.int64)


def _unpack(tensors: dict[str, Any], name: str) -> list[Any]:
    return list(tensors[name].split(tensors[f"{name}.sizes"].tolist()))
