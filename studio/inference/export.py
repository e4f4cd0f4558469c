"""Taking a trained model out of the app: a peft adapter folder (LoRA runs) or a full merged model, each with the
processor, chat template, system prompts, a metadata file and a model card (README.md: what it is, how it was
trained, its prompt format, box convention and image preprocessing), plus a ready ``vllm serve`` command and an
example OpenAI-compatible request."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from studio.adapters import get_adapter
from studio.dataset.store import Project
from studio.inference.loading import ADAPTER_CONFIG, META_FILE, is_lora, load_checkpoint, read_meta
from studio.inference.model_card import model_card
from studio.training.runs import find_run

SKIPPED = {"trainer_state", "optimizer.pt", "scheduler.pt", "rng_state.pth"}
SERVE_FILE = "SERVE.md"
CARD_FILE = "README.md"


def export_model(
    project: Project, run: str | int, out: str | Path, *, merged: bool = False, checkpoint: str = "best"
) -> dict[str, Any]:
    """Write the run's checkpoint to ``out`` (which must not exist or be empty); returns what was written and how
    to serve it."""
    record = find_run(project, run)
    source = record.checkpoint(checkpoint)
    out = Path(out).expanduser().resolve()
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out}: the folder is not empty; choose a new one")
    out.mkdir(parents=True, exist_ok=True)
    meta = read_meta(source)
    adapter = get_adapter(meta["model_id"])
    base = adapter.entry.hf_id or str(adapter.checkpoint_folder())
    lora = is_lora(source)
    if lora and merged:
        model, processor, _, _ = load_checkpoint(source, device="cpu")
        model.merge_and_unload().save_pretrained(out)
        processor.save_pretrained(out)
        kind = "merged"
    else:
        for item in source.iterdir():
            if item.name in SKIPPED or item.name == META_FILE:
                continue
            (shutil.copytree if item.is_dir() else shutil.copy2)(item, out / item.name)
        kind = "adapter" if lora else "full"
        if lora:
            config = json.loads((out / ADAPTER_CONFIG).read_text(encoding="utf-8"))
            config["base_model_name_or_path"] = base
            (out / ADAPTER_CONFIG).write_text(json.dumps(config, indent=2), encoding="utf-8")
    system_prompts = meta.get("system_prompts") or {}
    for task, text in system_prompts.items():
        (out / f"system_prompt_{task}.txt").write_text(text + "\n", encoding="utf-8")
    metadata = {**meta, "mode": "full" if kind == "merged" else meta.get("mode"), "export": kind,
                "base_model": base, "run": record.name,
                "checkpoint": str(source.relative_to(record.folder)),
                "evaluation": record.summary.get("evaluation", {})}
    (out / META_FILE).write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    # the model card replaces peft's empty template
    (out / CARD_FILE).write_text(model_card(record, metadata, adapter, kind, base), encoding="utf-8")
    name = _served_name(record.name)
    serve = vllm_command(out, base, name, lora_rank=_lora_rank(out) if kind == "adapter" else None)
    request = example_request(name, system_prompts.get("grounding", ""))
    (out / SERVE_FILE).write_text(
        f"# Serving {record.name} with vLLM\n\n```sh\n{serve}\n```\n\nAn OpenAI-compatible request:\n\n```sh\n"
        f"curl http://localhost:8000/v1/chat/completions -H 'Content-Type: application/json' -d @- <<'EOF'\n"
        f"{json.dumps(request, indent=2)}\nEOF\n```\n"
        + ("\nSend images already stretched to the square the model was trained on: see README.md, Image "
           "preprocessing.\n" if adapter.entry.vision.square else ""),
        encoding="utf-8",
    )
    return {"folder": str(out), "kind": kind, "base_model": base, "files": sorted(p.name for p in out.iterdir()),
            "vllm_command": serve, "example_request": request}


def _served_name(run_name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in run_name) or "vlm-studio"


def _lora_rank(folder: Path) -> int:
    return int(json.loads((folder / ADAPTER_CONFIG).read_text(encoding="utf-8")).get("r", 16))


def vllm_command(folder: Path, base: str, name: str, lora_rank: int | None = None) -> str:
    """``vllm serve`` for a merged/full folder, or for the base model with the adapter as a LoRA module."""
    if lora_rank is None:
        return f"vllm serve {folder} --served-model-name {name} --limit-mm-per-prompt '{{\"image\": 1}}'"
    rank = max(8, 1 << (lora_rank - 1).bit_length())  # vLLM accepts 8, 16, 32, 64, ...
    return (f"vllm serve {base} --enable-lora --lora-modules {name}={folder} --max-lora-rank {rank} "
            f"--limit-mm-per-prompt '{{\"image\": 1}}'")


def example_request(model: str, system_prompt: str, prompt: str = "Locate the red circle.") -> dict[str, Any]:
    """A chat-completions body with the system prompt and an image (a URL, or a base64 data URL)."""
    messages: list[dict[str, Any]] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    messages.append({"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/image.jpg"}},
        {"type": "text", "text": prompt},
    ]})
    return {"model": model, "messages": messages, "max_tokens": 256, "temperature": 0}
