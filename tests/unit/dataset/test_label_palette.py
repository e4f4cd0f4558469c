"""New labels get colours that are never pale: boxes stand out on images, phrase highlights on a white page."""

from __future__ import annotations

import colorsys

from studio.dataset.store import PALETTE, Project


def _hls(color: str) -> tuple[float, float, float]:
    return colorsys.rgb_to_hls(*(int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)))


def test_palette_colours_are_distinct_and_not_pale():
    assert len(set(PALETTE)) == len(PALETTE) == 16
    for color in PALETTE:
        _hue, lightness, saturation = _hls(color)
        assert lightness <= 0.62 and saturation >= 0.35, color


def test_new_labels_take_the_palette_in_order(tmp_path):
    project = Project.create(tmp_path / "p")
    colors = [project.ensure_label(f"label {i}").color for i in range(len(PALETTE) + 1)]
    assert colors == [*PALETTE, PALETTE[0]]
    project.close()
