"""Model commands: ``models``, ``tokens``, ``budget``, ``memory``, ``preview`` (catalog, visual tokens, token
budget, memory estimate and the exact training text)."""

from __future__ import annotations

import argparse

from studio.cli import CommandError
from studio.cli.consent import TRUST_HELP, trust_model
from studio.cli.output import emit, progress_printer

DEFAULT_MAX_SEQ_LEN = 4096


def register(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser("models", help="the model catalog: families, sizes, context, LoRA support")
    models.add_argument("--json", action="store_true", help="print the result as JSON")
    models.set_defaults(handler=_models)

    tokens = subparsers.add_parser("tokens", help="visual tokens one image size costs a model")
    tokens.add_argument("--model", required=True, help="catalog id, e.g. tiny or qwen3-vl-8b")
    tokens.add_argument("--size", required=True, metavar="WxH", help="image size in pixels, e.g. 1280x720")
    _resolution_options(tokens)
    tokens.add_argument("--json", action="store_true")
    tokens.set_defaults(handler=_tokens)

    budget = subparsers.add_parser("budget", help="tokens per image of a project against the model's limits")
    budget.add_argument("project")
    budget.add_argument("--model", required=True)
    _resolution_options(budget)
    budget.add_argument("--max-seq-len", type=int, default=DEFAULT_MAX_SEQ_LEN,
                        help=f"training sequence length (default {DEFAULT_MAX_SEQ_LEN})")
    budget.add_argument("--json", action="store_true")
    budget.set_defaults(handler=_budget)

    memory = subparsers.add_parser("memory", help="pre-flight peak GPU memory estimate for training a model")
    memory.add_argument("--model", required=True)
    memory.add_argument("--method", default="lora", choices=("lora", "qlora4", "qlora8", "full"))
    memory.add_argument("--batch", type=int, default=1)
    memory.add_argument("--seq-len", type=int, default=DEFAULT_MAX_SEQ_LEN)
    memory.add_argument("--answer-tokens", type=int, default=None,
                        help="the longest answer in tokens, which the loss's logits cover (default 256)")
    memory.add_argument("--lora-rank", type=int, default=16)
    memory.add_argument("--no-grad-checkpointing", action="store_true")
    memory.add_argument("--train-vision", action="store_true", help="the vision tower is trained too")
    memory.add_argument("--images", type=int, default=0,
                        help="images whose frozen vision outputs the trainer caches on the GPU (at most 2 GiB)")
    _resolution_options(memory)
    memory.add_argument("--json", action="store_true")
    memory.set_defaults(handler=_memory)

    preview = subparsers.add_parser("preview", help="the exact chat text and target the trainer uses for an image")
    preview.add_argument("project")
    preview.add_argument("--model", required=True)
    preview.add_argument("--image", required=True, type=int, help="image id")
    _resolution_options(preview)
    preview.add_argument("--json", action="store_true")
    preview.add_argument("--trust-remote-code", action="store_true", help=TRUST_HELP)
    preview.set_defaults(handler=_preview)


def _resolution_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-pixels", type=int, help="override the catalog's max pixels (Qwen-style models)")
    parser.add_argument("--min-pixels", type=int, help="override the catalog's min pixels")
    parser.add_argument("--max-tiles", type=int, help="override the catalog's max tiles (tiled models)")


def _adapter_and_settings(args: argparse.Namespace):
    from studio.adapters import get_adapter

    adapter = get_adapter(args.model)
    settings = adapter.settings(max_pixels=args.max_pixels, min_pixels=args.min_pixels, max_tiles=args.max_tiles)
    return adapter, settings


def _models(args: argparse.Namespace) -> int:
    from studio.adapters import load_catalog

    rows = []
    for entry in load_catalog().values():
        rows.append({
            "id": entry.id, "name": entry.name, "family": entry.family, "hf_id": entry.hf_id,
            "class": entry.transformers_class, "params_b": entry.params_b, "context_length": entry.context_length,
            "status": entry.status, "lora": entry.lora.supported, "lora_reason": entry.lora.reason,
            "remote_code": entry.remote_code, "box_convention": entry.box_convention, "licence": entry.licence,
        })
    lines = [f"{'id':<22} {'params':>8} {'context':>8}  {'LoRA':<5} {'status':<12} name"]
    for r in rows:
        params = f"{r['params_b']:.1f}B" if r["params_b"] >= 0.1 else f"{r['params_b'] * 1000:.1f}M"
        lora = "yes" if r["lora"] else "no"
        lines.append(f"{r['id']:<22} {params:>8} {r['context_length']:>8,}  {lora:<5} {r['status']:<12} {r['name']}")
    emit(rows, as_json=args.json, text="\n".join(lines))
    return 0


def _parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise CommandError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1280x720") from None
    if width < 1 or height < 1:
        raise CommandError(f"--size {text!r}: width and height must be positive")
    return width, height


def _tokens(args: argparse.Namespace) -> int:
    adapter, settings = _adapter_and_settings(args)
    width, height = _parse_size(args.size)
    visual = adapter.visual_tokens(width, height, settings)
    wrappers = adapter.image_wrapper_tokens()
    data = {"model": adapter.entry.id, "width": width, "height": height, "visual_tokens": visual,
            "wrapper_tokens": wrappers, "total_tokens": visual + wrappers, "exact": adapter.exact_visual_tokens,
            "min_pixels": settings.min_pixels, "max_pixels": settings.max_pixels, "max_tiles": settings.max_tiles}
    if hasattr(adapter, "resized_size"):
        data["resized"] = list(adapter.resized_size(width, height, settings))
    detail = f" (resized to {data['resized'][0]}x{data['resized'][1]})" if "resized" in data else ""
    flag = "" if adapter.exact_visual_tokens else " [estimate]"
    emit(data, as_json=args.json, text=f"{adapter.entry.id}: {width}x{height}{detail} -> {visual:,} visual tokens, "
                                       f"{visual + wrappers:,} with the image's special tokens{flag}")
    return 0


def _budget(args: argparse.Namespace) -> int:
    from studio.budget.budget import compute_budget, project_annotations, text_table
    from studio.budget.text import text_counter
    from studio.dataset.store import Project

    adapter, settings = _adapter_and_settings(args)
    with Project.open(args.project, read_only=True) as project:
        annotations = project_annotations(project)
        names = {a.image.id: a.image.name for a in annotations}
    table = text_table(adapter, text_counter(adapter), annotations, progress=progress_printer(args.json, "budget"))
    budget = compute_budget(adapter, table, settings, args.max_seq_len)
    over = [{"image": int(i), "name": names[int(i)], "tokens": int(t)}
            for i, t in zip(budget.image_ids, budget.totals, strict=True) if t > budget.limit]
    data = {**budget.summary(), "over_budget_images": over}
    s = data
    lines = [
        f"{adapter.entry.id}: {s['images']:,} images, {s['samples']:,} samples, limit {s['limit']:,} tokens",
        f"  visual tokens per image  min {s['visual_tokens']['min']:,}  mean {s['visual_tokens']['mean']:,}  "
        f"max {s['visual_tokens']['max']:,} ({s['visual_counts']})",
        f"  text tokens, longest sample  min {s['text_tokens']['min']:,}  mean {s['text_tokens']['mean']:,}  "
        f"max {s['text_tokens']['max']:,} ({s['text_counts']})",
        f"  total  max {s['total_tokens']['max']:,}; over budget: {s['over_budget']:,}",
        *(f"    {o['name']} (image {o['image']}): {o['tokens']:,} tokens" for o in over[:20]),
        *([f"    ... and {len(over) - 20:,} more"] if len(over) > 20 else []),
        *(f"  {line}" for line in budget.advice),
    ]
    emit(data, as_json=args.json, text="\n".join(lines))
    return 0


def _memory(args: argparse.Namespace) -> int:
    from studio.adapters import get_entry
    from studio.adapters.memory import ANSWER_TOKENS, detected_gpu, estimate_memory, max_visual_tokens

    entry = get_entry(args.model)
    visual = max_visual_tokens(entry, args.max_pixels or 0, args.max_tiles or 0)
    answer = ANSWER_TOKENS if args.answer_tokens is None else args.answer_tokens
    estimate = estimate_memory(entry, args.method, batch=args.batch, seq_len=args.seq_len, visual_tokens=visual,
                               answer_tokens=answer, grad_checkpointing=not args.no_grad_checkpointing,
                               lora_rank=args.lora_rank, train_vision=args.train_vision,
                               cached_images=0 if args.train_vision else args.images)
    gpu = detected_gpu()
    data = {"model": entry.id, "method": args.method, "batch": args.batch, "seq_len": args.seq_len,
            "answer_tokens": answer, "visual_tokens": visual, "grad_checkpointing": not args.no_grad_checkpointing,
            "estimate_gib": round(estimate.total_gib, 2), "trainable_params": int(estimate.trainable_params),
            "parts_gib": {k: round(v / 2**30, 3) for k, v in estimate.parts.items()},
            "gpu": {"name": gpu[0], "memory_gib": round(gpu[1] / 2**30, 1)} if gpu else None}
    where = f"; {gpu[0]} has {gpu[1] / 2**30:.1f} GB" if gpu else "; no CUDA GPU detected"
    parts = ", ".join(f"{k.replace('_', ' ')} {v:.1f}" for k, v in data["parts_gib"].items() if v >= 0.05)
    short = (f"\nthe largest image costs {visual:,} visual tokens, more than --seq-len {args.seq_len:,}: such samples "
             "are refused; lower --max-pixels or raise --seq-len" if visual >= args.seq_len else "")
    emit(data, as_json=args.json, text=f"{entry.id}, {args.method}: about {estimate.total_gib:.1f} GB peak "
                                       f"({parts} GB; x1.1 + 0.5 GB overhead){where}{short}")
    return 0


def _preview(args: argparse.Namespace) -> int:
    from studio.budget.preview import preview_samples
    from studio.dataset.store import Project

    adapter, settings = _adapter_and_settings(args)
    trust_model(args, adapter.entry.id)
    with Project.open(args.project, read_only=True) as project:
        try:
            annotation = project.annotation(args.image)
        except KeyError:
            raise CommandError(f"{args.project}: no image {args.image}") from None
    samples = preview_samples(adapter, adapter.load_processor(settings), annotation, settings)
    image = annotation.image
    lines = [f"{image.name} ({image.width}x{image.height}) for {adapter.entry.id}: {len(samples)} samples"]
    for i, sample in enumerate(samples, 1):
        lines += [f"--- sample {i} ({sample.task}) ---", sample.prompt + sample.target]
        lines += [f"    box {b.label!r}: {[round(v, 2) for v in b.box]}" for b in sample.boxes]
        lines += [f"    could not read: {p}" for p in sample.problems]
    data = {"image": image.id, "model": adapter.entry.id, "samples": [s.to_dict() for s in samples]}
    emit(data, as_json=args.json, text="\n".join(lines))
    return 0
