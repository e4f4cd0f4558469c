"""The headless command line: ``vlm-studio <command> ... [--json]``.

Each module in this package registers its sub-commands; each command calls one core function, the same one the
GUI's worker calls. Errors a person can act on are printed as one line on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from studio.gui_options import add_gui_options, gui_usage

# Modules with a ``register(subparsers)`` function, in the order their commands appear in ``--help``.
COMMAND_MODULES = (
    "studio.cli.project",
    "studio.cli.formats",
    "studio.cli.models",
    "studio.cli.predict",
    "studio.cli.evaluate",
    "studio.cli.review",
    "studio.cli.labelling",
    "studio.cli.export_model",
    "studio.cli.workflows",
    "studio.cli.training",
)


class CommandError(Exception):
    """A failure to report as one line, without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vlm-studio",
        usage=f"{gui_usage()}  (opens the window)\n       vlm-studio [-h] COMMAND ...  (headless; COMMAND --help)",
        description="VLM Studio: annotate, train and test vision-language models. Without a command, opens the GUI.",
    )
    add_gui_options(parser.add_argument_group("the window (vlm-studio without a COMMAND)"))
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """``argv`` parsed with each command's options accepted anywhere, before, between or after its positionals
    (``predict PROJECT --run RUN IMAGE --prompt P``). argparse cannot intermix through sub-parsers, so the
    command's own parser parses everything after the command's name."""
    parser = build_parser()
    argv = list(argv)
    commands = _commands(parser)
    if not argv or argv[0] not in commands:
        return parser.parse_args(argv)  # help, or the error naming the known commands
    args = commands[argv[0]].parse_intermixed_args(argv[1:])
    args.command = argv[0]
    return args


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Each command's name and its parser."""
    for action in parser._subparsers._group_actions:  # the one sub-parsers action
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def run(argv: Sequence[str]) -> int:
    """Parse ``argv`` and run the command; returns the exit status."""
    args = parse(argv)
    if not getattr(args, "handler", None):
        build_parser().print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("vlm-studio: interrupted", file=sys.stderr)
        return 130
    except (CommandError, OSError, ValueError, KeyError, RuntimeError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"vlm-studio {args.command}: {message}", file=sys.stderr)
        return 2
