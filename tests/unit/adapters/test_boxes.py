"""Box conversion both ways and the lenient parser."""

from __future__ import annotations

import pytest

from studio.adapters import get_adapter, load_catalog
from studio.adapters.boxes import BoxMap, parse_qwen_json

REL = BoxMap(1000 / 640, 1000 / 480, 1000, 1000)


@pytest.mark.parametrize(("width", "height"), [(640, 480), (37, 1000), (999, 999), (1000, 3), (12, 12)])
def test_rel1000_round_trip(width, height):
    adapter = get_adapter("tiny")
    box_map = adapter.box_map(width, height)
    box = (0.1 * width, 0.2 * height, 0.7 * width, 0.95 * height)
    assert max(abs(a - b) for a, b in zip(box_map.to_pixels(box_map.to_model(box)), box, strict=True)) < 1e-9
    back = box_map.to_pixels(box_map.to_model_int(box))
    # integer 0-1000 coordinates: at most half a unit, i.e. <= 0.5 px whenever the image is <= 1000 px
    for got, want, size in zip(back, box, (width, height, width, height), strict=True):
        assert abs(got - want) <= 0.5 * size / 1000 + 1e-9
        if size <= 1000:
            assert abs(got - want) <= 0.5


def test_lenient_parser_recovers_what_it_can():
    text = (
        "```json\n[{'bbox_2d': [100, 200, 300, 400], 'label': 'red circle'},\n"
        ' {"bbox_2d": [500, 500, 400, 450], "label": "blue"}, {"label": "no box"},'
        ' {"bbox_2d": [10, 20, 1200, 40], "label": "wide"}, {"bbox_2d": [1, 2'
    )
    result = parse_qwen_json(text, REL)
    assert [b.label for b in result.boxes] == ["red circle", "blue", "wide"]
    assert result.boxes[0].box == pytest.approx((64, 96, 192, 192))
    assert result.boxes[1].box == pytest.approx((256, 216, 320, 240))  # corners swapped back
    assert result.boxes[2].box[2] == pytest.approx(640)  # clamped to the image
    joined = " | ".join(result.problems)
    assert "corners swapped" in joined and "no bbox_2d" in joined and "clamped" in joined
    assert len(result.problems) == 4  # swapped, no box, clamped, cut-off tail


def test_parser_accepts_empty_answers_and_reports_prose():
    assert parse_qwen_json("[]", REL).problems == []
    result = parse_qwen_json("I cannot see any circle.", REL)
    assert result.boxes == [] and result.problems == ["no box found in 'I cannot see any circle.'"]


@pytest.mark.parametrize("model_id", list(load_catalog()))
@pytest.mark.parametrize(("width", "height"), [(640, 480), (37, 1000), (3000, 200), (160, 160)])
def test_every_family_round_trips_boxes_through_its_text(model_id, width, height):
    adapter = get_adapter(model_id)
    boxes = [(0.1 * width, 0.2 * height, 0.7 * width, 0.95 * height), (0.0, 0.0, width, height)]
    box_map = adapter.box_map(width, height)
    for box in boxes:  # the conversion itself is exact both ways
        assert (
            max(abs(a - b) for a, b in zip(box_map.to_pixels(box_map.to_model(box)), box, strict=True)) < 1e-9
        )
    text = adapter.write_boxes([("red circle", boxes[:1]), ("the image", boxes[1:])], width, height)
    parsed = adapter.parse_boxes(text, width, height)
    assert parsed.problems == []
    assert [b.label for b in parsed.boxes] == ["red circle", "the image"]
    for got, want in zip(parsed.boxes, boxes, strict=True):
        # integers in the text: at most half a model unit (<= 0.5 px where model units <= 1 px)
        unit = (1 / box_map.scale_x, 1 / box_map.scale_y) * 2
        for g, w, u in zip(got.box, want, unit, strict=True):
            assert abs(g - w) <= 0.5 * u + 1e-9
            if u <= 1:
                assert abs(g - w) <= 0.5


def test_qwen25_boxes_are_pixels_of_the_resized_image():
    adapter = get_adapter("qwen2.5-vl-7b")
    settings = adapter.settings(max_pixels=512 * 28 * 28)
    rw, rh = adapter.resized_size(1280, 960, settings)
    assert (rw, rh) == (728, 532)
    text = adapter.write_boxes([("x", [(0, 0, 1280, 960)])], 1280, 960, settings)
    assert text == f'[{{"bbox_2d": [0, 0, {rw}, {rh}], "label": "x"}}]'


def test_internvl_text_and_lenient_parsing():
    adapter = get_adapter("internvl3.5-8b")
    text = adapter.write_boxes([("red circle", [(64, 96, 192, 192), (0, 0, 64, 48)])], 640, 480)
    assert text == "<ref>red circle</ref><box>[[100, 200, 300, 400], [0, 0, 100, 100]]</box>"
    messy = "Sure! <ref>blue square</ref> <box>[[500, 500, 400, 600]]</box> and <ref>cut</ref><box>[[1, 2"
    result = adapter.parse_boxes(messy, 640, 480)
    assert [b.label for b in result.boxes] == ["blue square"]
    assert result.boxes[0].box == pytest.approx((256, 240, 320, 288))
    assert (
        len(result.problems) == 2
        and "swapped" in result.problems[0]
        and "no coordinates" in result.problems[1]
    )


def test_deepseek_boxes_are_0_to_999_in_ref_det_tags():
    adapter = get_adapter("deepseek-ocr-2")
    text = adapter.write_boxes([("title", [(0, 0, 999, 499.5)])], 999, 999)
    assert text == "<|ref|>title<|/ref|><|det|>[[0, 0, 999, 500]]<|/det|>"
    parsed = adapter.parse_boxes("<|ref|>table<|/ref|><|det|>[[[0, 60, 500, 200]]]<|/det|>| a | b |", 1998, 999)
    assert parsed.problems == [] and parsed.boxes[0].label == "table"
    assert parsed.boxes[0].box == pytest.approx((0, 60, 1000, 200))
