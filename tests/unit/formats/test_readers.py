"""Each reader on fixtures written from its format's documentation, with the corner cases real exports have,
and bad input: an error naming the file and the place, and the store unchanged."""

from __future__ import annotations

import json

import pytest

from studio.dataset.formats.base import FormatError
from studio.dataset.formats.importing import apply_import, import_dataset, plan_import
from studio.jobs import Cancelled, CancelToken
from tests.unit.formats.formats_helpers import make_png, snapshot


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _refused(project, fmt, path, *places):
    before = project.counts()
    with pytest.raises(FormatError) as caught:
        import_dataset(project, fmt, path)
    message = str(caught.value)
    for place in places:
        assert place in message, message
    assert project.counts() == before
    return message


# ---------------------------------------------------------------- COCO
def _coco(tmp_path):
    make_png(tmp_path / "coco" / "val2017" / "000000000139.png", 64, 48)
    make_png(tmp_path / "coco" / "val2017" / "000000000285.png", 40, 40)
    return {
        "info": {"year": 2017, "version": "1.0", "description": "COCO 2017 Dataset"},
        "licenses": [{"id": 1, "name": "Attribution-NonCommercial-ShareAlike License", "url": "http://x"}],
        "images": [
            {
                "id": 139,
                "license": 2,
                "file_name": "000000000139.png",
                "coco_url": "http://x/139.jpg",
                "height": 48,
                "width": 64,
                "date_captured": "2013-11-21 01:34:01",
            },
            {"id": 285, "file_name": "000000000285.png", "height": 40, "width": 40},
            {"id": 632, "file_name": "000000000632.jpg", "height": 480, "width": 640},
        ],
        "annotations": [
            {
                "id": 1,
                "image_id": 139,
                "category_id": 64,
                "bbox": [23.5, 20.25, 10, 12.5],
                "area": 125.0,
                "iscrowd": 0,
                "segmentation": [[23.5, 20.25, 33.5, 20.25, 33.5, 32.75]],
            },
            {
                "id": 2,
                "image_id": 139,
                "category_id": 1,
                "bbox": [0, 0, 64, 48],
                "area": 3072,
                "iscrowd": 1,
                "segmentation": {"counts": [0, 3072], "size": [48, 64]},
            },
            {
                "id": 3,
                "image_id": 285,
                "category_id": 1,
                "segmentation": [[5, 5, 15, 5, 15, 25, 5, 25]],
                "area": 200,
                "iscrowd": 0,
            },
        ],
        "categories": [
            {"supercategory": "person", "id": 1, "name": "person"},
            {"supercategory": "furniture", "id": 64, "name": "potted plant"},
            {"supercategory": "animal", "id": 18, "name": "dog"},
        ],
    }


def test_coco_reads_the_documented_layout(project, tmp_path):
    _write(tmp_path / "coco" / "annotations" / "instances_val2017.json", _coco(tmp_path))
    _write(
        tmp_path / "coco" / "annotations" / "captions_val2017.json",
        {
            "images": [{"id": 139, "file_name": "000000000139.png", "height": 48, "width": 64}],
            "annotations": [
                {"id": 9, "image_id": 139, "caption": "A woman stands in the dining area."},
                {"id": 10, "image_id": 139, "caption": "A kitchen with a plant."},
            ],
        },
    )
    report = import_dataset(project, "coco", tmp_path / "coco" / "annotations" / "instances_val2017.json")
    assert report.images_new == 2 and report.boxes == 3 and report.captions == 1
    assert [m[0] for m in report.missing] == ["000000000632.jpg"]
    assert report.new_labels == ["person", "potted plant"] and report.unused_labels == ["dog"]
    notes = " ".join(report.notes)
    assert "crowd" in notes and "polygon" in notes and "further captions" in notes
    got = snapshot(project)
    assert got["000000000139.png"]["boxes"] == [
        ("person", (0, 0, 64, 48)),
        ("potted plant", (23.5, 20.25, 33.5, 32.75)),
    ]
    assert got["000000000139.png"]["caption"] == "A woman stands in the dining area."
    assert got["000000000285.png"]["boxes"] == [("person", (5, 5, 15, 25))]
    assert {image.split for image in project.images()} == {"val"}


