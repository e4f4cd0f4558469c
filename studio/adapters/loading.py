"""Finding a checkpoint on this machine (never downloading) and bitsandbytes quantisation settings."""

from __future__ import annotations

import re
from pathlib import Path

QUANTIZATIONS = (None, 4, 8)


class ModelNotAvailable(RuntimeError):
    """The weights are not on this machine; the message says where they were looked for and what to do."""


class QuantizationUnavailable(RuntimeError):
    """4/8-bit loading was asked for but bitsandbytes or a CUDA GPU is missing."""


def resolve_checkpoint(hf_id: str, folder: str | Path | None = None) -> Path:
    """The folder holding ``hf_id``: ``folder`` when given, else the Hugging Face cache (offline only)."""
    if folder is not None:
        path = Path(folder).expanduser()
        if not (path / "config.json").is_file():
            raise ModelNotAvailable(
                f"{path}: no config.json there; choose the folder of a downloaded checkpoint "
                f"of {hf_id or 'this model'}"
            )
        return path
    if not hf_id:
        raise ModelNotAvailable(
            "this catalog entry names no Hugging Face id; choose a local checkpoint folder"
        )
    from huggingface_hub import snapshot_download
    from huggingface_hub.constants import HF_HUB_CACHE
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(hf_id, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, OSError, ValueError):
        raise ModelNotAvailable(
            f"{hf_id} is not in the Hugging Face cache ({HF_HUB_CACHE}) "
            "and VLM Studio never downloads on its own. "
            f"Download it once with `hf download {hf_id}` (or `huggingface-cli download {hf_id}`), "
            f"or choose a local folder that holds it."
        ) from None


def quantization_config(bits: int | None, skip_modules: list[str], compute_dtype: str = "bfloat16"):
    """A `BitsAndBytesConfig` for 4-bit NF4 or 8-bit loading that leaves the modules named ``skip_modules`` (the
    vision tower, lm_head) unquantised wherever they sit; ``None`` for no quantisation."""
    if bits is None:
        return None
    if bits not in (4, 8):
        raise ValueError(f"quantisation must be 4 or 8 bits, not {bits}")
    check_quantization_available()
    import torch
    from transformers import BitsAndBytesConfig

    if bits == 4:
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=getattr(torch, compute_dtype),
            llm_int8_skip_modules=skip_patterns(skip_modules),
        )
    return BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=skip_patterns(skip_modules))


def skip_patterns(names: list[str]) -> list[str]:
    """transformers matches skip patterns from the start of a module's full name ("model.visual.blocks.0…" is
    not matched by "visual"): each name may follow any prefix of whole module names."""
    return [rf"(?:.*\.)?{re.escape(name)}" for name in names]


def check_quantization_available() -> None:
    """Raise `QuantizationUnavailable` with the reason when 4/8-bit loading cannot work here."""
    import importlib.util

    if importlib.util.find_spec("bitsandbytes") is None:
        raise QuantizationUnavailable(
            "4/8-bit loading needs bitsandbytes: install it with "
            "`pip install 'vlm-studio[quant]'`, or train with LoRA or full fine-tuning"
        )
    import torch

    if not torch.cuda.is_available():
        raise QuantizationUnavailable(
            "4/8-bit loading (QLoRA) needs a CUDA GPU; none was found. "
            "Use LoRA or full fine-tuning on this machine"
        )


def load_lora(model, folder: str | Path, *, is_trainable: bool = False):
    """peft's `PeftModel` over ``model`` from ``folder``'s ``adapter_model.safetensors`` only: an
    ``adapter_model.bin`` is a pickle, which can run code when loaded, and is refused."""
    folder = Path(folder)
    if not (folder / "adapter_model.safetensors").is_file():
        found = " (it holds only adapter_model.bin, a pickle that could run code)" \
            if (folder / "adapter_model.bin").is_file() else ""
        raise ModelNotAvailable(
            f"{folder}: no adapter_model.safetensors{found}; VLM Studio loads LoRA adapters from safetensors only"
        )
    from peft import PeftModel

    return PeftModel.from_pretrained(model, folder, is_trainable=is_trainable)
