"""Where the files that ship with the application lie: the model catalog, default prompts, the tiny model, the icon.

The one place that knows the layout. They are package data of `studio` (``studio/models``, ``studio/resources``),
found with `importlib.resources`, so a source checkout, an installed wheel and a PyInstaller bundle read the same
files. They are read-only: nothing writes into the package (user files go under platformdirs' folders).
Nothing here imports more than pathlib and importlib.resources, so the GUI can use it while it starts."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _package_folder() -> Path:
    folder = files("studio")
    if not isinstance(folder, Path):  # imported from a zip archive: the catalog and the model must be real folders
        raise RuntimeError(
            f"VLM Studio's package data lies in {folder}, which is not a folder on disk; "
            "install the wheel with pip (it unpacks it) instead of importing it from an archive"
        )
    return folder


PACKAGE_DIR = _package_folder()
MODELS_DIR = PACKAGE_DIR / "models"
RESOURCES_DIR = PACKAGE_DIR / "resources"
APP_ICON = RESOURCES_DIR / "icons" / "vlm-studio.svg"
