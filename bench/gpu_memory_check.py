"""Compare the memory estimate (studio/adapters/memory.py) with the measured peak of real training steps on a GPU.

No weights are downloaded: the model is a randomly initialised Qwen3-VL of the catalog entry's sizes (bf16), fed by
the tiny model's processor (same patch 16 / merge 2 vision rules; its token ids are valid in the large vocabulary).
For each (method, gradient checkpointing, batch) it runs two AdamW steps and records the peak
``torch.cuda.max_memory_allocated`` next to the estimate. Run on a GPU machine:

    python bench/gpu_memory_check.py --model qwen3-vl-2b --out memory.json

``--smoke`` runs the same code on the CPU with a 4-layer model (no measurement), to check the script itself.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from PIL import Image

from studio.adapters import get_adapter, get_entry
from studio.adapters.memory import GIB, estimate_memory


def build_model(entry, processor, layers: int | None, device: str):
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration

    m = entry.memory
    tok = processor.tokenizer
    ids = {t: tok.convert_tokens_to_ids(t) for t in ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>",
                                                       "<|vision_end|>")}
    text = {"hidden_size": m.hidden_size, "num_hidden_layers": layers or m.num_layers, "head_dim": m.head_dim,
            "num_attention_heads": m.hidden_size // m.head_dim, "num_key_value_heads": m.num_kv_heads,
            "intermediate_size": m.intermediate_size, "vocab_size": m.vocab_size,
            "rope_parameters": {"rope_type": "default", "rope_theta": 5e6, "mrope_section": [24, 20, 20],
                                "mrope_interleaved": True}}
    vision = {"depth": min(layers or m.vision_layers, m.vision_layers), "hidden_size": m.vision_hidden_size,
              "num_heads": 16, "intermediate_size": 4 * m.vision_hidden_size, "out_hidden_size": m.hidden_size,
              "deepstack_visual_indexes": [0]}
    config = Qwen3VLConfig(text_config=text, vision_config=vision, tie_word_embeddings=m.tied_embeddings,
                           image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
                           vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    with torch.device(device):
        model = Qwen3VLForConditionalGeneration(config).to(torch.bfloat16)
    return model


def make_batch(processor, batch: int, seq_len: int, side: int, visual: int, device: str):
    """``batch`` sequences of exactly ``seq_len`` tokens: one image, then " red circle" (2 tokens) repeated."""
    image = Image.new("RGB", (side, side), "gray")
    words = " red circle" * ((seq_len - visual - 2) // 2)
    text = f"<|vision_start|><|image_pad|><|vision_end|>{words}"
    inputs = processor(text=[text] * batch, images=[image] * batch, return_tensors="pt",
                       size={"shortest_edge": side * side, "longest_edge": side * side})
    inputs["labels"] = inputs["input_ids"].clone()
    return {k: v.to(device) for k, v in inputs.items()}


def measure(model, inputs, device: str) -> float:
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    for _ in range(2):
        loss = model(**inputs).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    if device == "cuda":
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated()
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen3-vl-2b")
    parser.add_argument("--seq-len", type=int, default=2048)
    parser.add_argument("--side", type=int, default=512, help="square image side in pixels (512: 256 visual tokens)")
    parser.add_argument("--out", default="")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    device = "cpu" if args.smoke else "cuda"
    layers = 2 if args.smoke else None
    seq_len = 256 if args.smoke else args.seq_len
    entry = get_entry(args.model)
    tiny = get_adapter("tiny")
    processor = tiny.load_processor()
    visual = tiny.visual_tokens(args.side, args.side, tiny.settings(max_pixels=args.side**2, min_pixels=args.side**2))
    rows = []
    for method, checkpointing, batch in [("lora", True, 1), ("lora", False, 1), ("lora", True, 4), ("full", True, 1)]:
        from peft import LoraConfig, get_peft_model

        model = build_model(entry, processor, layers, device)
        counted = dataclasses.replace(entry.memory, params_total=float(sum(p.numel() for p in model.parameters())),
                                      params_vision=float(sum(p.numel() for p in model.model.visual.parameters())),
                                      num_layers=model.config.text_config.num_hidden_layers)
        sized = dataclasses.replace(entry, memory=counted)
        if checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            model.enable_input_require_grads()
        if method == "lora":
            model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32,
                                                     target_modules=get_adapter(args.model).lora_target_modules()))
        else:
            for p in model.model.visual.parameters():
                p.requires_grad_(False)
        started = time.perf_counter()
        peak = measure(model, make_batch(processor, batch, seq_len, args.side, visual, device), device)
        estimate = estimate_memory(sized, method, batch=batch, seq_len=seq_len, visual_tokens=visual,
                                   grad_checkpointing=checkpointing)
        row = {"model": args.model, "method": method, "grad_checkpointing": checkpointing, "batch": batch,
               "seq_len": seq_len, "visual_tokens": visual, "params": counted.params_total,
               "estimate_gib": round(estimate.total_gib, 2), "measured_gib": round(peak / GIB, 2),
               "error_pct": round(100 * (estimate.total - peak) / peak, 1) if peak else None,
               "seconds": round(time.perf_counter() - started, 1)}
        rows.append(row)
        print(json.dumps(row), flush=True)
        del model
        if device == "cuda":
            torch.cuda.empty_cache()
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
