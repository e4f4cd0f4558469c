"""The real application in a real X window (Xvfb): starts on a project, paints, and saves a screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from studio.dataset.sample import create_sample_project
from tests.screenshots import ARTIFACTS

pytestmark = [pytest.mark.xvfb,
              pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs Xvfb (CI installs it)")]


def test_app_opens_a_project_under_xvfb_and_paints_it(tmp_path):
    create_sample_project(tmp_path / "sample", count=60).close()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "main-window-xvfb.png"
    shot.unlink(missing_ok=True)
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    result = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, "-m", "studio",
         "--project", str(tmp_path / "sample"), "--screenshot", str(shot), "--print-startup-time"],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "startup_seconds=" in result.stdout
    picture = Image.open(shot).convert("RGB")
    assert picture.width >= 1000 and picture.height >= 600
    colours = picture.resize((64, 40)).getcolors(4096)
    assert colours is not None and len(colours) > 50  # a painted window with thumbnails, not a blank frame
