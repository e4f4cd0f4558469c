"""Trainer exports write boxes for the image the consuming trainer hands the model (issue 20): LLaMA-Factory's own
resize at image_max_pixels, ms-swift's MAX_PIXELS, the export's pixel settings; and detection-only projects export
their boxes as detection conversations."""

from __future__ import annotations

import json

import pytest
import yaml

from studio.adapters import get_adapter, prompts
from studio.dataset.formats.exporting import ExportOptions, export_dataset
from studio.dataset.formats.importing import import_dataset
from studio.dataset.formats.llamafactory import image_size
from studio.dataset.imaging import read_image_info
from tests.unit.formats.formats_helpers import make_png


@pytest.fixture
def large(project, tmp_path):
    """One 1600 x 1200 image with a box linked to a caption phrase."""
    [image] = project.add_images([read_image_info(make_png(tmp_path / "src" / "big.png", 1600, 1200))])
    box = project.add_box(image, project.ensure_label("dog").id, 400, 300, 800, 700)
    project.set_caption(image, "a dog")
    project.add_phrase(image, 0, 5, [box])
    return project


def _answers(folder) -> list[str]:
    return [r["messages"][2]["content"] for r in json.loads((folder / "vlm_studio_train.json").read_text())]


def test_llamafactory_resize_rule():
    # mm_plugin: 1600 x 1200 above 768 * 768 px scales by sqrt(589824 / 1920000), each side truncated
    assert image_size(1600, 1200, 768 * 768, 32 * 32) == (886, 665)
    assert image_size(20, 10, 768 * 768, 32 * 32) == (45, 28)  # up to 1,024 px, then sides of at least 28
    assert image_size(100, 100, 768 * 768, 32 * 32) == (100, 100)


def test_llamafactory_boxes_are_in_its_default_frame(large, tmp_path):
    out = tmp_path / "lf"
    export_dataset(large, "llamafactory", out, model="qwen2.5-vl-7b")
    # LLaMA-Factory hands the processor 886 x 665, which smart_resize makes 896 x 672 (the catalog's 12.8 MP frame
    # would say [399, 301, 798, 702])
    assert '"bbox_2d": [224, 168, 448, 392]' in _answers(out)[0]
    config = yaml.safe_load((out / "vlm_studio_sft.yaml").read_text())
    assert (config["image_max_pixels"], config["image_min_pixels"]) == (589824, 1024)
    assert config["template"] == "qwen2_vl" and config["dataset"] in json.loads((out / "dataset_info.json").read_text())
    assert "image_max_pixels 589,824" in (out / "README.md").read_text()
    assert json.loads((out / "vlm_studio.json").read_text())["max_pixels"] == 589824


def test_llamafactory_boxes_follow_the_pixels_passed(large, tmp_path):
    out = tmp_path / "lf"
    export_dataset(large, "llamafactory", out, model="qwen2.5-vl-7b", options=ExportOptions(max_pixels=1003520))
    adapter = get_adapter("qwen2.5-vl-7b")
    width, height = image_size(1600, 1200, 1003520, 1024)
    rw, rh = adapter.resized_size(width, height)
    want = [round(400 * rw / 1600), round(300 * rh / 1200), round(800 * rw / 1600), round(700 * rh / 1200)]
    assert f'"bbox_2d": {want}' in _answers(out)[0]
    assert yaml.safe_load((out / "vlm_studio_sft.yaml").read_text())["image_max_pixels"] == 1003520


@pytest.mark.parametrize("fmt", ["llava", "msswift"])
def test_processor_formats_use_the_pixels_passed(fmt, large, tmp_path):
    export_dataset(large, fmt, tmp_path / "out", model="qwen2.5-vl-7b", options=ExportOptions(max_pixels=200704))
    text = (tmp_path / "out" / ("llava.json" if fmt == "llava" else "train.jsonl")).read_text()
    adapter = get_adapter("qwen2.5-vl-7b")
    settings = adapter.settings(max_pixels=200704)
    want = list(adapter.box_map(1600, 1200, settings).to_model_int((400, 300, 800, 700)))
    assert json.dumps(f'"bbox_2d": {want}')[1:-1] in text
    sidecar = json.loads((tmp_path / "out" / "vlm_studio.json").read_text())
    assert sidecar["max_pixels"] == 200704


