"""Every command accepts its options anywhere: before, between or after its positionals."""

from __future__ import annotations

import argparse

import pytest

from studio.cli import _commands, build_parser, parse

COMMANDS = _commands(build_parser())


def _tokens(parser: argparse.ArgumentParser) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """Example positionals, options (one per mutually exclusive group), and options taking several values (those
    swallow what follows them, so they go last in any order)."""
    positionals: list[str] = []
    options: list[list[str]] = []
    last: list[list[str]] = []
    exclusive = {id(a): group for group in parser._mutually_exclusive_groups for a in group._group_actions}
    used_groups: set[int] = set()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if not action.option_strings:
            count = 2 if action.nargs in ("+", "*") else 1
            positionals += [f"{action.dest}{i}" for i in range(count)]
            continue
        group = exclusive.get(id(action))
        if group is not None:
            if id(group) in used_groups:
                continue
            used_groups.add(id(group))
        value = str(action.choices[0]) if action.choices else "3" if action.type in (int, float) else "x"
        if action.nargs == 0:
            options.append([action.option_strings[0]])
        elif isinstance(action.nargs, int):
            options.append([action.option_strings[0], *[value] * action.nargs])
        elif action.nargs in ("+", "*"):
            last.append([action.option_strings[0], value])
        else:
            options.append([action.option_strings[0], value])
    return positionals, options, last


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_options_are_accepted_between_positionals(name):
    positionals, options, last = _tokens(COMMANDS[name])
    flat_last = [t for option in last for t in option]
    usual = [name, *positionals, *[t for option in options for t in option], *flat_last]
    mixed = [name]
    for i in range(max(len(positionals), len(options))):  # option, positional, option, positional...
        mixed += options[i] if i < len(options) else []
        mixed += [positionals[i]] if i < len(positionals) else []
    mixed += flat_last
    assert vars(parse(mixed)) == vars(parse(usual))


def test_predict_takes_the_run_between_project_and_image():
    args = parse(["predict", "proj", "--run", "r1", "photo.jpg", "--prompt", "Where is the cat?"])
    assert (args.project, args.run, args.image, args.prompt) == ("proj", "r1", "photo.jpg", "Where is the cat?")
    base = parse(["predict", "--model", "tiny", "photo.jpg", "--prompt", "hi"])
    assert (base.project, base.image, base.model) == (None, "photo.jpg", "tiny")


def test_bad_commands_and_options_still_fail_as_usage_errors(capsys):
    with pytest.raises(SystemExit) as unknown:
        parse(["nope"])
    assert unknown.value.code == 2 and "invalid choice: 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(["info", "p", "--bogus"])
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