@pytest.mark.parametrize(
    "change, places",
    [
        (lambda d: d["annotations"][1].update(image_id=999), ["$.annotations[1].image_id", "not in $.images"]),
        (lambda d: d["annotations"][0].update(bbox=[1, 2, 3]), ["$.annotations[0].bbox", "4 numbers"]),
        (lambda d: d["annotations"][0].update(bbox=[1, 2, -3, 4]), ["$.annotations[0].bbox", ">= 0"]),
        (lambda d: d["annotations"][0].update(category_id=7), ["$.annotations[0].category_id", "not in $.categories"]),
        (lambda d: d["images"][0].pop("file_name"), ["$.images[0].file_name", "missing"]),
        (lambda d: d["images"][1].update(id=139), ["$.images[1].id", "twice"]),
        (lambda d: d.update(annotations={"a": 1}), ["$.annotations", "expected a list"]),
    ],
)
def test_coco_bad_input(project, tmp_path, change, places):
    data = _coco(tmp_path)
    change(data)
    path = _write(tmp_path / "coco" / "annotations" / "instances_val2017.json", data)
    _refused(project, "coco", path, "instances_val2017.json", *places)


def test_invalid_json_names_line_and_column(project, tmp_path):
    path = _write(tmp_path / "bad.json", '{\n  "images": [\n    {"id": 1,,}\n  ]\n}')
    _refused(project, "coco", path, "bad.json", "line 3 column")


# ---------------------------------------------------------------- YOLO
def test_yolo_data_yaml_with_list_file_polygons_and_background_images(project, tmp_path):
    root = tmp_path / "yolo"
    make_png(root / "images" / "train" / "a.png", 100, 50)
    make_png(root / "images" / "train" / "empty.png", 10, 10)
    make_png(root / "images" / "val" / "b.png", 20, 40)
    _write(root / "labels" / "train" / "a.txt", "0 0.5 0.5 0.2 0.4\n\n1 0.1 0.1 0.3 0.1 0.3 0.3 0.1 0.3\n")
    _write(root / "labels" / "val" / "b.txt", "1 0.25 0.5 0.5 1.0\n")
    _write(root / "val.txt", "./images/val/b.png\nimages/val/missing.png\n")
    _write(
        root / "data.yaml",
        "path: .\ntrain: images/train\nval: val.txt\nnc: 2\nnames:\n  0: person\n  1: traffic light\n",
    )
    report = import_dataset(project, "yolo", root / "data.yaml")
    assert report.images_new == 3 and report.boxes == 3
    assert [m[0] for m in report.missing] == [str(root / "images/val/missing.png")]
    assert any("polygon" in note for note in report.notes)
    got = snapshot(project)
    assert got["a.png"]["boxes"] == [("person", (40, 15, 60, 35)), ("traffic light", (10, 5, 30, 15))]
    assert got["b.png"]["boxes"] == [("traffic light", (0, 0, 10, 40))]
    assert got["empty.png"]["boxes"] == []
    assert {i.name: i.split for i in project.images()} == {
        "a.png": "train",
        "empty.png": "train",
        "b.png": "val",
    }


def test_yolo_classes_txt_layout(project, tmp_path):
    root = tmp_path / "darknet"
    make_png(root / "img1.png", 10, 20)
    _write(root / "img1.txt", "0 0.5 0.5 1 1\n")
    _write(root / "classes.txt", "cat\ndog\n")
    report = import_dataset(project, "yolo", root)
    assert report.boxes == 1 and report.new_labels == ["cat"] and report.unused_labels == ["dog"]
    assert snapshot(project)["img1.png"]["boxes"] == [("cat", (0, 0, 10, 20))]


@pytest.mark.parametrize(
    "labels, yaml_text, places",
    [
        ("0 0.5 0.5 0.2 0.2\n5 0.5 0.5 0.1 0.1\n", None, ["a.txt", "line 2", "class 5"]),
        ("0 0.5 zero 0.2 0.2\n", None, ["a.txt", "line 1", "numbers"]),
        ("0 320 240 64 48\n", None, ["a.txt", "line 1", "normalised"]),
        ("0 0.5 0.5\n", None, ["a.txt", "line 1", "5 numbers"]),
        ("", "train: images/train\nnc: 3\nnames: [a, b]\n", ["data.yaml", "nc"]),
        ("", "train: images/train\nnames: [a, b\n", ["data.yaml", "line", "invalid YAML"]),
        ("", "train: nowhere\nnames: [a]\n", ["data.yaml", "train", "not a folder"]),
    ],
)
def test_yolo_bad_input(project, tmp_path, labels, yaml_text, places):
    root = tmp_path / "yolo"
    make_png(root / "images" / "train" / "a.png", 10, 10)
    _write(root / "labels" / "train" / "a.txt", labels)
    _write(root / "data.yaml", yaml_text or "train: images/train\nnames: [a, b]\n")
    _refused(project, "yolo", root / "data.yaml", *places)


