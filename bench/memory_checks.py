"""Real-size checks that need an NVIDIA GPU: a Qwen3-VL model with the catalog's 2B sizes (random weights; no
download) saved to a local folder, loaded back through the adapter in bf16, 8-bit and 4-bit (QLoRA), one LoRA
training step each with one image at the catalog's resolution, and the measured peak memory against the
pre-flight estimate (studio/adapters/memory.py).

    python bench/gpu_checks.py OUT_JSON [--model qwen3-vl-2b] [--side 896] [--small]

``--small`` shrinks the model to run the same code on a CPU (no quantisation there) for a smoke test.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build_config(entry, small: bool):
    """A Qwen3-VL config with the catalog entry's sizes (the published checkpoint's config.json values)."""
    from transformers import Qwen3VLConfig

    m = entry.memory
    text = {
        "hidden_size": m.hidden_size, "num_hidden_layers": m.num_layers, "intermediate_size": m.intermediate_size,
        "num_attention_heads": m.hidden_size // m.head_dim, "num_key_value_heads": m.num_kv_heads,
        "head_dim": m.head_dim, "vocab_size": m.vocab_size, "tie_word_embeddings": m.tied_embeddings,
        "rope_parameters": {"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [24, 20, 20],
                            "mrope_interleaved": True},
    }
    vision = {"depth": m.vision_layers, "hidden_size": m.vision_hidden_size,
              "intermediate_size": 4 * m.vision_hidden_size, "num_heads": m.vision_hidden_size // 64,
              "out_hidden_size": m.hidden_size, "patch_size": 16,
              "spatial_merge_size": 2, "temporal_patch_size": 2, "num_position_embeddings": 2304,
              "deepstack_visual_indexes": [5, 11, 17]}
    if small:
        text.update(hidden_size=256, num_hidden_layers=2, intermediate_size=512, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=64, vocab_size=152000,
                    rope_parameters={"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [12, 10, 10],
                                     "mrope_interleaved": True})
        vision.update(depth=2, hidden_size=128, intermediate_size=256, num_heads=2, out_hidden_size=256,
                      deepstack_visual_indexes=[0])
    return Qwen3VLConfig(text_config=text, vision_config=vision, image_token_id=151655, video_token_id=151656,
                         vision_start_token_id=151652, vision_end_token_id=151653,
                         tie_word_embeddings=text["tie_word_embeddings"])


def make_batch(config, side: int, text_tokens: int, device: str):
    """One example: a few text tokens, one ``side`` x ``side`` image, an answer; labels on the answer only."""
    import torch

    patch, merge = config.vision_config.patch_size, config.vision_config.spatial_merge_size
    grid = side // patch
    visual = (grid // merge) ** 2
    channels = 3 * config.vision_config.temporal_patch_size * patch * patch
    pixel_values = torch.randn(grid * grid, channels, device=device)
    generator = torch.Generator().manual_seed(0)
    before = torch.randint(1000, 100000, (text_tokens // 2,), generator=generator)
    after = torch.randint(1000, 100000, (text_tokens - text_tokens // 2,), generator=generator)
    ids = torch.cat([before, torch.tensor([config.vision_start_token_id]),
                     torch.full((visual,), config.image_token_id), torch.tensor([config.vision_end_token_id]), after])
    labels = ids.clone()
    labels[: len(ids) - 32] = -100
    mm = (ids == config.image_token_id).long()
    batch = {"input_ids": ids[None], "attention_mask": torch.ones_like(ids)[None], "labels": labels[None],
             "pixel_values": pixel_values, "image_grid_thw": torch.tensor([[1, grid, grid]]),
             "mm_token_type_ids": mm[None]}
    return {k: v.to(device) for k, v in batch.items()}, visual, len(ids)


def lora_step(model, adapter, batch, device: str, grad_checkpointing: bool) -> dict:
    """One LoRA training step (forward, backward, AdamW) and the peak memory it took."""
    import torch
    from peft import LoraConfig, get_peft_model

    if grad_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    peft_model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=adapter.lora_target_modules()))
    optimizer = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=1e-4)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    for _ in range(2):
        loss = peft_model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    result = {"loss": float(loss), "seconds_per_step": (time.perf_counter() - started) / 2,
              "trainable": sum(p.numel() for p in peft_model.parameters() if p.requires_grad)}
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        result["peak_allocated_gib"] = torch.cuda.max_memory_allocated() / 2**30
        result["peak_reserved_gib"] = torch.cuda.max_memory_reserved() / 2**30
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", default="qwen3-vl-2b")
    parser.add_argument("--side", type=int, default=896)
    parser.add_argument("--text-tokens", type=int, default=96)
    parser.add_argument("--small", action="store_true")
    args = parser.parse_args()

    import torch
    from transformers import Qwen3VLForConditionalGeneration

    from studio.adapters import get_adapter
    from studio.adapters.memory import CUDA_CONTEXT, estimate_memory

    device = "cuda" if torch.cuda.is_available() else "cpu"
    adapter = get_adapter(args.model)
    config = build_config(adapter.entry, args.small)
    report: dict = {"model": args.model, "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
                    "torch": torch.__version__, "side": args.side, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "checkpoint"
        torch.manual_seed(0)
        with torch.device(device):
            model = Qwen3VLForConditionalGeneration._from_config(config, dtype=torch.bfloat16)
        report["params"] = sum(p.numel() for p in model.parameters())
        report["catalog_params"] = adapter.entry.memory.params_total
        model.save_pretrained(folder)
        del model
        methods = [("lora", None)] + ([("qlora8", 8), ("qlora4", 4)] if device == "cuda" else [])
        for method, bits in methods:
            for checkpointing in (False, True):
                if device == "cuda":
                    torch.cuda.empty_cache()
                started = time.perf_counter()
                model = adapter.load_model(folder, dtype="bfloat16", device=device, quantization=bits)
                load_seconds = time.perf_counter() - started
                quantised = sorted({type(m).__name__ for n, m in model.named_modules()
                                    if "Linear" in type(m).__name__ and "language_model" in n})
                vision_types = sorted({type(m).__name__ for n, m in model.named_modules()
                                       if "Linear" in type(m).__name__ and ".visual." in n})
                batch, visual, seq = make_batch(config, args.side, args.text_tokens, device)
                run = {"method": method, "grad_checkpointing": checkpointing, "load_seconds": load_seconds,
                       "language_linear_types": quantised, "vision_linear_types": vision_types,
                       "visual_tokens": visual, "seq_len": seq,
                       "adapter_visual_tokens": adapter.visual_tokens(args.side, args.side,
                                                                      adapter.settings(max_pixels=args.side**2,
                                                                                       min_pixels=args.side**2))}
                run.update(lora_step(model, adapter, batch, device, checkpointing))
                estimate = estimate_memory(adapter.entry, method, batch=1, seq_len=seq, visual_tokens=visual,
                                           grad_checkpointing=checkpointing)
                run["estimate_gib"] = estimate.total_gib
                if "peak_reserved_gib" in run:
                    measured = run["peak_reserved_gib"] + CUDA_CONTEXT / 2**30
                    run["error_percent"] = 100 * (estimate.total_gib - measured) / measured
                print(json.dumps(run), flush=True)
                report["runs"].append(run)
                del model, batch
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
