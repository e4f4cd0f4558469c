"""Evaluation commands: ``eval`` (a run on the val/test split) and ``eval-boxes`` (COCO files from any tool)."""

from __future__ import annotations

import argparse

from studio.cli.consent import TRUST_HELP, trust_run
from studio.cli.output import emit, progress_printer


def register(subparsers: argparse._SubParsersAction) -> None:
    boxes = subparsers.add_parser("eval-boxes", help="score COCO-format detections against COCO ground truth")
    boxes.add_argument("--gt", required=True, metavar="COCO.json", help="ground truth (COCO instances file)")
    boxes.add_argument("--pred", required=True, metavar="DETECTIONS.json", help="detections (COCO results list)")
    boxes.add_argument("--json", action="store_true")
    boxes.set_defaults(handler=_eval_boxes)

    run = subparsers.add_parser("eval", help="evaluate a run's checkpoint on the val or test split")
    run.add_argument("project")
    run.add_argument("--run", required=True, help="run name or id")
    run.add_argument("--split", default="val", choices=("val", "test", "train"))
    run.add_argument("--checkpoint", default="best",
                     help="best, last, a step-… folder, or start: the model the run started from (default best)")
    run.add_argument("--batch-size", type=int, default=8)
    run.add_argument("--max-new-tokens", type=int, default=256)
    run.add_argument("--limit", type=int, help="evaluate only the first N samples")
    run.add_argument("--json", action="store_true")
    run.add_argument("--trust-remote-code", action="store_true", help=TRUST_HELP)
    run.set_defaults(handler=_eval_run)


def _eval_boxes(args: argparse.Namespace) -> int:
    from studio.evaluation.coco_files import evaluate_files

    result, counts = evaluate_files(args.gt, args.pred)
    text = (f"{counts['images']:,} images, {counts['categories']:,} categories, {counts['ground_truth']:,} boxes, "
            f"{counts['detections']:,} detections\n  mAP@[.5:.95] {result.map:.4f}  AP50 {result.ap50:.4f}  "
            f"AP75 {result.ap75:.4f}  AR@100 {result.ar100:.4f}")
    text += "".join(f"\n  note: {note}" for note in counts["notes"])
    emit({**result.to_dict(), **counts}, as_json=args.json, text=text)
    return 0


def _eval_run(args: argparse.Namespace) -> int:
    from studio.dataset.store import Project
    from studio.evaluation.run_eval import evaluate_run

    with Project.open(args.project) as project:
        trust_run(args, project, args.run, args.checkpoint)
        summary = evaluate_run(project, args.run, split=args.split, checkpoint=args.checkpoint,
                               batch_size=args.batch_size, max_new_tokens=args.max_new_tokens, limit=args.limit,
                               progress=progress_printer(args.json, "eval"))
    emit(summary, as_json=args.json, text=format_summary(args.run, summary))
    return 0


def format_summary(run: str, summary: dict) -> str:
    g, v = summary["grounding"], summary["vqa"]
    lines = [f"run {run}, {summary['checkpoint']} on {summary['split']}: {summary['samples']:,} samples "
             f"({summary['images']:,} images) in {summary['seconds']:.1f} s"]
    if g.get("count"):
        lines.append(f"  grounding ({g['count']:,}): mean phrase IoU {g['mean_phrase_iou']:.3f}, "
                     f"P/R/F1@0.5 {g['precision@0.5']:.3f}/{g['recall@0.5']:.3f}/{g['f1@0.5']:.3f}, "
                     f"AP50 {g['AP50']:.3f}, mAP {g['mAP']:.3f}, unparseable {g['unparseable_rate']:.1%}")
    if v.get("count"):
        lines.append(f"  VQA ({v['count']:,}): exact {v['exact_match']:.3f}, VQAv2 {v['vqav2_match']:.3f}, "
                     f"ANLS {v['anls']:.3f}, token F1 {v['token_f1']:.3f}")
    return "\n".join(lines)
