"""The inputs a fuzzing audit found (each reduced to its minimal form): numbers beyond Python's limits, unknown
encodings, bytes that are not UTF-8, deep nesting, lists where text belongs, and coordinates that overflow to
infinity. Each is refused with a ``FormatError`` naming the file and the place, and the store stays as it was;
an unusable image name is reported for that image only."""

from __future__ import annotations

import json
import math

import pytest

from studio.dataset.formats.base import FormatError
from studio.dataset.formats.importing import import_dataset
from tests.unit.formats.formats_helpers import make_png


def _coco(**changes) -> dict:
    data = {
        "images": [{"id": 1, "file_name": "a.png", "width": 20, "height": 10}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]}],
        "categories": [{"id": 1, "name": "cat"}],
    }
    for key, value in changes.items():
        data[key][0].update(value)
    return data


def _refused(project, fmt, path, *expected, model=None) -> str:
    before = [project.conn.execute(f"SELECT * FROM {t}").fetchall() for t in ("images", "labels", "boxes")]
    with pytest.raises(FormatError) as caught:
        import_dataset(project, fmt, path, model=model)
    message = str(caught.value)
    for text in expected:
        assert text in message, message
    assert [project.conn.execute(f"SELECT * FROM {t}").fetchall() for t in ("images", "labels", "boxes")] == before
    return message


@pytest.fixture
def folder(tmp_path):
    make_png(tmp_path / "ds" / "a.png", 20, 10)
    return tmp_path / "ds"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (json.dumps(_coco(images={"width": 10**400})), ("$.images[0].width", "whole number up to")),
        (json.dumps(_coco(annotations={"bbox": [10**400, 0, 1, 1]})), ("$.annotations[0].bbox", "finite numbers")),
        (json.dumps(_coco(images={"height": 1e300})), ("$.images[0].height", "whole number up to")),
        ('{"images": [{"id": 1, "width": ' + "9" * 5000 + "}]}", ("line 1 column 32", "more than 4,300 digits")),
        ("[" * 100_000 + "]" * 100_000, ("line 1 column 501", "nested too deeply")),
        ('{"images": [{"id": 1, "file_name": "a\\ud800.png"}]}', ("$.images[0].file_name", "unpaired surrogate")),
        (json.dumps(_coco(annotations={"bbox": [1e308, 0, 1e308, 1]})), ("$.annotations[0].bbox", "finite")),
    ],
    ids=["400-digit-width", "400-digit-bbox", "1e300-height", "5000-digits", "deep", "surrogate", "x+w-overflow"],
)
def test_coco_numbers_nesting_and_text_python_cannot_hold(project, folder, text, expected):
    path = folder / "instances.json"
    path.write_text(text, encoding="utf-8")
    _refused(project, "coco", path, "instances.json", *expected)


def test_non_utf8_bytes_name_the_line_and_byte(project, folder):
    (folder / "classes.txt").write_bytes(b"cat\nd\xffg\n")
    _refused(project, "yolo", folder, "classes.txt: line 2 byte 2", "0xff")
    path = folder / "instances.json"
    path.write_bytes(json.dumps(_coco()).encode()[:30] + b"\xc3\x28" + json.dumps(_coco()).encode()[30:])
    _refused(project, "coco", path, "instances.json: line 1 byte 31", "expected UTF-8")


def test_yolo_label_and_yaml_values(project, folder):
    (folder / "images").mkdir()
    make_png(folder / "images" / "a.png", 20, 10)
    (folder / "labels").mkdir()
    (folder / "data.yaml").write_text("train: images\nnames: [cat]\n", encoding="utf-8")
    (folder / "labels" / "a.txt").write_bytes(b"0 0.5 0.5 0.1 0.1\xff\n")
    _refused(project, "yolo", folder / "data.yaml", "a.txt: line 1 byte 18")
    (folder / "labels" / "a.txt").write_text("0 nan 0.5 0.1 0.1\n", encoding="utf-8")
    _refused(project, "yolo", folder / "data.yaml", "a.txt: line 1", "finite numbers")
    (folder / "labels" / "a.txt").write_text("", encoding="utf-8")
    (folder / "data.yaml").write_text("train: images\nnames: [cat]\nnc: " + "9" * 5000 + "\n", encoding="utf-8")
    _refused(project, "yolo", folder / "data.yaml", "data.yaml", "4300 digits")
    (folder / "data.yaml").write_text("train: images\nnames: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    _refused(project, "yolo", folder / "data.yaml", "data.yaml", "nested too deeply")
    (folder / "data.yaml").write_text('train: images\nnames: ["c\\ud800t"]\n', encoding="utf-8")
    _refused(project, "yolo", folder / "data.yaml", "data.yaml: names[0]", "unpaired surrogate")


def test_voc_unknown_encoding_and_non_utf8_split_list(project, folder):
    path = folder / "a.xml"
    path.write_bytes(b'<?xml version="1.0" encoding="foo"?><annotation/>')
    _refused(project, "voc", path, "a.xml: line 1", "unknown text encoding")
    (folder / "Annotations").mkdir()
    (folder / "Annotations" / "a.xml").write_text("<annotation><filename>a.png</filename></annotation>")
    (folder / "ImageSets" / "Main").mkdir(parents=True)
    (folder / "ImageSets" / "Main" / "train.txt").write_bytes(b"a\xff\n")
    _refused(project, "voc", folder, "train.txt: line 1 byte 2")
    (folder / "ImageSets" / "Main" / "train.txt").write_text("a\n")
    path = folder / "Annotations" / "a.xml"
    path.write_text("<annotation><filename>a.png</filename><size><width>1e300</width><height>1</height></size>"
                    "</annotation>")
    _refused(project, "voc", folder, "a.xml: /annotation/size/width", "whole number up to")


@pytest.mark.parametrize(
    ("section", "key", "place"),
    [("columns", "images", "$.d.columns.images"), ("tags", "user_tag", "$.d.tags.user_tag"),
     ("tags", "role_tag", "$.d.tags.role_tag")],
)
def test_llamafactory_lists_where_names_belong(project, folder, section, key, place):
    record = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
              "images": ["a.png"]}
    (folder / "data.json").write_text(json.dumps([record]), encoding="utf-8")
    entry = {
        "file_name": "data.json",
        "formatting": "sharegpt",
        "columns": {"messages": "messages", "images": "images"},
        "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"},
    }
    entry[section][key] = [entry[section][key]]
    (folder / "dataset_info.json").write_text(json.dumps({"d": entry}), encoding="utf-8")
    _refused(project, "llamafactory", folder, f"dataset_info.json: {place}", "expected text, found a list")


