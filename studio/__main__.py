"""Entry point: ``vlm-studio`` opens the GUI; ``vlm-studio COMMAND ...`` runs headless."""

from __future__ import annotations

import sys

from studio.gui_options import gui_option_strings


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].split("=")[0] not in gui_option_strings():
        from studio.cli import run

        return run(argv)
    from studio.app import run_gui

    return run_gui(argv)


if __name__ == "__main__":
    if getattr(sys, "frozen", False):  # the PyInstaller bundle: its spawned DataLoader workers start here too
        import multiprocessing

        multiprocessing.freeze_support()
    sys.exit(main())
