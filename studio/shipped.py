"""Where the files that ship with the application lie: the model catalog, default prompts, the tiny model, the icon.

The one place that knows the layout; nothing here imports more than pathlib, so the GUI can use it while it starts."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS_DIR = ROOT / "models"
RESOURCES_DIR = ROOT / "resources"
APP_ICON = RESOURCES_DIR / "icons" / "vlm-studio.svg"
