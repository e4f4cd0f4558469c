"""The shown picture is decoded in a worker: a placeholder first, a screen-sized preview from the cache or the worker,
stale results dropped, the full picture on zoom-in, unreadable files reported."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import QPointF, QRectF, QThread

import studio.ui.picture_loader as picture_loader
from studio.dataset.store import NewImage
from studio.ui.picture_loader import FULL_RESOLUTION, Decoded, PictureKey, PictureLoader, decode_picture
from tests.qt.annotate.conftest import add_image, show

MARK = (2400, 1500, 2600, 1700)  # a red square on the large image, in original pixels


@pytest.fixture
def large(project, tmp_path):
    """A 3200 x 2000 JPEG (larger than any preview) with a red square at `MARK`."""
    picture = Image.new("RGB", (3200, 2000), (40, 90, 160))
    ImageDraw.Draw(picture).rectangle(MARK, fill=(230, 20, 20))
    return add_image(project, tmp_path / "large.jpg", picture)


def _rgb(image, x: int, y: int) -> tuple[int, int, int]:
    color = image.pixelColor(x, y)
    return color.red(), color.green(), color.blue()


def test_show_image_shows_annotations_at_once_and_the_picture_when_decoded(
    qtbot, monkeypatch, workspace, project, images
):
    image_id = images["second"]
    project.add_box(image_id, None, 10, 10, 50, 40)
    project.set_caption(image_id, "a dog")
    threads = []

    def decode(path, max_side, original=picture_loader.decode_picture):
        threads.append(QThread.currentThread())
        return original(path, max_side)

    monkeypatch.setattr(picture_loader, "decode_picture", decode)
    workspace.show_image(image_id)
    canvas = workspace.canvas
    assert not canvas.boxes.picture_size.isValid()  # a placeholder of the stored size, no decode yet
    assert canvas.image_rect == QRectF(0, 0, 240, 160)
    assert len(canvas.box_ids()) == 1 and workspace.caption_panel.edit.toPlainText() == "a dog"
    with qtbot.waitSignal(workspace.pictures.loaded):
        pass
    assert canvas.boxes.picture_size.toTuple() == (240, 160)
    assert threads and all(thread is not QThread.currentThread() for thread in threads)


def test_a_decode_finished_after_the_image_changed_is_dropped(qtbot, workspace, project, images):
    stale_path = project.image(images["second"]).path
    workspace.show_image(images["second"])
    workspace.show_image(images["rotated"])  # before the first decode has been delivered
    qtbot.waitUntil(lambda: workspace.canvas.boxes.picture_size.isValid())
    assert workspace.canvas.boxes.picture_size.toTuple() == (40, 60)
    workspace.pictures.wait()
    qtbot.wait(20)  # whatever was still queued for the first image has arrived by now
    assert workspace.canvas.boxes.picture_size.width() == 40
    big = decode_picture(stale_path)  # 240 wide: sharper than the shown picture, yet of another image
    workspace.pictures.loaded.emit(Decoded(PictureKey(stale_path, 2048), big.image))
    assert workspace.canvas.boxes.picture_size.width() == 40


def test_the_preview_is_stretched_over_the_original_size(qtbot, workspace, project, large):
    show(qtbot, workspace, large)
    scene = workspace.canvas.boxes
    side = workspace._preview_key(project.image(large).path).max_side
    assert max(scene.picture_size.width(), scene.picture_size.height()) == side < 3200
    assert scene.image_rect == QRectF(0, 0, 3200, 2000)
    assert scene.pixmap.sceneBoundingRect() == scene.image_rect
    # Original pixel (2500, 1600), the middle of the red square, is red in the preview at that scene point.
    centre = scene.pixmap.mapFromScene(QPointF(2500, 1600))
    assert _rgb(scene.pixmap.pixmap().toImage(), int(centre.x()), int(centre.y())) == pytest.approx(
        (230, 20, 20), abs=40
    )
    box = project.add_box(large, None, *MARK)
    workspace.refresh()
    assert workspace.canvas.box_item(box).sceneBoundingRect().center() == QPointF(2500, 1600)


def test_zooming_past_the_preview_brings_the_full_picture(qtbot, workspace, large):
    show(qtbot, workspace, large)
    canvas = workspace.canvas
    canvas.set_zoom(0.2)
    assert canvas.boxes.picture_size.width() < 3200  # the preview still has enough pixels here
    with qtbot.waitSignal(workspace.pictures.loaded):
        canvas.actual_size()
    assert canvas.boxes.picture_size.toTuple() == (3200, 2000)
    assert canvas.boxes.pixmap.sceneBoundingRect() == QRectF(0, 0, 3200, 2000)
    assert canvas.scale_factor() == pytest.approx(1.0)


def test_a_cached_picture_is_shown_synchronously(qtbot, workspace, images):
    show(qtbot, workspace, images["second"])
    workspace.show_image(images["scene"])  # shown by the fixture: in the cache
    assert workspace.canvas.boxes.picture_size.toTuple() == (320, 200)


def test_prefetched_neighbours_are_shown_synchronously(qtbot, workspace, project, images):
    workspace.prefetch([images["rotated"], images["second"], 999])  # an unknown id is skipped
    keys = [workspace._preview_key(project.image(images[name]).path) for name in ("rotated", "second")]
    qtbot.waitUntil(lambda: all(workspace.pictures.cached(key) is not None for key in keys))
    workspace.show_image(images["rotated"])
    assert workspace.canvas.boxes.picture_size.toTuple() == (40, 60)


def test_an_unreadable_file_is_reported_with_the_boxes_on_a_blank(qtbot, workspace, project, tmp_path):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"not a jpeg at all")
    (image_id,) = project.add_images([NewImage(str(path), 300, 200)])
    box = project.add_box(image_id, None, 20, 20, 120, 90)
    with qtbot.waitSignal(workspace.status_message) as message:
        workspace.show_image(image_id)
    assert message.args[0].startswith("broken.jpg could not be read (")
    assert message.args[0].endswith("); boxes shown on a blank")
    assert workspace.canvas.box_ids() == [box]
    assert workspace.canvas.image_rect == QRectF(0, 0, 300, 200)
    assert workspace.canvas.boxes.pixmap.sceneBoundingRect() == QRectF(0, 0, 300, 200)


def test_decode_shrinks_an_exif_rotated_jpeg_upright(qapp, project, images):
    path = project.image(images["rotated"]).path  # raw 60 x 40, orientation 6: shown 40 x 60, red mark top-right
    result = decode_picture(path, 30)
    assert (result.image.width(), result.image.height()) == (20, 30) and result.error == ""
    assert _rgb(result.image, 18, 1) == pytest.approx((250, 0, 0), abs=60)
    assert _rgb(result.image, 1, 28) == pytest.approx((20, 20, 200), abs=60)
    full = decode_picture(path, FULL_RESOLUTION)
    assert (full.image.width(), full.image.height()) == (40, 60)


def test_decode_shrinks_a_png_and_never_enlarges(qapp, project, images):
    path = project.image(images["scene"]).path  # 320 x 200 PNG: its codec cannot scale
    assert decode_picture(path, 160).image.size().toTuple() == (160, 100)
    assert decode_picture(path, 4096).image.size().toTuple() == (320, 200)
    missing = decode_picture("/nonexistent/picture.png", 160)
    assert missing.image.isNull() and missing.error


def test_the_cache_drops_the_least_recently_used_beyond_its_budget(qtbot, project, images):
    paths = [project.image(images[name]).path for name in ("scene", "second", "rotated")]
    scene_bytes = 320 * 200 * 4
    loader = PictureLoader(cache_bytes=scene_bytes + 240 * 160 * 4)  # room for the first two only
    keys = [PictureKey(path) for path in paths]
    for key in keys[:2]:
        with qtbot.waitSignal(loader.loaded):
            loader.request(key)
    assert loader.cached(keys[0]) is not None  # now the most recently used
    with qtbot.waitSignal(loader.loaded):
        loader.request(keys[2])
    assert loader.cached(keys[1]) is None
    assert loader.cached(keys[0]) is not None and loader.cached(keys[2]) is not None