def test_msswift_command_sets_the_pixels_the_boxes_were_written_for(large, tmp_path):
    export_dataset(large, "msswift", tmp_path / "out", model="qwen2.5-vl-7b")
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "MAX_PIXELS=12845056 MIN_PIXELS=3136 swift sft --model Qwen/Qwen2.5-VL-7B-Instruct" in readme
    assert str(tmp_path / "out" / "train.jsonl") in readme


@pytest.mark.parametrize("fmt", ["llava", "llamafactory", "msswift"])
def test_detection_only_project_exports_its_boxes(fmt, project, tmp_path):
    [image] = project.add_images([read_image_info(make_png(tmp_path / "src" / "a.png", 100, 50))])
    project.add_box(image, project.ensure_label("cat").id, 10, 5, 60, 45)
    project.add_box(image, project.ensure_label("dog").id, 0, 0, 50, 50)
    project.add_box(image, None, 1, 1, 2, 2)
    report = export_dataset(project, fmt, tmp_path / "out", model="tiny")
    assert report.records == 1
    assert any("2 labelled boxes linked to no phrase were written as 1 detection" in n for n in report.notes)
    assert any("1 boxes with neither a label nor a phrase" in n for n in report.notes)
    text = "".join(p.read_text() for p in (tmp_path / "out").glob("*.json*") if p.name != "vlm_studio.json")
    assert prompts.DETECTION_PROMPT in text and '\\"label\\": \\"cat\\"' in text and '\\"label\\": \\"dog\\"' in text


def test_workflow_system_prompts_are_written(large, tmp_path):
    options = ExportOptions(system_prompts={"grounding": "Boxes please.", "vqa": "Answer."})
    export_dataset(large, "llamafactory", tmp_path / "out", model="tiny", options=options)
    records = json.loads((tmp_path / "out" / "vlm_studio_train.json").read_text())
    assert {r["messages"][0]["content"] for r in records} == {"Boxes please."}


def test_cli_export_takes_the_workflow_and_the_flags(large, tmp_path, capsys):
    import argparse

    from studio.cli import formats as cli_formats
    from studio.training.config import WorkflowConfig
    from studio.training.workflows import save_workflow

    save_workflow(large, "big", WorkflowConfig(model_id="qwen2.5-vl-7b", max_pixels=1003520, min_pixels=3136))
    folder = str(large.folder)
    large.close()
    parser = argparse.ArgumentParser()
    cli_formats.register(parser.add_subparsers(dest="command"))

    def run(*argv):
        args = parser.parse_args(argv)
        return args.handler(args)

    assert run("export", folder, "--format", "llamafactory", str(tmp_path / "lf"), "--workflow", "big") == 0
    config = yaml.safe_load((tmp_path / "lf" / "vlm_studio_sft.yaml").read_text())
    assert (config["image_max_pixels"], config["model_name_or_path"]) == (1003520, "Qwen/Qwen2.5-VL-7B-Instruct")
    assert "workflow 'big'" in (tmp_path / "lf" / "README.md").read_text()
    assert run("export", folder, "--format", "msswift", str(tmp_path / "sw"), "--workflow", "big",
               "--max-pixels", "401408") == 0
    assert "MAX_PIXELS=401408 MIN_PIXELS=3136" in (tmp_path / "sw" / "README.md").read_text()
    capsys.readouterr()


@pytest.mark.parametrize(
    ("fmt", "options"), [("llamafactory", ExportOptions()), ("llava", ExportOptions(max_pixels=200704))]
)
def test_reimport_reads_boxes_in_the_frame_they_were_written_for(fmt, options, large, other_project, tmp_path):
    export_dataset(large, fmt, tmp_path / "out", model="qwen2.5-vl-7b", options=options)
    import_dataset(other_project, fmt, tmp_path / "out")
    [image] = other_project.images()
    [box] = other_project.boxes(image.id)
    # integers on a ~896 px wide image: within 1600 / 896 px of the original corners
    assert all(abs(a - b) <= 2 for a, b in zip(box.xyxy, (400, 300, 800, 700), strict=True)), box.xyxy
