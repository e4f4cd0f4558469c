"""Loading a model for inference: a training checkpoint (LoRA adapter or full model, see the training contract)
or a catalog base model, on the GPU when there is one, optionally 4/8-bit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from studio.adapters import Adapter, VisionSettings, get_adapter
from studio.adapters.loading import load_lora

META_FILE = "vlm_studio.json"
ADAPTER_CONFIG = "adapter_config.json"


class Loaded(NamedTuple):
    model: Any
    processor: Any
    adapter: Adapter
    meta: dict[str, Any]

    @property
    def settings(self) -> VisionSettings:
        """The vision settings the checkpoint was trained with (catalog defaults for base models)."""
        vision = self.meta.get("vision") or {}
        return self.adapter.settings(**{k: vision[k] for k in ("min_pixels", "max_pixels", "max_tiles") if k in vision})


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def read_meta(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OSError(f"{path}: cannot read the checkpoint's metadata ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc.msg})") from None
    if not isinstance(meta, dict) or "model_id" not in meta:
        raise ValueError(f"{path}: no \"model_id\"; this is not a VLM Studio checkpoint")
    return meta


def is_lora(folder: str | Path) -> bool:
    return (Path(folder) / ADAPTER_CONFIG).is_file()


def trained_quantization(meta: dict[str, Any], device: str) -> int | None:
    """4 or 8 for a QLoRA checkpoint on a CUDA device (its base is loaded as it was trained), else None: the
    adapter then applies to the unquantised base, which works everywhere."""
    bits = {"qlora4": 4, "qlora8": 8}.get(str(meta.get("mode")))
    return bits if bits is not None and device.startswith("cuda") else None


def load_checkpoint(
    folder: str | Path,
    *,
    device: str | None = None,
    quantization: int | str | None = "as-trained",
    dtype: str = "auto",
) -> Loaded:
    """(model, processor, adapter, meta) of a checkpoint folder: a LoRA adapter is put onto its base model with
    peft; a full checkpoint is loaded from the folder itself. ``quantization`` 4, 8, None, or "as-trained"."""
    folder = Path(folder)
    meta = read_meta(folder)
    adapter = get_adapter(meta["model_id"])
    device = device or default_device()
    if quantization == "as-trained":
        quantization = trained_quantization(meta, device)
    settings = Loaded(None, None, adapter, meta).settings
    if is_lora(folder):
        base = adapter.load_model(dtype=dtype, device=device, quantization=quantization)
        model = load_lora(base, folder)
        processor = adapter.load_processor(settings)
    else:
        model = adapter.load_model(folder, dtype=dtype, device=device, quantization=quantization)
        processor = adapter.load_processor(settings, folder=folder)
    return Loaded(model.eval(), processor, adapter, meta)


def trust_checkpoint_code(folder: str | Path) -> tuple[str, Any]:
    """Record the user's consent to run the code a checkpoint's model ships (``--trust-remote-code``): the
    checkpoint's own for a full model, its base model's for a LoRA adapter. Returns the model id and the trusted
    `CodeRevision` (None for a model without code of its own)."""
    folder = Path(folder)
    adapter = get_adapter(read_meta(folder)["model_id"])
    return adapter.entry.id, adapter.trust_code(None if is_lora(folder) else folder)


def load_base(
    model_id: str,
    *,
    folder: str | Path | None = None,
    device: str | None = None,
    quantization: int | None = None,
    dtype: str = "auto",
    vision: dict[str, Any] | None = None,
) -> Loaded:
    """A catalog model as it comes (from ``folder``, the bundled files, or the Hugging Face cache), its processor
    at the ``vision`` settings of a run that starts from it (the catalog's when None)."""
    adapter = get_adapter(model_id)
    model = adapter.load_model(folder, dtype=dtype, device=device or default_device(), quantization=quantization)
    meta = {"model_id": model_id, "mode": "base", "step": 0, "system_prompts": {}, "vision": dict(vision or {})}
    processor = adapter.load_processor(Loaded(None, None, adapter, meta).settings, folder=folder)
    return Loaded(model.eval(), processor, adapter, meta)
