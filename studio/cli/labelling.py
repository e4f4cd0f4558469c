"""``suggest``: model-assisted labelling of unannotated (or given) images; ``accept-suggestions``."""

from __future__ import annotations

import argparse

from studio.cli.consent import TRUST_HELP, trust_model, trust_run
from studio.cli.output import emit, progress_printer


def register(subparsers: argparse._SubParsersAction) -> None:
    suggest = subparsers.add_parser("suggest", help="let a run or base model suggest boxes and answers")
    suggest.add_argument("project")
    source = suggest.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="run name or id")
    source.add_argument("--model", help="catalog model id")
    suggest.add_argument("--images", type=int, nargs="+", metavar="ID", help="default: images without boxes")
    suggest.add_argument("--labels", nargs="+", help="default: every project label")
    suggest.add_argument("--batch-size", type=int, default=8)
    suggest.add_argument("--json", action="store_true")
    suggest.add_argument("--trust-remote-code", action="store_true", help=TRUST_HELP)
    suggest.set_defaults(handler=_suggest)

    accept = subparsers.add_parser("accept-suggestions", help="accept (or --reject) every open suggestion")
    accept.add_argument("project")
    accept.add_argument("--images", type=int, nargs="+", metavar="ID", help="default: every image")
    accept.add_argument("--reject", action="store_true")
    accept.add_argument("--json", action="store_true")
    accept.set_defaults(handler=_accept)


def _suggest(args: argparse.Namespace) -> int:
    from studio.dataset.store import Project
    from studio.inference.labelling import suggest
    from studio.inference.predictor import Predictor
    from studio.training.runs import find_run

    with Project.open(args.project) as project:
        run_id = None
        if args.model:
            trust_model(args, args.model)
            predictor = Predictor.from_model(args.model)
        else:
            run_id = find_run(project, args.run).id
            trust_run(args, project, args.run)
            predictor = Predictor.from_run(project, args.run)
        counts = suggest(project, predictor, args.images, labels=args.labels, run_id=run_id,
                         batch_size=args.batch_size, progress=progress_printer(args.json, "suggest"))
    emit(counts, as_json=args.json, text=f"{counts['boxes']:,} boxes and {counts['answers']:,} answers suggested "
                                         f"on {counts['images']:,} images")
    return 0


def _accept(args: argparse.Namespace) -> int:
    from studio.dataset.predictions import accept, reject, suggestions
    from studio.dataset.store import Project

    with Project.open(args.project) as project:
        wanted = set(args.images or [])
        ids = [s.id for s in suggestions(project) if not wanted or s.image_id in wanted]
        (reject if args.reject else accept)(project, ids)
    verb = "rejected" if args.reject else "accepted"
    emit({verb: len(ids)}, as_json=args.json, text=f"{len(ids):,} suggestions {verb}")
    return 0