# ---------------------------------------------------------------- Pascal VOC
VOC_XML = """<annotation>
\t<folder>VOC2007</folder>
\t<filename>000001.png</filename>
\t<source><database>The VOC2007 Database</database><annotation>PASCAL VOC2007</annotation></source>
\t<owner><flickrid>Fried Camels</flickrid></owner>
\t<size><width>60</width><height>40</height><depth>3</depth></size>
\t<segmented>0</segmented>
\t<object>
\t\t<name>dog</name><pose>Left</pose><truncated>1</truncated><difficult>0</difficult>
\t\t<bndbox><xmin>4</xmin><ymin>2.5</ymin><xmax>30</xmax><ymax>39</ymax></bndbox>
\t</object>
\t<object>
\t\t<name>person</name><pose>Left</pose><truncated>1</truncated><difficult>1</difficult>
\t\t<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>20</xmax><ymax>{ymax}</ymax></bndbox>
\t\t<part><name>head</name><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></part>
\t</object>
</annotation>
"""


def _voc(tmp_path, xml):
    root = tmp_path / "VOC2007"
    make_png(root / "JPEGImages" / "000001.png", 60, 40)
    _write(root / "Annotations" / "000001.xml", xml)
    _write(root / "ImageSets" / "Main" / "val.txt", "000001\n")
    return root


def test_voc_reads_a_voc2007_folder(project, tmp_path):
    root = _voc(tmp_path, VOC_XML.format(ymax="22"))
    report = import_dataset(project, "voc", root)
    assert report.images_new == 1 and report.boxes == 2
    assert snapshot(project)["000001.png"]["boxes"] == [("dog", (4, 2.5, 30, 39)), ("person", (1, 1, 20, 22))]
    assert project.images()[0].split == "val"


@pytest.mark.parametrize(
    "xml, places",
    [
        (VOC_XML.format(ymax="lots"), ["000001.xml", "/annotation/object[2]/bndbox/ymax", "a number"]),
        (VOC_XML.format(ymax="0.5"), ["000001.xml", "/annotation/object[2]/bndbox", "x1 <= x2"]),
        (VOC_XML.format(ymax="22").replace("<name>dog</name>", ""), ["/annotation/object[1]/name", "missing"]),
        (VOC_XML.format(ymax="22").replace("</size>", ""), ["000001.xml", "line", "invalid XML"]),
        (
            "<annotation><filename>x.png</filename><object><name>a</name></object></annotation>",
            ["/annotation/object[1]", "<bndbox>"],
        ),
        (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
            "<annotation><filename>&lol2;</filename></annotation>",
            ["000001.xml", "unsafe XML"],
        ),
    ],
)
def test_voc_bad_input(project, tmp_path, xml, places):
    _refused(project, "voc", _voc(tmp_path, xml), *places)


# ---------------------------------------------------------------- labelme
def _labelme(shapes):
    return {
        "version": "5.4.1",
        "flags": {},
        "shapes": shapes,
        "imagePath": "../images/photo.png",
        "imageData": "iVBORw0KGgo=",
        "imageHeight": 30,
        "imageWidth": 50,
    }


def _shape(label, points, kind):
    return {
        "label": label,
        "points": points,
        "group_id": None,
        "description": "",
        "shape_type": kind,
        "flags": {},
        "mask": None,
    }


def test_labelme_rectangles_polygons_circles_and_points(project, tmp_path):
    make_png(tmp_path / "lm" / "images" / "photo.png", 50, 30)
    _write(
        tmp_path / "lm" / "json" / "photo.json",
        _labelme(
            [
                _shape("car", [[40.5, 20], [10, 5.25]], "rectangle"),
                _shape("road", [[0, 30], [25, 12], [50, 30]], "polygon"),
                _shape("wheel", [[10, 10], [13, 14]], "circle"),
                _shape("tip", [[1, 1]], "point"),
            ]
        ),
    )
    report = import_dataset(project, "labelme", tmp_path / "lm")  # the folder holding the JSON and ../images
    assert report.boxes == 3
    notes = " ".join(report.notes)
    assert "1 polygons became their bounding boxes" in notes and "circles" in notes and "skipped" in notes
    assert snapshot(project)["photo.png"]["boxes"] == [
        ("car", (10, 5.25, 40.5, 20)),
        ("road", (0, 12, 50, 30)),
        ("wheel", (5, 5, 15, 15)),
    ]


@pytest.mark.parametrize(
    "shapes, places",
    [
        ([_shape("car", [[1, 2], [3, 4], [5, 6]], "rectangle")], ["photo.json", "$.shapes[0].points", "2 points"]),
        ([_shape("car", [[1, "a"], [3, 4]], "rectangle")], ["$.shapes[0].points[0]", "2 numbers"]),
        ([{"points": [[1, 2], [3, 4]], "shape_type": "rectangle"}], ["$.shapes[0].label", "missing"]),
    ],
)
def test_labelme_bad_input(project, tmp_path, shapes, places):
    make_png(tmp_path / "lm" / "images" / "photo.png", 50, 30)
    path = _write(tmp_path / "lm" / "json" / "photo.json", _labelme(shapes))
    _refused(project, "labelme", path, *places)


