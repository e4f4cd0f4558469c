"""Pre-flight peak GPU memory for training one catalog model (documented formula, bytes).

    peak = (weights + trainable_state + activations + logits + vision_activations) * 1.10 + 0.5 GiB

* weights: bf16, 2 bytes per parameter. QLoRA-4 stores the language model in NF4 with double quantisation
  (4.13 bits = 0.516 bytes per parameter), QLoRA-8 in int8 (1 byte); the vision tower, the embeddings and
  lm_head stay bf16.
* trainable_state: 16 bytes per trained parameter (bf16 weight and gradient, fp32 master copy, two fp32 AdamW
  moments). Full fine-tuning trains every parameter (the vision tower only when unfrozen); LoRA and QLoRA
  train the adapters, r * (in + out) parameters per projection (q, k, v, o, gate, up, down in every layer).
* activations, per token and layer, bf16: 2 * (7 * hidden + 4 * intermediate + 2 * kv_heads * head_dim) bytes
  (norm inputs and outputs, q/k/v/o, attention output, gate/up/activation/product of the MLP; attention via
  SDPA/flash keeps no seq x seq matrix). With gradient checkpointing only each layer's input (2 * hidden
  bytes) is kept, plus one layer's full activations while it is recomputed.
* logits: batch * seq * vocab * 8 bytes (bf16 logits, their fp32 up-cast for the loss, and its gradient).
* vision_activations: only when the vision tower is trained, the same per-token rule over its patches
  (visual tokens * merge^2) with an MLP of 4 * vision_hidden.
* 1.10 and 0.5 GiB: allocator fragmentation and the CUDA context.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.adapters.catalog import CatalogEntry

METHODS = ("lora", "qlora4", "qlora8", "full")
GIB = 1024**3
OVERHEAD_FACTOR = 1.10
CUDA_CONTEXT = 0.5 * GIB


@dataclass(frozen=True)
class MemoryEstimate:
    total: float  # bytes
    parts: dict[str, float]  # bytes per component, before overhead
    trainable_params: float

    @property
    def total_gib(self) -> float:
        return self.total / GIB


def lora_params(entry: CatalogEntry, rank: int) -> float:
    """Parameters of LoRA adapters (A: in x r, B: r x out) on q, k, v, o, gate, up and down of every layer."""
    m = entry.memory
    kv = m.num_kv_heads * m.head_dim
    attention = (m.hidden_size + m.hidden_size) * 2 + (m.hidden_size + kv) * 2
    mlp = (m.hidden_size + m.intermediate_size) * 3
    return float(rank * (attention + mlp) * m.num_layers)


def estimate_memory(
    entry: CatalogEntry,
    method: str,
    *,
    batch: int,
    seq_len: int,
    visual_tokens: int,
    grad_checkpointing: bool,
    lora_rank: int = 16,
    train_vision: bool = False,
) -> MemoryEstimate:
    """The peak estimate for one training step; ``visual_tokens`` per image (at the chosen max pixels)."""
    if method not in METHODS:
        raise ValueError(f"unknown training method {method!r}; expected one of {', '.join(METHODS)}")
    if method != "full" and not entry.lora.supported:
        raise ValueError(f"{entry.id}: LoRA is not supported: {entry.lora.reason}")
    m = entry.memory
    embedding = float(m.vocab_size * m.hidden_size)
    # bitsandbytes leaves embeddings alone, and lm_head is kept unquantised on purpose
    unquantised = m.params_vision + embedding * (1 if m.tied_embeddings else 2)
    language = max(m.params_total - unquantised, 0.0)
    bytes_per_param = {"lora": 2.0, "full": 2.0, "qlora8": 1.0, "qlora4": 4.13 / 8}[method]
    weights = language * bytes_per_param + unquantised * 2.0
    if method == "full":
        trainable = m.params_total if train_vision else m.params_total - m.params_vision
        # the bf16 weights are already counted above: 14 more bytes for gradient, master copy and moments
        state = trainable * 14.0
    else:
        trainable = lora_params(entry, lora_rank)
        state = trainable * 16.0
    tokens = batch * seq_len
    per_layer = 2.0 * (7 * m.hidden_size + 4 * m.intermediate_size + 2 * m.num_kv_heads * m.head_dim)
    if grad_checkpointing:
        activations = tokens * (2.0 * m.hidden_size * m.num_layers + per_layer)
    else:
        activations = tokens * per_layer * m.num_layers
    logits = tokens * m.vocab_size * 8.0
    vision = 0.0
    if train_vision and m.vision_layers:
        patches = batch * visual_tokens * entry.vision.merge_size**2
        v_layer = 2.0 * (7 * m.vision_hidden_size + 4 * 4 * m.vision_hidden_size)
        vision = patches * (
            2.0 * m.vision_hidden_size * m.vision_layers + v_layer
            if grad_checkpointing
            else v_layer * m.vision_layers
        )
    parts = {"weights": weights, "trainable_state": state, "activations": activations, "logits": logits,
             "vision_activations": vision}
    total = sum(parts.values()) * OVERHEAD_FACTOR + CUDA_CONTEXT
    return MemoryEstimate(total=total, parts=parts, trainable_params=trainable)


def max_visual_tokens(entry: CatalogEntry, max_pixels: int = 0, max_tiles: int = 0) -> int:
    """The most visual tokens one image can cost at these settings (the catalog's when 0): the memory estimate
    plans for the largest image."""
    v = entry.vision
    if v.kind == "dynamic_resolution":
        return (max_pixels or v.max_pixels) // (v.patch_size * v.merge_size) ** 2
    if v.kind == "anyres":
        grid = [(h // v.patch_size) * (w // v.patch_size) + h // v.patch_size for h, w in v.grid_pinpoints]
        return v.base_tokens + max(grid)
    tiles = max_tiles or v.max_tiles
    return v.base_tokens + v.tokens_per_tile * (tiles + (1 if v.use_thumbnail and tiles > 1 else 0))


def detected_gpu() -> tuple[str, int] | None:
    """(name, total memory in bytes) of the first CUDA GPU, or None without one (imports torch: call it in a
    worker or the CLI, not while the GUI starts)."""
    import torch

    if not torch.cuda.is_available():
        return None
    properties = torch.cuda.get_device_properties(0)
    return properties.name, int(properties.total_memory)
