"""Peak training memory of the product's own path against the pre-flight estimate (studio/adapters/memory.py): a
Qwen3-VL model with a catalog entry's sizes (random weights; no download) saved to a local folder, loaded by the
trainer's ``load_for_training`` for LoRA, QLoRA 8/4-bit and full fine-tuning, with and without
gradient checkpointing, one optimizer step each through the trainer's loss (answer tokens only), optimizer and
autocast, on one image at the catalog's resolution.

On CUDA the peak is ``torch.cuda.max_memory_allocated`` (the second step's, with the optimizer's state); on a
CPU, the bytes of every tensor alive at the peak (LiveBytes; bf16 autocast as on a GPU; QLoRA on bitsandbytes' CPU
kernels, the product's CUDA requirement lifted).
Each run prints the estimate before its fragmentation and CUDA-context margins beside the peak, and the error.

    python bench/memory_checks.py OUT_JSON [--model qwen3-vl-2b] [--side 896] [--small [H,L]] [--methods lora,full]

``--small [HIDDEN,LAYERS]`` shrinks the language model and the vision tower (and the entry the estimate reads)
so that full fine-tuning fits a CPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ANSWER_TOKENS = 32  # the labelled tail of each example


def build_config(entry, small: tuple[int, int] | None):
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
        hidden, layers = small
        text.update(hidden_size=hidden, num_hidden_layers=layers, intermediate_size=3 * hidden,
                    num_attention_heads=hidden // 64, num_key_value_heads=hidden // 128, head_dim=64,
                    rope_parameters={"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [12, 10, 10],
                                     "mrope_interleaved": True})
        vision.update(depth=2, hidden_size=128, intermediate_size=256, num_heads=2, out_hidden_size=hidden,
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
    labels[: len(ids) - ANSWER_TOKENS] = -100
    mm = (ids == config.image_token_id).long()
    batch = {"input_ids": ids[None], "attention_mask": torch.ones_like(ids)[None], "labels": labels[None],
             "pixel_values": pixel_values, "image_grid_thw": torch.tensor([[1, grid, grid]]),
             "mm_token_type_ids": mm[None]}
    return {k: v.to(device) for k, v in batch.items()}, visual, len(ids)


class LiveBytes:
    """Bytes of every tensor storage alive, and their peak, on a CPU: the storages of ``tensors`` plus those that
    each operation run inside the ``with`` creates, each counted until it is freed (a dispatch mode)."""

    def __init__(self, tensors):
        import weakref

        from torch.utils._python_dispatch import TorchDispatchMode

        tracker = self
        self.live: dict[int, tuple[int, object]] = {}
        self.current = self.peak = 0
        self.phase = self.peak_phase = ""
        self._ref = weakref.ref

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                for t in (out if isinstance(out, (tuple, list)) else [out]):
                    tracker.add(t)
                return out

        self.mode = Mode()
        for t in tensors:
            self.add(t)

    def add(self, tensor) -> None:
        import torch

        if not torch.is_tensor(tensor):
            return
        storage = tensor.untyped_storage()
        key = storage.data_ptr()
        if key in self.live or storage.nbytes() == 0:
            return
        size = storage.nbytes()
        self.live[key] = (size, self._ref(storage, lambda _, key=key: self.drop(key)))
        self.current += size
        if self.current > self.peak:
            self.peak, self.peak_phase = self.current, self.phase

    def drop(self, key: int) -> None:
        size, _ = self.live.pop(key, (0, None))
        self.current -= size

    def __enter__(self):
        self.mode.__enter__()
        return self

    def __exit__(self, *exc):
        self.mode.__exit__(*exc)


def step_peak(model, batch, device: str) -> dict:
    """One optimizer step as the trainer takes it (its loss, optimizer and autocast) and the peak memory."""
    import torch

    from studio.training.loss import answer_loss
    from studio.training.schedule import make_optimizer

    cuda = device.startswith("cuda")
    optimizer = make_optimizer(model, 1e-4, 0.01, fused=cuda)
    autocast = torch.autocast("cuda" if cuda else "cpu", dtype=torch.bfloat16)

    def step(phase=lambda name: None) -> float:
        phase("forward")
        with autocast:
            loss = answer_loss(model, batch)
        phase("backward")
        loss.backward()
        phase("optimizer")
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    started = time.perf_counter()
    if cuda:
        step()  # the optimizer's state exists from here on, as in every later step
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        loss = step()
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated()
        phase = ""
    else:
        step()
        tensors = [*model.parameters(), *model.buffers(), *batch.values(),
                   *(t for state in optimizer.state.values() for t in state.values() if torch.is_tensor(t))]
        with LiveBytes(tensors) as tracker:
            loss = step(lambda name: setattr(tracker, "phase", name))
        peak = tracker.peak
        phase = tracker.peak_phase
    return {"loss": loss, "seconds": time.perf_counter() - started, "peak_gib": peak / 2**30, "peak_phase": phase,
            "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad)}


def small_entry(entry, config, model):
    """The catalog entry with the sizes of a ``--small`` ``model``, so that the estimate describes that model."""
    text, vision = config.text_config, config.vision_config
    memory = dataclasses.replace(
        entry.memory, params_total=float(sum(p.numel() for p in model.parameters())),
        params_vision=float(sum(p.numel() for n, p in model.named_parameters() if ".visual." in f".{n}")),
        hidden_size=text.hidden_size, num_layers=text.num_hidden_layers,
        intermediate_size=text.intermediate_size, num_kv_heads=text.num_key_value_heads, head_dim=text.head_dim,
        vocab_size=text.vocab_size, vision_hidden_size=vision.hidden_size, vision_layers=vision.depth)
    return dataclasses.replace(entry, memory=memory)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", default="qwen3-vl-2b")
    parser.add_argument("--side", type=int, default=896)
    parser.add_argument("--text-tokens", type=int, default=96)
    parser.add_argument("--small", nargs="?", const="256,2", default=None, metavar="HIDDEN,LAYERS",
                        help="a smaller language model (default 256 wide, 2 layers) with the entry's vocabulary")
    parser.add_argument("--methods", default="", help="comma-separated (default lora,qlora8,qlora4,full)")
    args = parser.parse_args()

    import torch
    from transformers import Qwen3VLForConditionalGeneration

    from studio.adapters import get_adapter
    from studio.adapters.memory import estimate_memory
    from studio.training.config import WorkflowConfig
    from studio.training.model_setup import load_for_training

    device = "cuda" if torch.cuda.is_available() else "cpu"
    adapter = get_adapter(args.model)
    small = tuple(int(v) for v in args.small.split(",")) if args.small else None
    config = build_config(adapter.entry, small)
    methods = args.methods.split(",") if args.methods else ["lora", "qlora8", "qlora4", "full"]
    if device == "cpu" and any(m.startswith("qlora") for m in methods):
        from studio.adapters import loading

        loading.check_quantization_available = lambda: None  # bitsandbytes' CPU kernels; the product asks for CUDA
    report: dict = {"model": args.model, "small": args.small,
                    "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
                    "torch": torch.__version__, "side": args.side, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "checkpoint"
        torch.manual_seed(0)
        model = Qwen3VLForConditionalGeneration._from_config(config, dtype=torch.bfloat16)
        report["params"] = sum(p.numel() for p in model.parameters())
        entry = small_entry(adapter.entry, config, model) if args.small else adapter.entry
        model.save_pretrained(folder)
        del model
        for method in methods:
            for checkpointing in (False, True):
                if device == "cuda":
                    torch.cuda.empty_cache()
                workflow = WorkflowConfig(model_id=args.model, model_folder=str(folder), mode=method,
                                          grad_checkpointing=checkpointing, lora_dropout=0.0)
                model = load_for_training(adapter, workflow, device, "bf16")
                batch, visual, seq = make_batch(config, args.side, args.text_tokens, device)
                run = {"method": method, "grad_checkpointing": checkpointing, "visual_tokens": visual, "seq_len": seq,
                       "answer_tokens": ANSWER_TOKENS}
                run.update(step_peak(model, batch, device))
                estimate = estimate_memory(entry, method, batch=1, seq_len=seq, visual_tokens=visual,
                                           answer_tokens=ANSWER_TOKENS, grad_checkpointing=checkpointing)
                before_margins = sum(estimate.parts.values()) / 2**30  # the peak the formula predicts for tensors
                run["estimate_gib"] = estimate.total_gib
                run["estimate_before_margins_gib"] = before_margins
                run["estimate_parts_gib"] = {k: round(v / 2**30, 3) for k, v in estimate.parts.items()}
                run["error_percent"] = 100 * (before_margins - run["peak_gib"]) / run["peak_gib"]
                print(json.dumps(run), flush=True)
                report["runs"].append(run)
                del model, batch
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
