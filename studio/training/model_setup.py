"""The model as a workflow trains it: loaded through its adapter, then full, LoRA or QLoRA, with the vision
tower and projector frozen or not, gradient checkpointing and the precision of the device."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.adapters.loading import load_lora
from studio.training.config import WorkflowConfig

# the projector's module name per family, for LoRA runs that also train it (saved whole beside the adapter)
PROJECTORS = {"qwen3_vl": ["merger"], "qwen2_5_vl": ["merger"]}


def weights_dtype(mode: str, precision: str) -> str:
    """Full fine-tuning keeps fp32 master weights (autocast does the rest); LoRA bases load in the run's
    half precision to save memory."""
    if mode == "full" or precision == "fp32":
        return "float32"
    return {"bf16": "bfloat16", "fp16": "float16"}[precision]


def load_for_training(
    adapter: Any, config: WorkflowConfig, device: str, precision: str, *, resume_from: Path | None = None
) -> Any:
    """The model ready to train (parameters to train have ``requires_grad``). ``resume_from`` is a checkpoint
    folder of this workflow: its full weights, or the base model plus its LoRA adapter."""
    folder = config.model_folder or None
    quantization = {"qlora4": 4, "qlora8": 8}.get(config.mode)
    dtype = weights_dtype(config.mode, precision)
    if config.mode == "full":
        model = adapter.load_model(resume_from or folder, dtype=dtype, device=device)
        _freeze_vision(model, config)
    else:
        model = adapter.load_model(folder, dtype=dtype, device=device, quantization=quantization)
        if quantization is not None:
            from peft import prepare_model_for_kbit_training

            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=config.grad_checkpointing)
            _undo_upcast(model, dtype)
        model = _with_lora(model, adapter, config, resume_from)
    if config.grad_checkpointing:
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if config.mode != "full":
            base.enable_input_require_grads()
        base.config.use_cache = False
    return model.train()


def _undo_upcast(model: Any, dtype: str) -> None:
    """Return the unquantised weights to ``dtype`` after peft's kbit preparation up-cast them all to fp32: left so,
    the embeddings, lm_head and vision tower would take twice their memory (about 5 GB more for an 8B model), and
    the model would hold two precisions that only autocast reconciles. The layout is then LoRA's (as in
    LLaMA-Factory, whose norms stay in the compute dtype by default); the norms compute in fp32 inside anyway."""
    import torch

    for param in model.parameters():
        if param.dtype == torch.float32:
            param.data = param.data.to(getattr(torch, dtype))


def _freeze_vision(model: Any, config: WorkflowConfig) -> None:
    for name, param in model.named_parameters():
        if ".visual." in f".{name}":
            is_projector = "merger" in name
            param.requires_grad = config.train_projector if is_projector else config.train_vision


def _with_lora(model: Any, adapter: Any, config: WorkflowConfig, resume_from: Path | None) -> Any:
    from peft import LoraConfig, get_peft_model

    if resume_from is not None:
        return load_lora(model, resume_from, is_trainable=True)
    for param in model.parameters():
        param.requires_grad = False
    targets: Any = list(config.lora_targets) or adapter.lora_target_modules(unfreeze_vision=config.train_vision)
    modules_to_save = None
    if config.train_projector:
        family = adapter.entry.family
        if family not in PROJECTORS:
            raise ValueError(f"{adapter.entry.id}: training the projector with LoRA is not supported for {family}")
        modules_to_save = PROJECTORS[family]
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=targets,
        modules_to_save=modules_to_save,
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def parameter_counts(model: Any) -> tuple[int, int]:
    """(trainable, total) parameters."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())
