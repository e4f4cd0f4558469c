"""Tiny checkpoints saved as training saves them (see the training contract): a LoRA adapter and a full model,
and a project with runs pointing at them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

SYSTEM = {"grounding": "You find things.", "vqa": "You answer briefly."}


def save_checkpoint(model, processor, folder: Path, mode: str, step: int = 10) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    meta = {"model_id": "tiny", "mode": mode, "step": step, "vision": {"min_pixels": 25600, "max_pixels": 25600},
            "system_prompts": SYSTEM}
    (folder / "vlm_studio.json").write_text(json.dumps(meta))
    return folder


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory):
    """{"lora": folder, "full": folder}: a LoRA adapter with non-zero weights and a perturbed full model."""
    import torch
    from peft import LoraConfig, get_peft_model

    from studio.adapters import get_adapter

    torch.set_num_threads(1)
    adapter = get_adapter("tiny")
    processor = adapter.load_processor()
    root = tmp_path_factory.mktemp("checkpoints")
    lora = get_peft_model(adapter.load_model(), LoraConfig(r=4, lora_alpha=8, init_lora_weights=False,
                                                           target_modules=adapter.lora_target_modules()))
    full = adapter.load_model()
    with torch.no_grad():
        for p in full.parameters():
            p.add_(torch.randn_like(p) * 0.01, alpha=1.0)
    return {"lora": save_checkpoint(lora, processor, root / "lora" / "checkpoints" / "step-000010", "lora"),
            "full": save_checkpoint(full, processor, root / "full" / "checkpoints" / "step-000010", "full")}


def add_run(project, name: str, checkpoint: Path) -> int:
    """Copy a checkpoint into ``runs/<name>`` of the project and record the run."""
    folder = project.folder / "runs" / name
    shutil.copytree(checkpoint.parent.parent, folder)
    summary = {"best_checkpoint": f"checkpoints/{checkpoint.name}", "last_checkpoint": f"checkpoints/{checkpoint.name}"}
    with project.transaction({"runs"}) as conn:
        cursor = conn.execute(
            "INSERT INTO runs (name, status, folder, config, summary) VALUES (?, 'finished', ?, ?, ?)",
            (name, f"runs/{name}", json.dumps({"model_id": "tiny"}), json.dumps(summary)),
        )
        return cursor.lastrowid


