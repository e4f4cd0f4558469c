"""Project commands: ``new``, ``sample``, ``import-images``, ``info``."""

from __future__ import annotations

import argparse

from studio.cli.output import emit, progress_printer
from studio.dataset.importer import import_images
from studio.dataset.sample import create_sample_project
from studio.dataset.store import Project


def register(subparsers: argparse._SubParsersAction) -> None:
    new = subparsers.add_parser("new", help="create an empty project in a folder")
    new.add_argument("folder")
    new.add_argument("--json", action="store_true", help="print the result as JSON")
    new.set_defaults(handler=_new)

    sample = subparsers.add_parser("sample", help="create the built-in synthetic sample project")
    sample.add_argument("folder")
    sample.add_argument("--count", type=int, default=1000, help="number of images (default 1000)")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--json", action="store_true")
    sample.set_defaults(handler=_sample)

    imp = subparsers.add_parser("import-images", help="add image files, folders (recursive) or list files")
    imp.add_argument("project")
    imp.add_argument("paths", nargs="+", metavar="PATH")
    imp.add_argument("--copy", action="store_true", help="copy the files into the project's assets folder")
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(handler=_import_images)

    info = subparsers.add_parser("info", help="counts of images, boxes, phrases, VQA pairs, labels and splits")
    info.add_argument("project")
    info.add_argument("--json", action="store_true")
    info.set_defaults(handler=_info)


def _new(args: argparse.Namespace) -> int:
    with Project.create(args.folder) as project:
        emit({"project": str(project.folder)}, as_json=args.json, text=f"Created {project.folder}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    report = progress_printer(args.json, "sample")
    with create_sample_project(args.folder, count=args.count, seed=args.seed, progress=report) as project:
        counts = project.counts()
        emit({"project": str(project.folder), **counts}, as_json=args.json,
             text=f"Created the sample project in {project.folder}: {counts['images']:,} images, "
                  f"{counts['boxes']:,} boxes, {counts['phrases']:,} phrases, {counts['vqa_pairs']:,} VQA pairs")
    return 0


def _import_images(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        result = import_images(project, args.paths, copy=args.copy, progress=progress_printer(args.json, "import"))
    lines = [result.summary() + f" in {result.seconds:.1f} s"]
    lines += [f"  skipped {path}: {reason}" for path, reason in result.skipped]
    emit(result.to_dict(), as_json=args.json, text="\n".join(lines))
    return 0


def _info(args: argparse.Namespace) -> int:
    with Project.open(args.project, read_only=True) as project:
        counts = project.counts()
    splits = ", ".join(f"{name} {n:,}" for name, n in counts["splits"].items()) or "none"
    text = (
        f"{args.project}\n  images {counts['images']:,} ({splits})\n  boxes {counts['boxes']:,}, labels "
        f"{counts['labels']:,}\n  captions {counts['captions']:,}, phrases {counts['phrases']:,} "
        f"({counts['linked_phrases']:,} linked)\n  VQA pairs {counts['vqa_pairs']:,}\n  workflows "
        f"{counts['workflows']:,}, runs {counts['runs']:,}"
    )
    emit(counts, as_json=args.json, text=text)
    return 0
