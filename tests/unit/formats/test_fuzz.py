"""Fuzzed malformed input: every reader either imports or raises its clear ``FormatError``; never another
exception, and the store is unchanged after an error."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.dataset.formats.base import FormatError
from studio.dataset.formats.importing import import_dataset
from tests.unit.formats.formats_helpers import make_png

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)

COCO = {
    "images": [{"id": 1, "file_name": "a.png", "width": 20, "height": 10}],
    "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "iscrowd": 0}],
    "categories": [{"id": 1, "name": "cat"}],
}
LABELME = {
    "version": "5.4.1",
    "shapes": [{"label": "cat", "points": [[1, 2], [3, 4]], "shape_type": "rectangle"}],
    "imagePath": "a.png",
    "imageHeight": 10,
    "imageWidth": 20,
}
LLAVA = [
    {
        "id": "1",
        "image": "a.png",
        "conversations": [
            {"from": "human", "value": "<image>\nLocate every phrase of this caption in the image: a cat"},
            {"from": "gpt", "value": '[{"bbox_2d": [1, 2, 300, 400], "label": "a cat"}]'},
        ],
    }
]
ODVG = {
    "filename": "a.png",
    "height": 10,
    "width": 20,
    "detection": {"instances": [{"bbox": [1, 2, 3, 4], "label": 0, "category": "cat"}]},
    "grounding": {"caption": "a cat", "regions": [{"bbox": [1, 2, 3, 4], "phrase": "a cat"}]},
}
SWIFT = {
    "messages": [{"role": "user", "content": "<image>Find <ref-object>"}, {"role": "assistant", "content": "<bbox>"}],
    "images": ["a.png"],
    "objects": {"ref": ["cat"], "bbox": [[1, 2, 3, 4]], "bbox_type": "real"},
}


def _paths(value, prefix=()):
    """Every place in a JSON value: (path to the container, key)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _mutate(valid, choice, replacement, delete):
    data = copy.deepcopy(valid)
    paths = _paths(data)
    path = paths[choice % len(paths)]
    if not path:
        return replacement
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return data


def _check(project, fmt, path, model=None):
    before = project.counts()
    try:
        import_dataset(project, fmt, path, model=model)
    except FormatError as exc:
        assert str(path.name) in str(exc) or str(path.parent) in str(exc)
        assert project.counts() == before


CASES = [
    ("coco", COCO, "instances.json", False),
    ("labelme", LABELME, "a.json", False),
    ("llava", LLAVA, "llava.json", False),
    ("odvg", ODVG, "train.jsonl", True),
    ("msswift", SWIFT, "train.jsonl", True),
]


@SETTINGS
@given(case=st.sampled_from(CASES), choice=st.integers(0, 200), replacement=JSON_VALUES, delete=st.booleans())
def test_mutated_json(project, tmp_path, case, choice, replacement, delete):
    fmt, valid, name, lines = case
    make_png(tmp_path / "ds" / "a.png", 20, 10)
    data = _mutate(valid, choice, replacement, delete)
    text = json.dumps(data) + "\n" if lines else json.dumps(data)
    path = tmp_path / "ds" / name
    path.write_text(text, encoding="utf-8")
    _check(project, fmt, path, model="tiny" if fmt == "llava" else None)


@SETTINGS
@given(text=st.text(max_size=60), cut=st.integers(0, 80))
def test_mangled_text_files(project, tmp_path, text, cut):
    root = tmp_path / "ds"
    make_png(root / "images" / "train" / "a.png", 20, 10)
    good_label = "0 0.5 0.5 0.2 0.4\n"
    (root / "labels" / "train").mkdir(parents=True, exist_ok=True)
    (root / "labels" / "train" / "a.txt").write_text(good_label[: cut % 19] + text, encoding="utf-8")
    (root / "data.yaml").write_text("train: images/train\nnames: [cat]\n" + text[: cut % 7], encoding="utf-8")
    _check(project, "yolo", root / "data.yaml")
    xml = (
        "<annotation><filename>a.png</filename><object><name>cat</name><bndbox><xmin>1</xmin><ymin>2</ymin>"
        "<xmax>3</xmax><ymax>4</ymax></bndbox></object></annotation>"
    )
    (root / "a.xml").write_text(xml[: cut * 2] + text + xml[cut * 2 :], encoding="utf-8")
    _check(project, "voc", root / "a.xml")


@SETTINGS
@given(data=st.binary(max_size=80))
def test_binary_garbage(project, tmp_path, data):
    for fmt, name in (("coco", "x.json"), ("odvg", "x.jsonl"), ("voc", "x.xml"), ("msswift", "y.jsonl")):
        path = tmp_path / name
        path.write_bytes(data)
        _check(project, fmt, path)
