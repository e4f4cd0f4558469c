"""The wheel holds everything the app reads at run time: unpacked outside the checkout (read-only, so that nothing
can write into the package) it lists the models, builds the sample project and checks a training run's data."""

from __future__ import annotations

import configparser
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

# Runs the console script named by the wheel's entry_points.txt ("module:function"), as pip's launcher would.
LAUNCH = ("import importlib, sys; module, _, name = sys.argv.pop(1).partition(':'); "
          "sys.exit(getattr(importlib.import_module(module), name)())")


def _set_writable(folder: Path, writable: bool) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode | stat.S_IWUSR if writable else mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel built from the checkout and unpacked into a read-only folder: (site folder, entry point, env)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"  # a copy of what the build reads: a build/ folder left in the checkout would leak in
    for name in ("pyproject.toml", "README.md"):
        source.mkdir(exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "studio", source / "studio", ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(source), "-w", str(tmp)],
        capture_output=True, text=True, timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = tmp.glob("vlm_studio-*.whl")
    site = tmp / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    (dist_info,) = site.glob("vlm_studio-*.dist-info")
    scripts = configparser.ConfigParser()
    scripts.read(dist_info / "entry_points.txt")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME")}
    env.update(PYTHONPATH=str(site), HOME=str(tmp / "home"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               QT_QPA_PLATFORM="offscreen")
    _set_writable(site, False)
    yield site, scripts["console_scripts"]["vlm-studio"], env
    _set_writable(site, True)


def _python(installed, tmp_path, *args: str) -> subprocess.CompletedProcess:
    """Python with the unpacked wheel first on sys.path, run from a folder outside the checkout."""
    _site, _script, env = installed
    return subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)


def _vlm_studio(installed, tmp_path, *args: str) -> subprocess.CompletedProcess:
    done = _python(installed, tmp_path, "-c", LAUNCH, installed[1], *args)
    assert done.returncode == 0, f"vlm-studio {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def test_the_unpacked_wheel_is_the_studio_imported(installed, tmp_path):
    site = installed[0]
    done = _python(installed, tmp_path, "-c", "import os, sys, studio, studio.shipped as s; print(studio.__file__); "
                   "print(s.MODELS_DIR); print(any(os.path.realpath(p or '.') == sys.argv[1] for p in sys.path))",
                   str(ROOT.resolve()))  # the checkout itself (a venv inside it, as CI's, may stay on the path)
    module, models, checkout_on_path = done.stdout.split()
    assert Path(module).is_relative_to(site / "studio") and Path(models) == site / "studio" / "models"
    assert checkout_on_path == "False"


def test_the_installed_app_lists_models_builds_the_sample_and_checks_training(installed, tmp_path):
    site = installed[0]
    before = sorted(p.relative_to(site) for p in site.rglob("*") if "__pycache__" not in p.parts)
    models = _vlm_studio(installed, tmp_path, "models")
    assert "tiny" in models.stdout and "qwen3-vl-2b" in models.stdout
    _vlm_studio(installed, tmp_path, "sample", str(tmp_path / "sample"), "--count", "20")
    check = _vlm_studio(installed, tmp_path, "train", str(tmp_path / "sample"), "--check", "--json")
    report = json.loads(check.stdout)
    assert report["ok"] and report["facts"]["train_samples"] > 0, report
    assert Path(report["facts"]["weights"]) == site / "studio" / "resources" / "tiny-model"
    assert sorted(p.relative_to(site) for p in site.rglob("*") if "__pycache__" not in p.parts) == before


def test_every_file_of_the_package_is_in_the_wheel(installed):
    """A new kind of package data (a .qss, a font) fails here until pyproject.toml's package-data names it."""
    site = installed[0]
    wanted = {p.relative_to(ROOT) for p in (ROOT / "studio").rglob("*")
              if p.is_file() and "__pycache__" not in p.parts}
    assert wanted <= {p.relative_to(site) for p in (site / "studio").rglob("*") if p.is_file()}
