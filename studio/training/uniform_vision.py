"""A batched Qwen3-VL vision tower for batches of equally sized images.

Without flash attention, transformers' Qwen3-VL vision tower runs one SDPA call per image and block and builds
each image's rotary positions in a Python loop, so a batch of 64 small images costs thousands of tiny kernel
launches a step: on a GPU the tiny model's step is bound by them, not by arithmetic. When every image has the
same grid (the tiny model stretches all images to one square) the block-diagonal attention is a plain batched
attention and every image has the same positions: the same result from one call. Other batches take the
library's own path.
"""

from __future__ import annotations

from functools import wraps
from types import MethodType
from typing import Any


def batch_uniform_images(model: Any) -> int:
    """Give ``model``'s Qwen3-VL vision tower the batched path; returns how many attention modules changed."""
    from transformers.models.qwen3_vl.modeling_qwen3_vl import Qwen3VLVisionAttention, Qwen3VLVisionModel

    patched = 0
    for module in model.modules():
        if getattr(module, "_library_forward", None) is not None:
            continue
        if isinstance(module, Qwen3VLVisionAttention):
            module._library_forward = module.forward
            module.forward = MethodType(_attention, module)
            patched += 1
        elif isinstance(module, Qwen3VLVisionModel):
            module._library_forward = module.forward
            module.forward = _with_uniform_positions(module)
    return patched


def _uniform_length(grid_thw: Any) -> int:
    """Patches per image when all images of the batch share one grid, else 0."""
    if grid_thw.shape[0] == 0 or bool((grid_thw != grid_thw[:1]).any()):
        return 0
    return int(grid_thw[0].prod())


def _with_uniform_positions(tower: Any) -> Any:
    """The tower's forward, given one image's rotary positions repeated and the segment bounds when uniform."""
    import torch
    from transformers.vision_utils import get_vision_position_ids

    @wraps(tower._library_forward)
    def forward(hidden_states: Any, grid_thw: Any, **kwargs: Any) -> Any:
        length = _uniform_length(grid_thw)
        if length:
            images = grid_thw.shape[0]
            one = get_vision_position_ids(grid_thw[:1], tower.spatial_merge_size)
            kwargs.setdefault("position_ids", one.repeat(images, 1))
            kwargs.setdefault(
                "cu_seqlens", torch.arange(images + 1, device=grid_thw.device, dtype=torch.int32) * length
            )
            kwargs.setdefault("max_seqlen", length)
        return tower._library_forward(hidden_states, grid_thw, **kwargs)

    return forward


def _attention(self: Any, hidden_states: Any, cu_seqlens: Any, position_embeddings: Any = None, **kwargs: Any) -> Any:
    import torch.nn.functional as F
    from transformers.models.qwen3_vl.modeling_qwen3_vl import apply_rotary_pos_emb_vision

    seq = hidden_states.shape[0]
    images = cu_seqlens.numel() - 1
    length = kwargs.get("max_seqlen")
    # The segments add up to seq and none is longer than max_seqlen, so images * max_seqlen == seq means they are
    # all equal: no look at cu_seqlens's values (a device sync per block). The library's SDPA path passes none.
    if not isinstance(length, int) or length * images != seq:
        return self._library_forward(hidden_states, cu_seqlens, position_embeddings=position_embeddings, **kwargs)
    q, k, v = self.qkv(hidden_states).reshape(seq, 3, self.num_heads, -1).permute(1, 0, 2, 3).unbind(0)
    cos, sin = position_embeddings
    q, k = apply_rotary_pos_emb_vision(q, k, cos, sin)
    q, k, v = (t.reshape(images, length, self.num_heads, -1).transpose(1, 2) for t in (q, k, v))
    out = F.scaled_dot_product_attention(q, k, v, scale=self.scaling)
    return self.proj(out.transpose(1, 2).reshape(seq, -1))
