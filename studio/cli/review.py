"""``vlm-studio review``: a trained run ranks the project's annotations by how likely they are wrong."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from studio.cli.consent import TRUST_HELP, trust_run
from studio.cli.output import emit, progress_printer

TEXT_TOP = 20


def register(subparsers: argparse._SubParsersAction) -> None:
    review = subparsers.add_parser(
        "review", help="find probable label mistakes with a trained run (stored as the project's review queue)"
    )
    review.add_argument("project")
    review.add_argument("--run", required=True, help="run name or id")
    review.add_argument("--split", choices=("train", "val", "test"),
                        help="review only this split (default: every annotated image)")  # fmt: skip
    review.add_argument("--restart", action="store_true", help="review the images this run has reviewed before again")
    review.add_argument("--top", type=int, help=f"list this many items (default {TEXT_TOP}; with --json all)")
    review.add_argument("--max-new-tokens", type=int, default=256)
    review.add_argument("--threads", type=int, default=0, help="CPU threads (default 0: cores - 1)")
    review.add_argument("--json", action="store_true")
    review.add_argument("--trust-remote-code", action="store_true", help=TRUST_HELP)
    review.set_defaults(handler=_review)


def _review(args: argparse.Namespace) -> int:
    from studio.dataset.store import Project
    from studio.jobs import CancelToken
    from studio.review.items import review_items
    from studio.review.run_review import review_project

    cancel = CancelToken()
    previous = signal.signal(signal.SIGINT, _first_interrupt_cancels(cancel))
    try:
        with Project.open(args.project) as project:
            trust_run(args, project, args.run, "best")
            summary = review_project(
                project, args.run, split=args.split, restart=args.restart, threads=args.threads,
                max_new_tokens=args.max_new_tokens, progress=progress_printer(args.json, "review"), cancel=cancel,
            )  # fmt: skip
            items = review_items(project, summary.run_id)
    finally:
        signal.signal(signal.SIGINT, previous)
    if not args.json and sys.stderr.isatty():
        print(file=sys.stderr)
    top = args.top if args.top is not None else (None if args.json else TEXT_TOP)
    shown = items[:top] if top is not None else items
    data = {**summary.to_dict(), "open_items": len(items), "items": [_item_dict(i) for i in shown]}
    emit(data, as_json=args.json, text=_text(summary.to_dict(), items, shown))
    return 130 if summary.cancelled else 0


def _first_interrupt_cancels(cancel: Any):
    """The first Ctrl-C stops after the batch in hand (what was reviewed stays stored); a second one at once."""

    def handler(signum: int, frame: Any) -> None:
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel()
        print("\nreview: stopping after this batch (Ctrl-C again to stop now)", file=sys.stderr, flush=True)

    return handler


def _item_dict(item: Any) -> dict[str, Any]:
    return {
        "id": item.id, "image_id": item.image_id, "kind": item.kind, "score": item.score, "box_id": item.box_id,
        "vqa_id": item.vqa_id, "phrase_id": item.phrase_id, "message": item.message, "evidence": item.evidence,
        "state": item.state,
    }  # fmt: skip


def _text(summary: dict[str, Any], items: list[Any], shown: list[Any]) -> str:
    from studio.review.items import KIND_TITLES, KINDS

    state = " (cancelled: run it again to go on)" if summary["cancelled"] else ""
    lines = [f"run {summary['run']}: reviewed {summary['images']:,} images in {summary['seconds']:.1f} s, "
             f"{summary['skipped']:,} reviewed before{state}; {len(items):,} open items"]  # fmt: skip
    counts = {kind: sum(1 for i in items if i.kind == kind) for kind in KINDS}
    lines += [f"  {KIND_TITLES[kind]}: {n:,}" for kind, n in counts.items() if n]
    if shown:
        lines.append(f"worst {len(shown)}:")
        lines += [f"  {i.score:.2f}  image {i.image_id}  {i.kind:<12} {i.message}" for i in shown]
    return "\n".join(lines)