def test_coordinates_that_overflow_in_the_conversion_to_pixels(project, folder, monkeypatch):
    """Finite as written (0..1000 of the image), infinite once scaled to pixels: refused after the arithmetic."""
    from studio.dataset.formats import base

    make_png(folder / "a.png", 4000, 10)
    record = {
        "messages": [
            {"role": "user", "content": "<image>Find <ref-object>"},
            {"role": "assistant", "content": "<bbox>"},
        ],
        "images": ["a.png"],
        "objects": {"ref": ["cat"], "bbox": [[1, 2, 1e308, 4]], "bbox_type": "norm1000"},
    }
    path = folder / "train.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    _refused(project, "msswift", path, "train.jsonl: line 1 $.objects.bbox[0]", "finite coordinates")
    monkeypatch.setattr(base, "MAX_COORDINATE", math.inf)  # as if the reader let it through: the importer does not
    _refused(project, "msswift", path, "train.jsonl: train.jsonl line 1 box 1 in pixels", "found [4, 0.02, inf, 0.04]")


def test_labelme_circle_whose_radius_overflows(project, folder):
    path = folder / "a.json"
    shape = {"label": "cat", "points": [[-1e308, 0], [1e308, 0]], "shape_type": "circle"}
    path.write_text(json.dumps({"shapes": [shape], "imagePath": "a.png"}), encoding="utf-8")
    _refused(project, "labelme", path, "a.json: $.shapes[0].points", "finite coordinates")


def test_the_store_refuses_non_finite_corners(project, folder):
    from studio.dataset.imaging import read_image_info

    (image_id,) = project.add_images([read_image_info(folder / "a.png")])
    with pytest.raises(ValueError, match="finite"):
        project.add_box(image_id, None, 0, 0, math.inf, 1)
    box = project.add_box(image_id, None, 0, 0, 1, 1)
    with pytest.raises(ValueError, match="finite"):
        project.update_box(box, x2=math.nan)
    assert project.box(box).xyxy == (0, 0, 1, 1)


def test_an_over_long_image_name_is_reported_for_that_image_only(project, folder):
    data = _coco()
    data["images"].append({"id": 2, "file_name": "x" * 300 + ".png", "width": 20, "height": 10})
    path = folder / "instances.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    report = import_dataset(project, "coco", path)
    assert report.images_new == 1 and report.boxes == 1
    assert [(where, reason) for _file, where, reason in report.missing] == [
        ("instances.json $.images[1]", "unusable file name (File name too long)")
    ]


def test_yolo_split_folder_with_a_name_the_system_refuses(project, folder):
    (folder / "data.yaml").write_text(f"train: {'x' * 300}/images\nnames: [cat]\n", encoding="utf-8")
    _refused(project, "yolo", folder / "data.yaml", "data.yaml: train: cannot read 'xxx", "File name too long")


@pytest.mark.parametrize(("fmt", "files", "target"), [
    ("yolo", {"data.yaml": f"path: {'9' * 400}\ntrain: images/train\nnames: [cat]\n"}, "data.yaml"),
    ("llamafactory", {"dataset_info.json": json.dumps({"d": {
        "file_name": "9" * 400 + "data.json", "formatting": "sharegpt",
        "columns": {"messages": "messages", "images": "images"}}})}, "dataset_info.json"),
])
def test_a_file_name_the_system_refuses_anywhere_in_a_dataset(project, folder, fmt, files, target):
    """Found by the fuzz suite after the readers learned to look for `path:` folders and data files."""
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    _refused(project, fmt, folder / target, target, "cannot open (File name too long")
