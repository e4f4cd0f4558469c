"""``workflows``: list, create, edit, show, delete, export and import a project's training workflows (YAML files
in the shape LLaMA-Factory users know), validated as the Train page validates."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

from studio.cli import CommandError
from studio.cli.output import emit

ACTIONS = ("new", "edit", "show", "export", "import_file", "delete")


class _Help(argparse._HelpAction):
    """``--help`` with the settings' keys: worked out only when asked for (they import the training settings, which
    would slow every command's start)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from studio.training.config import MODES
        from studio.training.workflow_file import ALIASES, HINTS, SPECIAL, kinds

        paragraphs = [
            "Without an action: list the project's workflows. Settings (--set KEY=VALUE, and the keys of a YAML "
            "file) take LLaMA-Factory's names or VLM Studio's; nested ones dotted (augment.scale=0.1). Bad keys or "
            "values are refused by name, with what they allow, and nothing is saved.",
            f"Methods (--method): {', '.join(MODES)}.",
            f"LLaMA-Factory's keys: {', '.join([*ALIASES, *SPECIAL])}.",
            f"VLM Studio's names: {', '.join(kinds())}.",
            "Not used here: " + "; ".join(f"{key} ({hint})" for key, hint in HINTS.items()) + ".",
        ]
        parser.description = "\n\n".join(textwrap.fill(text, 100, break_on_hyphens=False) for text in paragraphs)
        super().__call__(parser, namespace, values, option_string)


def register(subparsers: argparse._SubParsersAction) -> None:
    cmd = subparsers.add_parser(
        "workflows", help="list, create (--new), --show, --export and --import a project's training workflows",
        formatter_class=argparse.RawDescriptionHelpFormatter, add_help=False,
    )
    cmd.add_argument("-h", "--help", action=_Help, help="show this help message and the settings' keys, and exit")
    cmd.add_argument("project")
    action = cmd.add_mutually_exclusive_group()
    action.add_argument("--new", metavar="NAME", help="create a workflow: the model's defaults, --method, --set")
    action.add_argument("--edit", metavar="NAME", help="change a saved workflow's settings (--set, --model, --method)")
    action.add_argument("--show", metavar="NAME", help="print a workflow (as YAML; --json: its settings)")
    action.add_argument("--export", nargs=2, metavar=("NAME", "FILE.yaml"), help="write a workflow as a YAML file")
    action.add_argument("--import", dest="import_file", metavar="FILE.yaml", help="save a YAML file as a workflow")
    action.add_argument("--delete", metavar="NAME", help="delete a workflow (its runs stay)")
    cmd.add_argument("--model", help="with --new (required), --edit or --import: catalog id or Hugging Face id")
    cmd.add_argument("--method", help="with --new, --edit or --import: how to fine-tune (lora, qlora4…: see below)")
    cmd.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="a setting, e.g. learning_rate=1e-4 or lora_rank=32 (repeat for more)")
    cmd.add_argument("--name", help="with --import: the workflow's name (default: the file's name)")
    cmd.add_argument("--replace", action="store_true", help="with --new or --import: overwrite a workflow of that name")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_workflows)


def _workflows(args: argparse.Namespace) -> int:
    chosen = next((name for name in ACTIONS if getattr(args, name)), None)
    settings = _settings(args)
    if settings and chosen not in ("new", "edit", "import_file"):
        raise CommandError("--set, --model and --method apply to --new, --edit and --import")
    if args.name and chosen != "import_file":
        raise CommandError("--name applies to --import")
    if args.replace and chosen not in ("new", "import_file"):
        raise CommandError("--replace applies to --new and --import")
    if chosen is None:
        return _list(args)
    return {"new": _new, "edit": _edit, "show": _show, "export": _export, "import_file": _import,
            "delete": _delete}[chosen](args, settings)


def _settings(args: argparse.Namespace) -> dict[str, str]:
    """--model, --method and each --set KEY=VALUE (the values as text: the workflow file's rules give them types)."""
    settings: dict[str, str] = {}
    if args.model:
        settings["model_id"] = args.model
    if args.method:
        settings["mode"] = args.method
    for pair in args.set:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"--set {pair!r}: expected KEY=VALUE, e.g. --set learning_rate=1e-4")
        if key.strip() in settings:
            raise CommandError(f"{key.strip()} is set twice: keep one")
        settings[key.strip()] = value.strip()
    return settings


