"""Project commands: ``new``, ``sample``, ``import-images``, ``info``."""

from __future__ import annotations

import argparse

from studio.cli.output import emit, progress_printer
from studio.dataset.importer import import_images
from studio.dataset.relink import missing_folder, relink_folder
from studio.dataset.sample import build_sample_project
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

    relink = subparsers.add_parser("relink", help="point images of a moved folder to its new place")
    relink.add_argument("project")
    relink.add_argument("old_folder", help="where the images were (see `info --json`: missing_folder)")
    relink.add_argument("new_folder", help="where they are now")
    relink.add_argument("--json", action="store_true")
    relink.set_defaults(handler=_relink)

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
    folder = build_sample_project(args.folder, count=args.count, seed=args.seed, progress=report)
    with Project.open(folder, read_only=True) as project:
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


def _relink(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        report = relink_folder(project, args.old_folder, args.new_folder)
    emit(report.__dict__, as_json=args.json,
         text=f"Re-linked {report.relinked:,} images ({report.found:,} found there); "
              f"{report.still_missing:,} images of the project are still missing")
    return 0


def _info(args: argparse.Namespace) -> int:
    with Project.open(args.project, read_only=True) as project:
        counts = project.counts()
        counts["missing_images"] = len(project.missing_images())
        counts["missing_folder"] = missing_folder(project)
    splits = ", ".join(f"{name} {n:,}" for name, n in counts["splits"].items()) or "none"
    text = (
        f"{args.project}\n  images {counts['images']:,} ({splits})\n  boxes {counts['boxes']:,}, labels "
        f"{counts['labels']:,}\n  captions {counts['captions']:,}, phrases {counts['phrases']:,} "
        f"({counts['linked_phrases']:,} linked)\n  VQA pairs {counts['vqa_pairs']:,}\n  workflows "
        f"{counts['workflows']:,}, runs {counts['runs']:,}"
    )
    if counts["missing_images"]:
        text += (f"\n  {counts['missing_images']:,} images not found (moved from {counts['missing_folder']}?"
                 " see `vlm-studio relink`)")
    emit(counts, as_json=args.json, text=text)
    return 0
