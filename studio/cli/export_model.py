"""``export-model``: a run's checkpoint as a peft adapter folder or a merged model, with a vLLM command."""

from __future__ import annotations

import argparse
import json

from studio.cli.output import emit


def register(subparsers: argparse._SubParsersAction) -> None:
    export = subparsers.add_parser("export-model", help="export a run as a peft adapter (or --merged full model)")
    export.add_argument("project")
    export.add_argument("out", help="a new (or empty) folder")
    export.add_argument("--run", required=True, help="run name or id")
    export.add_argument("--checkpoint", default="best")
    export.add_argument("--merged", action="store_true", help="merge a LoRA adapter into a full model")
    export.add_argument("--json", action="store_true")
    export.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    from studio.dataset.store import Project
    from studio.inference.export import export_model

    with Project.open(args.project, read_only=True) as project:
        report = export_model(project, args.run, args.out, merged=args.merged, checkpoint=args.checkpoint)
    text = (f"Exported {report['kind']} to {report['folder']}\n\nServe it with vLLM:\n  {report['vllm_command']}\n\n"
            f"Example request (POST http://localhost:8000/v1/chat/completions):\n"
            f"{json.dumps(report['example_request'], indent=2)}")
    emit(report, as_json=args.json, text=text)
    return 0
