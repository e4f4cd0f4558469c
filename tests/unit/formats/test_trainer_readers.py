"""Trainer formats read from the public examples their tools ship (LLaVA-Instruct, LLaMA-Factory's mllm_demo,
ms-swift's grounding examples), with their corner cases."""

from __future__ import annotations

import json

import pytest

from studio.dataset.formats.base import FormatError
from studio.dataset.formats.importing import import_dataset
from tests.unit.formats.formats_helpers import make_png, snapshot


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_llava_instruct_records(project, tmp_path):
    make_png(tmp_path / "coco" / "train2017" / "000000033471.png", 64, 48)
    path = _write(
        tmp_path / "llava_v1_5_mix665k.json",
        [
            {
                "id": "000000033471",
                "image": "coco/train2017/000000033471.png",
                "conversations": [
                    {"from": "human", "value": "<image>\nWhat are the colors of the bus in the image?"},
                    {"from": "gpt", "value": "The bus in the image is white and red."},
                    {"from": "human", "value": "What feature can be seen on the back of the bus?"},
                    {"from": "gpt", "value": "The back of the bus features an advertisement."},
                ],
            },
            {"id": "text-only", "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]},
            {
                "id": "x",
                "image": "coco/train2017/000000000009.jpg",
                "conversations": [
                    {"from": "human", "value": "<image>\nDescribe."},
                    {"from": "gpt", "value": "A plate."},
                ],
            },
        ],
    )
    report = import_dataset(project, "llava", path)
    assert report.images_new == 1 and report.vqa_pairs == 2  # the missing image's pair is not counted
    assert [m[0] for m in report.missing] == ["coco/train2017/000000000009.jpg"]
    assert any("text-only" in note for note in report.notes)
    assert snapshot(project)["000000033471.png"]["vqa"] == [
        ("What are the colors of the bus in the image?", "The bus in the image is white and red."),
        ("What feature can be seen on the back of the bus?", "The back of the bus features an advertisement."),
    ]


def test_llava_grounding_answers_in_qwen_json_become_boxes(project, tmp_path):
    make_png(tmp_path / "house.png", 200, 100)
    path = _write(
        tmp_path / "grounding.json",
        [
            {
                "image": "house.png",
                "conversations": [
                    {"from": "human", "value": "<image>\nLocate the house in this image."},
                    {"from": "gpt", "value": '{"bbox_2d": [135, 114, 1000, 672], "label": "house"}'},
                ],
            }
        ],
    )
    report = import_dataset(project, "llava", path, model="qwen3-vl-8b")
    assert report.boxes == 1 and report.vqa_pairs == 0
    assert snapshot(project)["house.png"]["boxes"] == [("house", (27, 11.4, 200, 67.2))]


def test_llamafactory_mllm_demo_with_dataset_info(project, tmp_path):
    make_png(tmp_path / "data" / "mllm_demo_data" / "1.png", 32, 32)
    make_png(tmp_path / "data" / "mllm_demo_data" / "2.png", 32, 32)
    _write(
        tmp_path / "data" / "mllm_demo.json",
        [
            {
                "messages": [
                    {"content": "<image>Who are they?", "role": "user"},
                    {"content": "They're Kane and Gretzka from Bayern Munich.", "role": "assistant"},
                    {"content": "What are they doing?<image>", "role": "user"},
                    {"content": "They are celebrating on the soccer field.", "role": "assistant"},
                ],
                "images": ["mllm_demo_data/1.png", "mllm_demo_data/1.png"],
            },
            {
                "messages": [
                    {"content": "<image>Who is he?", "role": "user"},
                    {"content": "He's Thomas Muller from Bayern Munich.", "role": "assistant"},
                ],
                "images": ["mllm_demo_data/2.png"],
            },
            {
                "messages": [
                    {"content": "<image><image>Compare.", "role": "user"},
                    {"content": "Same team.", "role": "assistant"},
                ],
                "images": ["mllm_demo_data/1.png", "mllm_demo_data/2.png"],
            },
        ],
    )
    _write(
        tmp_path / "data" / "dataset_info.json",
        {
            "alpaca_en_demo": {"file_name": "alpaca_en_demo.json"},
            "hub_only": {
                "hf_hub_url": "BUAADreamer/llava-en-zh-300k",
                "formatting": "sharegpt",
                "columns": {"messages": "messages", "images": "images"},
            },
            "mllm_demo": {
                "file_name": "mllm_demo.json",
                "formatting": "sharegpt",
                "columns": {"messages": "messages", "images": "images"},
                "tags": {
                    "role_tag": "role",
                    "content_tag": "content",
                    "user_tag": "user",
                    "assistant_tag": "assistant",
                },
            },
        },
    )
    report = import_dataset(project, "llamafactory", tmp_path / "data")
    assert report.images_new == 2 and report.vqa_pairs == 3
    assert any("exactly one image" in note for note in report.notes)
    assert snapshot(project)["1.png"]["vqa"][1] == ("What are they doing?", "They are celebrating on the soccer field.")


def test_llamafactory_bad_tags_name_the_entry(project, tmp_path):
    _write(tmp_path / "d" / "x.json", [])
    _write(tmp_path / "d" / "dataset_info.json", {"x": {"file_name": "x.json", "formatting": "sharegpt", "tags": 3}})
    with pytest.raises(FormatError, match=r"dataset_info\.json: \$\.x\.tags: expected an object"):
        import_dataset(project, "llamafactory", tmp_path / "d")


def test_msswift_grounding_examples_with_tags_and_objects(project, tmp_path):
    make_png(tmp_path / "coco" / "1507.png", 640, 480)
    make_png(tmp_path / "animals" / "sheep.png", 600, 600)
    lines = [
        {
            "messages": [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "<image>Find the <ref-object>"},
                {"role": "assistant", "content": "<bbox>"},
            ],
            "images": ["coco/1507.png"],
            "objects": {"ref": ["bottom right table"], "bbox": [[221.8, 319.8, 430.5, 479.5]], "bbox_type": "real"},
        },
        {
            "messages": [
                {"role": "user", "content": "<image>Task: Object Detection"},
                {"role": "assistant", "content": "<ref-object><bbox><ref-object><bbox>"},
                {"role": "user", "content": "How many sheep?"},
                {"role": "assistant", "content": "Two."},
            ],
            "images": ["animals/sheep.png"],
            "objects": {
                "ref": ["sheep", "sheep"],
                "bbox": [[90, 160, 135, 212], [360, 480, 495, 532]],
                "bbox_type": "norm1000",
            },
        },
    ]
    path = _write(tmp_path / "train.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n")
    report = import_dataset(project, "msswift", path)
    assert report.boxes == 3 and report.vqa_pairs == 1
    got = snapshot(project)
    assert got["1507.png"]["boxes"] == [("bottom right table", (221.8, 319.8, 430.5, 479.5))]
    assert got["sheep.png"]["boxes"] == [("sheep", (54, 96, 81, 127.2)), ("sheep", (216, 288, 297, 319.2))]
    assert got["sheep.png"]["vqa"] == [("How many sheep?", "Two.")]


@pytest.mark.parametrize(
    "line, places",
    [
        ('{"messages": [], "images": ["a.png"], "objects": {"bbox": [[1, 2, 3]]}}', ["line 1", "objects.bbox[0]"]),
        ('{"messages": [], "images": ["a.png"], "objects": {"bbox": [], "bbox_type": "norm1"}}', ["bbox_type"]),
        ('{"messages": [{"role": "assistant", "content": "x"}], "images": ["a.png"]}', ["line 1", "messages[0].role"]),
        ('{"messages": [{"role": "robot", "content": "x"}], "images": ["a.png"]}', ["unknown role 'robot'"]),
    ],
)
def test_msswift_bad_input(project, tmp_path, line, places):
    path = _write(tmp_path / "train.jsonl", line + "\n")
    with pytest.raises(FormatError) as caught:
        import_dataset(project, "msswift", path)
    for place in places:
        assert place in str(caught.value)
    assert project.image_count() == 0
