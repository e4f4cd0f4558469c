"""Screenshots the tests save for people to look at: PNGs in the repository's artifacts/ folder (git-ignored)."""

from __future__ import annotations

from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def save_shot(widget, name: str) -> Path:
    """A picture of ``widget`` as ``artifacts/name``."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    widget.grab().save(str(path))
    return path
