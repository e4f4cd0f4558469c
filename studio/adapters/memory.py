"""Pre-flight peak GPU memory for training one catalog model the way the trainer does it (documented formula, bytes).

    peak = (weights + trainable_state + activations + logits + vision_activations + vision_cache) * 1.10 + 0.5 GiB

* weights: LoRA loads every parameter in half precision (2 bytes). QLoRA stores the language model's linear layers
  in NF4 with double quantisation (4.13 bits = 0.516 bytes per parameter) or int8 (1 byte); the vision tower, the
  embeddings, lm_head and norms stay in half precision, and so do a mixture of experts' fused 3-D expert tensors
  (bitsandbytes replaces nn.Linear modules only: for Qwen3-VL-30B-A3B that is 29 of its 31 B parameters). Full
  fine-tuning keeps fp32 master weights (4 bytes) and, while the step runs, the half-precision copy autocast makes
  of each trained weight (2 bytes); a tied embedding also receives two fp32 gradients that are summed (+4 bytes per
  embedding parameter) and their half-precision source (+2).
* trainable_state: full fine-tuning: 12 bytes per trained parameter (fp32 gradient, two fp32 AdamW moments); the
  vision tower only when unfrozen. LoRA and QLoRA: 16 bytes per adapter parameter (fp32 adapter weight, gradient and
  moments), r * (in + out) per projection (q, k, v, o, gate, up, down in every layer; no MLP under fused experts).
* activations, per token and layer, bf16: 2 * (7 * hidden + 4 * intermediate + 2 * kv_heads * head_dim) bytes (norm
  inputs and outputs, q/k/v/o, attention output, gate/up/activation/product of the MLP; attention via SDPA/flash
  keeps no seq x seq matrix). LoRA adds the half-precision copy of each adapted projection's input that its own
  matrix product keeps: 2 * (6 * hidden + intermediate). Full fine-tuning's fp32 residual stream keeps up to 2 * 9 *
  hidden more (norm inputs and outputs at 4 bytes, and the half-precision copies autocast makes of them for q, k, v,
  gate and up). With gradient checkpointing only each layer's input (2 * hidden bytes) is kept, plus one layer's
  full activations while it is recomputed.
* logits: batch * (answer_tokens + 1) * vocab * 8 bytes: the trainer runs lm_head only over the answer window
  (bf16 logits, their fp32 up-cast for the loss, its gradient); 256 answer tokens when the caller does not know.
* vision_activations: only when the vision tower is trained, the same per-token rule over its patches
  (visual tokens * merge^2) with an MLP of 4 * vision_hidden.
* vision_cache: with the vision tower frozen and no augmentation the trainer keeps each image's visual tokens
  (hidden-sized, half precision; x4 for Qwen3-VL's three deepstack features, taken as the bound for every model)
  on the GPU, at most VISION_CACHE_BUDGET (2 GiB); ``cached_images`` says for how many images.
* 1.10 and 0.5 GiB: allocator fragmentation and the CUDA context.

bench/memory_checks.py measures the trainer's own path against this. On a CPU (every live tensor counted; QLoRA on
bitsandbytes' CPU kernels), before the two margins, Qwen3-VL-2B at 294 tokens, without / with gradient
checkpointing: LoRA +0.9 / +1.2 %, QLoRA-4 +2.1 / +2.7 %, QLoRA-8 -2.9 / -4.8 %; on a 1024-wide 4-layer variant
full fine-tuning +4.5 / +3.4 %.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.adapters.catalog import CatalogEntry

METHODS = ("lora", "qlora4", "qlora8", "full")
GIB = 1024**3
OVERHEAD_FACTOR = 1.10
CUDA_CONTEXT = 0.5 * GIB
VISION_CACHE_BUDGET = 2 * GIB  # bytes of cached vision outputs kept on the GPU; the rest waits in CPU memory
ANSWER_TOKENS = 256  # the answer window the logits are computed over, when the caller does not know it
QUANTISED_BYTES = {"qlora4": 4.13 / 8, "qlora8": 1.0}


@dataclass(frozen=True)
class MemoryEstimate:
    total: float  # bytes
    parts: dict[str, float]  # bytes per component, before overhead
    trainable_params: float

    @property
    def total_gib(self) -> float:
        return self.total / GIB


def lora_params(entry: CatalogEntry, rank: int) -> float:
    """Parameters of LoRA adapters (A: in x r, B: r x out) on q, k, v, o, gate, up and down of every layer (q, k,
    v and o only when the MLP is a mixture of fused experts)."""
    m = entry.memory
    kv = m.num_kv_heads * m.head_dim
    attention = (m.hidden_size + m.hidden_size) * 2 + (m.hidden_size + kv) * 2
    mlp = 0 if m.experts else (m.hidden_size + m.intermediate_size) * 3
    return float(rank * (attention + mlp) * m.num_layers)


def estimate_memory(
    entry: CatalogEntry,
    method: str,
    *,
    batch: int,
    seq_len: int,
    visual_tokens: int,
    grad_checkpointing: bool,
    answer_tokens: int | None = None,
    lora_rank: int = 16,
    train_vision: bool = False,
    cached_images: int = 0,
) -> MemoryEstimate:
    """The peak estimate for one training step; ``visual_tokens`` per image (at the chosen max pixels)."""
    if method not in METHODS:
        raise ValueError(f"unknown training method {method!r}; expected one of {', '.join(METHODS)}")
    if method != "full" and not entry.lora.supported:
        raise ValueError(f"{entry.id}: LoRA is not supported: {entry.lora.reason}")
    m = entry.memory
    embedding = float(m.vocab_size * m.hidden_size) * (1 if m.tied_embeddings else 2)  # with an untied lm_head
    language = max(m.params_total - m.params_vision - embedding, 0.0)
    if method == "full":
        trainable = m.params_total if train_vision else m.params_total - m.params_vision
        weights = m.params_total * 4.0 + trainable * 2.0 + (embedding * 6.0 if m.tied_embeddings else 0.0)
        state = trainable * 12.0
    else:
        trainable = lora_params(entry, lora_rank)
        if method == "lora":
            weights = m.params_total * 2.0
        else:
            experts = min(m.fused_expert_params, language)
            weights = (language - experts) * QUANTISED_BYTES[method] + (m.params_vision + embedding + experts) * 2.0
        state = trainable * 16.0
    tokens = batch * seq_len
    elements = 7 * m.hidden_size + 4 * m.intermediate_size + 2 * m.num_kv_heads * m.head_dim
    if method != "full":
        elements += 6 * m.hidden_size + m.intermediate_size
    else:
        elements += 9 * m.hidden_size
    per_layer = 2.0 * elements
    if grad_checkpointing:
        activations = tokens * (2.0 * m.hidden_size * m.num_layers + per_layer)
    else:
        activations = tokens * per_layer * m.num_layers
    window = min(seq_len, (ANSWER_TOKENS if answer_tokens is None else answer_tokens) + 1)
    logits = batch * window * m.vocab_size * 8.0
    vision = 0.0
    if train_vision and m.vision_layers:
        patches = batch * visual_tokens * entry.vision.merge_size**2
        v_layer = 2.0 * (7 * m.vision_hidden_size + 4 * 4 * m.vision_hidden_size)
        vision = patches * (
            2.0 * m.vision_hidden_size * m.vision_layers + v_layer
            if grad_checkpointing
            else v_layer * m.vision_layers
        )
    cache = min(VISION_CACHE_BUDGET, cached_images * visual_tokens * m.hidden_size * 2.0 * 4)
    parts = {"weights": weights, "trainable_state": state, "activations": activations, "logits": logits,
             "vision_activations": vision, "vision_cache": cache}
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
