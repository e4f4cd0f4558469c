"""The window's own command-line options: ``vlm-studio [--project DIR] ...`` without a command opens the GUI.

Qt-free, so that the entry point can tell them from a headless command and the headless ``--help`` lists them."""

from __future__ import annotations

import argparse


def add_gui_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add the window's options to ``parser`` (the GUI's own parser, or a group of the headless one)."""
    parser.add_argument("--project", metavar="DIR", help="open this project folder (or its project.vlmstudio.sqlite)")
    parser.add_argument("--screenshot", metavar="PNG", help="save a picture of the window once it is ready, then quit")
    parser.add_argument("--print-startup-time", action="store_true", help="print seconds until the window painted")


def gui_parser() -> argparse.ArgumentParser:
    """The parser of ``vlm-studio`` without a command (the window)."""
    parser = argparse.ArgumentParser(prog="vlm-studio", add_help=False)
    add_gui_options(parser)
    return parser


def gui_usage() -> str:
    """``vlm-studio [--project DIR] ...``: the window's usage line."""
    return " ".join(gui_parser().format_usage().removeprefix("usage:").split())


def gui_option_strings() -> frozenset[str]:
    """Every option string of the window (``--project`` ...): an argument list that starts with one opens the GUI."""
    return frozenset(s for action in gui_parser()._actions for s in action.option_strings)
