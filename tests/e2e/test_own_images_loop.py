"""The whole loop on a folder of one's own images, in the main window, without the command line: import 20 images,
annotate 10 (a box drawn with the mouse and labelled in the picker, a caption whose phrase links to it, a question
and its answer), split from Project > Split project…, Check data, Train, ask the Playground, Evaluate.

Each step saves a screenshot into artifacts/ (own-images-*.png). Run it in a real window with
``QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" python -m pytest tests/e2e/test_own_images_loop.py``."""

from __future__ import annotations

import random

import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import QSettings, Qt

from studio.dataset.store import Project
from studio.training.runs import list_runs
from studio.ui import theme
from studio.ui.main_window import MainWindow
from studio.ui.split_dialog import SplitDialog
from tests.qt.annotate.conftest import drag, view_point
from tests.screenshots import save_shot

pytestmark = pytest.mark.slow

COLOURS = {"red": (210, 45, 40), "blue": (40, 80, 200)}


def own_photos(folder, count: int = 20) -> dict[str, tuple[str, tuple[int, int, int, int]]]:
    """``count`` camera-like JPEGs of a table with one cup; each file's cup colour and box."""
    rng = random.Random(7)
    folder.mkdir()
    truth = {}
    for n in range(count):
        width, height = rng.choice([(640, 480), (480, 640), (800, 600)])
        image = Image.new("RGB", (width, height), (rng.randint(180, 230), rng.randint(170, 210), 150))
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, height * 2 // 3, width, height), fill=(120, 85, 50))  # the table
        colour = "red" if n % 2 == 0 else "blue"
        w, h = rng.randint(90, 160), rng.randint(90, 160)
        x, y = rng.randint(20, width - w - 20), rng.randint(height // 3, height - h - 20)
        draw.rounded_rectangle((x, y, x + w, y + h), 14, fill=COLOURS[colour])
        name = f"IMG_{1000 + n}.jpg"
        image.save(folder / name, quality=90)
        truth[name] = (colour, (x, y, x + w, y + h))
    return truth


@pytest.fixture
def window(qtbot, qapp, tmp_path):
    theme.apply(qapp)
    main = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(main)
    main.resize(1400, 860)
    main.show()
    main.activateWindow()  # shortcuts (W) go to the active window; a bare X server activates only on request
    qtbot.waitUntil(main.isActiveWindow, timeout=10000)
    qtbot.waitUntil(lambda: main.playground_page is not None, timeout=30000)
    yield main
    main.set_project(None)


def annotate(qtbot, window, image_id: int, colour: str, box: tuple[int, int, int, int]) -> None:
    """Draw the cup's box (W, drag, type its label in the picker), caption it, link the phrase, add a question."""
    window.images.select_image(image_id)
    workspace = window.annotate.workspace
    canvas = workspace.canvas
    qtbot.waitUntil(lambda: workspace.image_id == image_id, timeout=10000)
    canvas.fit()
    canvas.setFocus()
    if not canvas.create_mode:  # W toggles box mode, which stays on from one image to the next
        qtbot.keyClick(canvas, Qt.Key.Key_W)
    assert canvas.create_mode
    drag(qtbot, canvas, view_point(canvas, box[0], box[1]), view_point(canvas, box[2], box[3]))
    qtbot.waitUntil(workspace.picker.isVisible, timeout=5000)
    qtbot.keyClicks(workspace.picker.edit, f"{colour} cup")
    qtbot.keyClick(workspace.picker.edit, Qt.Key.Key_Return)
    (drawn,) = window.project.boxes(image_id)
    caption = f"a {colour} cup on the table"
    workspace.set_caption(caption)
    workspace.link_span(0, len(f"a {colour} cup"), [drawn.id])
    workspace.add_vqa("What colour is the cup?", colour)


def test_own_images_from_import_to_evaluation(qtbot, window, tmp_path):
    truth = own_photos(tmp_path / "my photos")
    window.set_project(Project.create(tmp_path / "cups"))
    save_shot(window, "own-images-1-empty.png")

    # Import the folder (File > Import image folder… calls this with the chosen folder).
    window.import_paths([str(tmp_path / "my photos")])
    qtbot.waitUntil(lambda: window.images.model.total() == 20, timeout=60000)
    assert "20" in window.statusBar().currentMessage()
    images = {image.name: image.id for image in window.project.images()}

    # Annotate ten of them.
    for name in sorted(images)[:10]:
        annotate(qtbot, window, images[name], *truth[name])
    save_shot(window, "own-images-2-annotated.png")
    annotated = [images[name] for name in sorted(images)[:10]]
    for image_id, name in zip(annotated, sorted(images)[:10], strict=True):
        (stored,) = window.project.boxes(image_id)
        assert stored.xyxy == pytest.approx(truth[name][1], abs=4)  # drawn at the window's zoom
    assert all(image.split == "" for image in window.project.images())  # imported images have no split

    # Project > Split project…: 60 % train, 40 % val, seeded.
    window.split_action.trigger()
    dialog = window.findChild(SplitDialog)
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    dialog.percent["train"].setValue(60)
    dialog.percent["val"].setValue(40)
    dialog.percent["test"].setValue(0)
    dialog.split_button.click()
    qtbot.waitUntil(lambda: "Splitting" not in dialog.report.toPlainText()
                    and dialog.report.toPlainText().strip() != "", timeout=30000)
    save_shot(dialog, "own-images-3-split.png")
    dialog.close()
    splits = {image.id: image.split for image in window.project.images()}
    assert {splits[i] for i in annotated} == {"train", "val"}

    # Train: Check data, then Start with short settings; the status bar carries the run on another page.
    window.set_mode("train")
    page = window.mode_pages["train"]
    page.form.editors["epochs"][1].setValue(4)
    page.form.editors["batch_size"][1].setValue(4)
    page.data_button.click()
    qtbot.waitUntil(lambda: "validation samples" in page.data_label.text() and page.data_job is None, timeout=120000)
    assert "no split" not in page.data_label.text()
    save_shot(window, "own-images-4-check-data.png")
    qtbot.waitUntil(page.start_button.isEnabled, timeout=10000)
    page.start_button.click()
    window.set_mode("annotate")
    qtbot.waitUntil(lambda: "Training" in window.jobs_bar.label.text(), timeout=120000)
    save_shot(window, "own-images-5-training-elsewhere.png")
    window.set_mode("train")
    qtbot.waitUntil(lambda: page.worker is None, timeout=600000)
    save_shot(window, "own-images-6-trained.png")
    assert window.width() == 1400
    run = list_runs(window.project)[0]  # the newest
    assert run.status == "finished"

    # Playground: the trained run answers about a validation image, its boxes drawn over it.
    val_image = next(i for i in annotated if splits[i] == "val")
    window.images.select_image(val_image)
    window.set_mode("playground")
    playground = window.playground_page
    assert playground.choose_run(run.id)
    playground.prompt.setText("Locate the cup.")
    playground.send()
    qtbot.waitUntil(lambda: playground.job is None and playground.prediction is not None, timeout=120000)
    assert playground.answer.toPlainText().strip()
    save_shot(window, "own-images-7-playground.png")
    assert window.width() == 1400

    # Evaluate the run's best checkpoint on the val split.
    window.set_mode("evaluate")
    evaluate = window.evaluate_page
    evaluate.run_box.setCurrentIndex(evaluate.run_box.findText(run.name))
    evaluate.evaluate()
    qtbot.waitUntil(lambda: evaluate.job is None and evaluate.table.rowCount() >= 1, timeout=300000)
    save_shot(window, "own-images-8-evaluate.png")
    assert window.width() == 1400  # no page widened the window
    texts = [evaluate.table.item(0, col).text() for col in range(evaluate.table.columnCount())
             if evaluate.table.item(0, col) is not None]
    assert any(run.name in text for text in texts)
