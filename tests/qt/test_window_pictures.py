"""The window decodes pictures ahead and off the GUI thread: the neighbours in the image list are prefetched, and
the Playground decodes the image it follows only once it is shown."""

from __future__ import annotations

from studio.dataset.sample import create_sample_project


def test_the_next_and_previous_pictures_are_decoded_ahead(window, tmp_path, qtbot):
    create_sample_project(tmp_path / "s", count=5).close()
    window.open_project(tmp_path / "s")
    window.images.step(1)  # the second image: the first and the third are decoded in the background
    workspace = window.annotate.workspace
    ids = [window.images.model.image_at(row).id for row in (0, 2)]
    keys = [workspace._preview_key(window.project.image(image_id).path) for image_id in ids]
    qtbot.waitUntil(lambda: all(workspace.pictures.cached(key) is not None for key in keys))
    window.images.step(1)
    assert workspace.image_id == ids[1]
    assert workspace.canvas.boxes.picture_size.isValid()  # shown at once, from the cache


def test_the_playground_decodes_the_followed_image_only_when_shown(window, tmp_path, qtbot):
    create_sample_project(tmp_path / "s", count=5).close()
    window.open_project(tmp_path / "s")
    window.set_mode("playground")
    playground = window.playground_page
    shown = playground.view.image.cacheKey()
    window.set_mode("annotate")
    window.images.step(1)
    assert playground.view.image.cacheKey() == shown  # not decoded while another mode is shown
    window.set_mode("playground")
    assert playground.view.image.cacheKey() != shown and not playground.view.image.isNull()
    assert playground.image_path == window.project.image(window.images.current_image_id()).path
