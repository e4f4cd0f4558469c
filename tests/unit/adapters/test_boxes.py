"""Box conversion both ways and the lenient parser."""

from __future__ import annotations

import pytest

from studio.adapters import get_adapter
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
