"""``vlm-studio import``, ``export`` and ``split``: datasets in and out of a project, and train/val/test
splits."""

from __future__ import annotations

import argparse

from studio.cli.output import emit, progress_printer
from studio.dataset.formats.exporting import ExportOptions, export_dataset
from studio.dataset.formats.importing import import_dataset
from studio.dataset.formats.registry import FORMATS
from studio.dataset.model import SPLITS
from studio.dataset.splits import assign_splits
from studio.dataset.store import Project


def register(subparsers: argparse._SubParsersAction) -> None:
    formats = ", ".join(f"{f.name} ({f.title})" for f in FORMATS.values())

    cmd = subparsers.add_parser(
        "import",
        help="import a dataset (annotations and their images) into a project",
        description=f"Formats: {formats}.",
    )
    cmd.add_argument("project", help="the project folder")
    cmd.add_argument("--format", required=True, choices=list(FORMATS), help="the dataset's format")
    cmd.add_argument("path", help="the dataset file or folder")
    cmd.add_argument("--dry-run", action="store_true", help="only show what would be imported")
    cmd.add_argument(
        "--model",
        help="trainer formats: the model whose box format the answers use "
        "(default: the one a VLM Studio export recorded)",
    )
    cmd.add_argument("--allow-outside", action="store_true",
                     help="read images the dataset names outside its own folder (absolute or ../ paths); "
                          "only for datasets you trust")
    cmd.add_argument("--json", action="store_true", help="print one JSON document")
    cmd.set_defaults(handler=_import)

    cmd = subparsers.add_parser(
        "export", help="export a project (or one split) as a dataset", description=f"Formats: {formats}."
    )
    cmd.add_argument("project", help="the project folder")
    cmd.add_argument("--format", required=True, choices=list(FORMATS), help="the dataset format to write")
    cmd.add_argument("out", help="the folder to write (must not exist, or be empty)")
    cmd.add_argument("--split", choices=SPLITS, help="export only this split")
    cmd.add_argument("--model", help="model id whose box format and system prompt trainer exports use")
    cmd.add_argument(
        "--workflow",
        help="trainer formats: take the model, pixel settings and system prompts from this saved workflow",
    )
    cmd.add_argument(
        "--max-pixels",
        type=int,
        help="trainer formats: the consuming trainer's image pixel limit the boxes are written for "
        "(LLaMA-Factory image_max_pixels, default 589824; ms-swift MAX_PIXELS and LLaVA: the model's default)",
    )
    cmd.add_argument(
        "--min-pixels", type=int, help="trainer formats: the image pixel minimum (LLaMA-Factory image_min_pixels)"
    )
    cmd.add_argument(
        "--exact-pixels",
        action="store_true",
        help="VOC: write corners exact to 1/1000 px (default: whole pixels, as VOC tools expect)",
    )
    cmd.add_argument("--json", action="store_true", help="print one JSON document")
    cmd.set_defaults(handler=_export)

    cmd = subparsers.add_parser("split", help="assign train/val/test splits (stratified by label, seeded)")
    cmd.add_argument("project", help="the project folder")
    cmd.add_argument("--train", type=float, default=0.8, help="train ratio (default 0.8)")
    cmd.add_argument("--val", type=float, default=0.1, help="val ratio (default 0.1)")
    cmd.add_argument("--test", type=float, default=0.1, help="test ratio (default 0.1)")
    cmd.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    cmd.add_argument("--only-unsplit", action="store_true",
                     help="deal out only the images in no split; the others keep theirs (new images join)")
    cmd.add_argument("--json", action="store_true", help="print one JSON document")
    cmd.set_defaults(handler=_split)


def _import(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        report = import_dataset(
            project,
            args.format,
            args.path,
            dry_run=args.dry_run,
            model=args.model,
            allow_outside=args.allow_outside,
            progress=progress_printer(args.json, "import"),
        )
    emit(report.to_dict(), as_json=args.json, text=report.summary())
    return 0


def _export(args: argparse.Namespace) -> int:
    with Project.open(args.project, read_only=True) as project:
        pixels = {"max_pixels": args.max_pixels, "min_pixels": args.min_pixels, "whole_pixels": not args.exact_pixels}
        model = args.model
        if args.workflow:
            from studio.training.workflows import get_workflow

            workflow = get_workflow(project, args.workflow)
            options = ExportOptions.from_workflow(workflow.name, workflow.config, **pixels)
            model = model or workflow.config.model_id
        else:
            options = ExportOptions(**pixels)
        report = export_dataset(
            project,
            args.format,
            args.out,
            split=args.split,
            model=model,
            options=options,
            progress=progress_printer(args.json, "export"),
        )
    emit(report.to_dict(), as_json=args.json, text=report.summary())
    return 0


def _split(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        report = assign_splits(project, args.train, args.val, args.test, seed=args.seed,
                               only_unsplit=args.only_unsplit)
    emit(report.to_dict(), as_json=args.json, text=report.summary())
    return 0