# ---------------------------------------------------------------- ODVG
def _odvg_lines():
    return [
        {
            "filename": "a.png",
            "height": 40,
            "width": 60,
            "detection": {
                "instances": [
                    {"bbox": [26, 21, 32.5, 33.75], "label": 0, "category": "dog"},
                    {"bbox": [16, 26, 25, 37], "label": 1},
                ]
            },
        },
        {
            "filename": "b.png",
            "height": 40,
            "width": 60,
            "grounding": {
                "caption": "a dog and a dog near a wire hanger",
                "regions": [
                    {"bbox": [2, 2, 9, 9], "phrase": "a dog"},
                    {"bbox": [10, 10, 20, 20], "phrase": "a dog"},
                    {"bbox": [[1, 1, 5, 5], [30, 1, 40, 5]], "phrase": "a wire hanger"},
                ],
            },
        },
    ]


def _odvg(tmp_path, lines):
    make_png(tmp_path / "odvg" / "images" / "a.png", 60, 40)
    make_png(tmp_path / "odvg" / "images" / "b.png", 60, 40)
    _write(tmp_path / "odvg" / "label_map.json", {"0": "dog", "1": "cat"})
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    return _write(tmp_path / "odvg" / "train.jsonl", text)


def test_odvg_detection_and_grounding(project, tmp_path):
    report = import_dataset(project, "odvg", _odvg(tmp_path, _odvg_lines()))
    assert report.boxes == 6 and report.phrases == 3 and report.captions == 1
    got = snapshot(project)
    assert got["a.png"]["boxes"] == [("cat", (16, 26, 25, 37)), ("dog", (26, 21, 32.5, 33.75))]
    assert got["b.png"]["phrases"] == [
        ("a dog", 0, 5, ((2, 2, 9, 9),)),
        ("a dog", 10, 15, ((10, 10, 20, 20),)),
        ("a wire hanger", 21, 34, ((1, 1, 5, 5), (30, 1, 40, 5))),
    ]


@pytest.mark.parametrize(
    "mutate, places",
    [
        (lambda lines: lines[1]["grounding"]["regions"][0].update(phrase="a cat"), ["line 2", "regions[0].phrase"]),
        (lambda lines: lines[0]["detection"]["instances"][0].update(bbox=[1, 2]), ["line 1", "instances[0].bbox"]),
        (
            lambda lines: lines[0]["detection"]["instances"][1].update(label=7),
            ["line 1", "instances[1].label", "class 7"],
        ),
        (lambda lines: lines.insert(1, '{"filename": "c.png",'), ["train.jsonl", "line 2", "invalid JSON"]),
        (lambda lines: lines.insert(0, "[1, 2]"), ["train.jsonl", "line 1", "expected an object"]),
    ],
)
def test_odvg_bad_input(project, tmp_path, mutate, places):
    lines = _odvg_lines()
    mutate(lines)
    _refused(project, "odvg", _odvg(tmp_path, lines), *places)


# ---------------------------------------------------------------- one transaction
def test_a_failure_or_cancel_while_writing_leaves_the_store_unchanged(project, tmp_path, monkeypatch):
    path = _odvg(tmp_path, _odvg_lines())
    plan = plan_import(project, "odvg", path)
    before = project.counts()
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        apply_import(project, plan, cancel=token)
    assert project.counts() == before

    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(project, "add_phrase", failing)
    with pytest.raises(RuntimeError):
        apply_import(project, plan_import(project, "odvg", path))
    assert calls and project.counts() == before


def test_dry_run_changes_nothing(project, tmp_path):
    path = _odvg(tmp_path, _odvg_lines())
    before = project.counts()
    report = import_dataset(project, "odvg", path, dry_run=True)
    assert report.dry_run and report.images_new == 2 and report.boxes == 6
    assert report.new_labels == ["dog", "cat"]
    assert project.counts() == before


def test_boxes_given_on_the_stored_frame_of_an_exif_rotated_image_are_turned_upright(project, tmp_path):
    make_png(tmp_path / "coco" / "images" / "phone.png", 40, 30, orientation=6)  # upright: 30 x 40
    path = _write(
        tmp_path / "coco" / "instances.json",
        {
            "images": [{"id": 1, "file_name": "phone.png", "width": 40, "height": 30}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 5]}],
            "categories": [{"id": 1, "name": "button"}],
        },
    )
    report = import_dataset(project, "coco", path)
    assert any("EXIF orientation" in note for note in report.notes)
    got = snapshot(project)["phone.png"]
    assert got["size"] == (30, 40)
    assert got["boxes"] == [("button", (25, 0, 30, 10))]
