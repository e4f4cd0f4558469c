"""The desktop integration files validate, the icons exist in every size, and a start without a display says so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from studio.app import NO_DISPLAY, display_problem
from studio.shipped import APP_ICON

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "packaging" / "linux"
APP_ID = "io.github.vlmstudio.VLMStudio"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="needs desktop-file-utils (CI installs it)")
def test_the_desktop_entry_validates():
    result = subprocess.run(["desktop-file-validate", str(LINUX / f"{APP_ID}.desktop")], capture_output=True, text=True)
    assert result.returncode == 0 and "error" not in result.stdout, result.stdout


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="needs appstream (CI installs it)")
def test_the_appstream_metadata_validates():
    result = subprocess.run(["appstreamcli", "validate", "--no-net", str(LINUX / f"{APP_ID}.metainfo.xml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_icon_ships_as_svg_and_in_every_png_size():
    assert APP_ICON.read_text().lstrip().startswith("<svg")
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        with Image.open(ROOT / "packaging" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png") as png:
            assert png.size == (size, size)


def test_a_missing_display_is_named_before_qt_guesses():
    assert display_problem({}, "linux") == NO_DISPLAY
    assert display_problem({"DISPLAY": ":0"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({}, "win32") is None
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-m", "studio"], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2 and "no display found" in result.stderr and "xvfb-run" in result.stderr
    assert "libxcb" not in result.stderr
