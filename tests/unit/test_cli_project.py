"""The project commands, run as a user runs them (a subprocess of the installed entry point's module)."""

from __future__ import annotations

import json
import subprocess
import sys

from PIL import Image


def vlm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True, text=True, timeout=120)


def test_new_import_info_round(tmp_path):
    project = tmp_path / "proj"
    assert vlm("new", str(project)).returncode == 0
    Image.new("RGB", (30, 20)).save(tmp_path / "one.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 nope")
    result = vlm("import-images", str(project), str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["added"] == 1 and report["skipped"][0]["path"].endswith("broken.jpg")
    info = json.loads(vlm("info", str(project), "--json").stdout)
    assert info["images"] == 1 and info["splits"] == {"unassigned": 1}


def test_sample_command_and_info(tmp_path):
    result = vlm("sample", str(tmp_path / "s"), "--count", "20", "--json")
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["images"] == 20
    info = json.loads(vlm("info", str(tmp_path / "s"), "--json").stdout)
    for key in ("images", "boxes", "phrases", "vqa_pairs", "labels", "splits"):
        assert key in info
    assert info["vqa_pairs"] == 60


def test_errors_are_one_line_with_exit_status_2(tmp_path):
    result = vlm("info", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "not a VLM Studio project" in result.stderr
    assert vlm("new", str(tmp_path / "p")).returncode == 0
    again = vlm("new", str(tmp_path / "p"))
    assert again.returncode == 2 and "already holds" in again.stderr


def test_a_moved_image_folder_is_found_again_with_relink(tmp_path):
    images = tmp_path / "shoot" / "day1"
    images.mkdir(parents=True)
    for i in range(3):
        Image.new("RGB", (20, 20)).save(images / f"{i}.png")
    assert vlm("new", str(tmp_path / "p")).returncode == 0
    assert vlm("import-images", str(tmp_path / "p"), str(tmp_path / "shoot")).returncode == 0
    (tmp_path / "shoot").rename(tmp_path / "archive")
    info = json.loads(vlm("info", str(tmp_path / "p"), "--json").stdout)
    assert info["missing_images"] == 3 and info["missing_folder"] == str(images)
    result = vlm("relink", str(tmp_path / "p"), str(tmp_path / "shoot"), str(tmp_path / "archive"), "--json")
    assert json.loads(result.stdout) == {"relinked": 3, "found": 3, "still_missing": 0}
    bad = vlm("relink", str(tmp_path / "p"), str(tmp_path / "shoot"), str(tmp_path / "nowhere"))
    assert bad.returncode == 2 and "is not a folder" in bad.stderr
