"""`vlm-studio` routes the window's options to the GUI and everything else to the headless commands, and its
`--help` lists both."""

from __future__ import annotations

import pytest

import studio.app
import studio.cli
from studio.__main__ import main
from studio.gui_options import gui_option_strings, gui_parser

WINDOW_OPTIONS = [a for a in gui_parser()._actions if a.option_strings]


def test_help_lists_the_window_options(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    usage = out.split("\n\n")[0]
    assert "vlm-studio [--project DIR] [--screenshot PNG] [--print-startup-time]  (opens the window)" in usage
    assert "vlm-studio [-h] COMMAND ..." in usage
    assert "the window (vlm-studio without a COMMAND):" in out
    flat = " ".join(out.split())
    for action in WINDOW_OPTIONS:
        assert action.option_strings[0] in flat and " ".join(action.help.split()) in flat


def test_the_window_options_open_the_window_and_commands_run_headless(monkeypatch):
    calls = []
    monkeypatch.setattr(studio.app, "run_gui", lambda argv: calls.append(("gui", argv)) or 0)
    monkeypatch.setattr(studio.cli, "run", lambda argv: calls.append(("cli", argv)) or 0)
    assert gui_option_strings() == {"--project", "--screenshot", "--print-startup-time"}
    main([])
    main(["--project", "P"])
    main(["--screenshot=x.png"])
    main(["--print-startup-time"])
    main(["models"])
    main(["--help"])
    assert calls == [("gui", []), ("gui", ["--project", "P"]), ("gui", ["--screenshot=x.png"]),
                     ("gui", ["--print-startup-time"]), ("cli", ["models"]), ("cli", ["--help"])]
