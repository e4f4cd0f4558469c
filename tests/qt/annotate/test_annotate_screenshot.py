"""Render the workspace on a synthetic image with boxes, linked phrases and VQA pairs to artifacts/*.png."""

from __future__ import annotations

from studio.ui import theme
from studio.ui.annotate.commands import BoxSpec
from tests.screenshots import save_shot


def test_workspace_screenshot(qtbot, qapp, workspace, project, images):
    theme.apply(qapp)  # the look of the main window
    image_id = images["scene"]
    project.add_box(image_id, project.ensure_label("dog").id, 38, 60, 167, 160)
    project.add_box(image_id, project.ensure_label("ball").id, 198, 110, 237, 146)
    project.add_box(image_id, project.ensure_label("grass").id, 0, 124, 320, 200)
    project.set_caption(image_id, "A brown dog plays with a red ball on the grass.")
    dog, ball, _grass = (b.id for b in project.boxes(image_id))
    caption = project.caption(image_id)
    for words, box in (("brown dog", dog), ("red ball", ball)):
        start = caption.index(words)
        project.add_phrase(image_id, start, start + len(words), [box])
    project.add_vqa(image_id, "What colour is the ball?", "Red")
    project.add_vqa(image_id, "How many dogs are there?", "One")
    project.add_vqa(images["second"], "Is it daytime?", "Yes")
    workspace.show_image(image_id)
    workspace.canvas.select_boxes([ball])
    workspace._add_specs([BoxSpec("dog", (240, 20, 300, 70))], "Add")  # an unlinked box, flagged
    qtbot.wait(50)
    path = save_shot(workspace.canvas.window(), "annotate-workspace.png")
    assert path.stat().st_size > 10_000