def _option_names(args: argparse.Namespace) -> dict[str, str]:
    """The settings --model and --method set, named as the options, for error messages."""
    return {key: option for key, option in (("model_id", "--model"), ("mode", "--method")) if getattr(args, option[2:])}


def _list(args: argparse.Namespace) -> int:
    from studio.dataset.store import Project
    from studio.training.workflows import list_workflows

    with Project.open(args.project, read_only=True) as project:
        found = list_workflows(project)
    emit([_data(w.name, w.config) for w in found], as_json=args.json,
         text="\n".join(_line(w.name, w.config) for w in found)
         or "no workflows yet (the Train page and train create 'default'; --new NAME creates one)")
    return 0


def _new(args: argparse.Namespace, settings: dict[str, str]) -> int:
    from studio.training.workflow_file import new_config

    if not args.model:
        raise CommandError("--new needs --model (a catalog id, see `vlm-studio models`)")
    return _save(args, args.new, new_config(settings, _option_names(args)), replace=args.replace)


def _edit(args: argparse.Namespace, settings: dict[str, str]) -> int:
    from studio.dataset.store import Project
    from studio.training.workflow_file import apply_settings
    from studio.training.workflows import get_workflow

    if not settings:
        raise CommandError("--edit needs --set KEY=VALUE (or --model, --method)")
    with Project.open(args.project, read_only=True) as project:
        base = get_workflow(project, args.edit).config
    return _save(args, args.edit, apply_settings(base, settings, _option_names(args)), replace=True)


def _import(args: argparse.Namespace, settings: dict[str, str]) -> int:
    from studio.training.workflow_file import new_config, read_workflow_file

    path = Path(args.import_file)
    data = read_workflow_file(path)
    clash = sorted(set(settings) & set(data))
    if clash:
        raise CommandError(f"{', '.join(clash)} set both in {path} and on the command line: keep one")
    config = new_config({**data, **settings}, _option_names(args))
    return _save(args, args.name or path.stem, config, replace=args.replace)


def _save(args: argparse.Namespace, name: str, config, *, replace: bool) -> int:
    """Save ``config`` as ``name`` (already validated: nothing is written when it is not valid)."""
    from studio.dataset.store import Project
    from studio.training.workflows import get_workflow, save_workflow

    with Project.open(args.project) as project:
        if not replace:
            try:
                get_workflow(project, name.strip())
            except KeyError:
                pass
            else:
                raise CommandError(f"a workflow named {name.strip()!r} exists: --replace overwrites it, "
                                   "--edit NAME changes its settings")
        saved = save_workflow(project, name, config)
    emit(_data(saved.name, saved.config), as_json=args.json, text=f"saved {_line(saved.name, saved.config)}")
    return 0


def _show(args: argparse.Namespace, _settings: dict[str, str]) -> int:
    from studio.dataset.store import Project
    from studio.training.workflow_file import workflow_yaml
    from studio.training.workflows import get_workflow

    with Project.open(args.project, read_only=True) as project:
        workflow = get_workflow(project, args.show)
    emit(_data(workflow.name, workflow.config), as_json=args.json,
         text=workflow_yaml(workflow.config, workflow.name).rstrip("\n"))
    return 0


def _export(args: argparse.Namespace, _settings: dict[str, str]) -> int:
    from studio.dataset.store import Project
    from studio.training.workflow_file import workflow_yaml
    from studio.training.workflows import get_workflow

    name, file = args.export
    with Project.open(args.project, read_only=True) as project:
        workflow = get_workflow(project, name)
    path = Path(file)
    path.write_text(workflow_yaml(workflow.config, workflow.name), encoding="utf-8")
    emit({"name": workflow.name, "file": str(path.resolve())}, as_json=args.json,
         text=f"wrote workflow {workflow.name!r} to {path}")
    return 0


def _delete(args: argparse.Namespace, _settings: dict[str, str]) -> int:
    from studio.dataset.store import Project
    from studio.training.workflows import delete_workflow

    with Project.open(args.project) as project:
        delete_workflow(project, args.delete)
    emit({"deleted": args.delete}, as_json=args.json, text=f"deleted workflow {args.delete!r}")
    return 0


def _data(name: str, config) -> dict:
    return {"name": name, **config.to_dict()}


def _line(name: str, config) -> str:
    return (f"{name}: {config.model_id}, {config.mode}, {config.epochs:g} epochs, lr {config.lr:g}, "
            f"batch {config.batch_size}x{config.grad_accum}")
