"""GUI-thread cost of switching images in the Annotate workspace, for 640 x 480 and 4000 x 3000 JPEGs.

Each image has 5 boxes, a caption and 3 question/answer pairs. Two ways of browsing, each image a distinct file:

- step: show an image, stay on it for a moment (the neighbours are prefetched, as the main window does), go on;
- flip: hold the key down: the next image is shown as soon as the previous switch returned.

Prints, per size and way, the switch time (``show_image`` plus the events it queued, until the queue is drained)
p50 / p99, the longest GUI-thread slice while the picture arrives (the worker's result and the repaint), and how long
until the picture is on screen. Run from the repository root whose ``studio`` should be measured:

    PYTHONPATH=. QT_QPA_PLATFORM=offscreen python bench/bench_image_switch.py [--images 40]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PIL import Image
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication, QMainWindow

from studio.dataset.store import NewImage, Project
from studio.ui.annotate.workspace import AnnotationWorkspace

SIZES = ((640, 480), (4000, 3000))


def photo_like_jpeg(width: int, height: int) -> bytes:
    """A JPEG with a photo's entropy: smooth shapes from an upscaled random image plus fine grain."""
    rng = np.random.default_rng(width)
    coarse = Image.fromarray(rng.integers(0, 255, (height // 40, width // 40, 3), dtype=np.uint8))
    picture = np.asarray(coarse.resize((width, height), Image.Resampling.BICUBIC), dtype=np.int16)
    grain = rng.integers(-12, 12, (height, width, 3), dtype=np.int16)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(picture + grain, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def fill(project: Project, folder: Path, size: tuple[int, int], count: int) -> list[int]:
    data = photo_like_jpeg(*size)
    paths = []
    for i in range(count):
        path = folder / f"{size[0]}x{size[1]}_{i:03d}.jpg"
        path.write_bytes(data)
        paths.append(path)
    ids = project.add_images([NewImage(str(p), *size, file_size=len(data)) for p in paths])
    label = project.ensure_label("thing").id
    w, h = size
    for image_id in ids:
        for k in range(5):
            project.add_box(image_id, label, w * k / 6, h * k / 6, w * (k + 1) / 6, h * (k + 1) / 6)
        project.set_caption(image_id, "a thing next to another thing on a table")
        for q in range(3):
            project.add_vqa(image_id, f"Question {q}?", f"answer {q}")
    return ids


CPU: list[float] = []  # GUI-thread CPU seconds of every drain, in order


def drain(app: QApplication) -> float:
    """Process every queued event; wall seconds spent (the GUI thread's CPU seconds go to `CPU`)."""
    started, cpu = time.perf_counter(), time.thread_time()
    app.processEvents()
    CPU.append(time.thread_time() - cpu)
    return time.perf_counter() - started


def picture_shown(workspace: AnnotationWorkspace) -> bool:
    scene = workspace.canvas.boxes
    if hasattr(scene, "picture_size"):
        return scene.picture_size.isValid()
    return True  # a synchronous decode: shown when show_image returns


def wait_for_picture(app: QApplication, workspace: AnnotationWorkspace, timeout: float = 10.0) -> list[float]:
    """Run the event loop until the picture is shown; the duration of each GUI-thread slice meanwhile."""
    slices = []
    deadline = time.perf_counter() + timeout
    while not picture_shown(workspace) and time.perf_counter() < deadline:
        slices.append(drain(app))
        time.sleep(0.001)
    slices.append(drain(app))  # the repaint after the swap
    return slices


def browse(
    app: QApplication, workspace: AnnotationWorkspace, ids: list[int], flip: bool, dwell: float
) -> dict[str, list[float]]:
    switch, switch_cpu, stall, latency = [], [], [], []
    for index, image_id in enumerate(ids):
        started, cpu = time.perf_counter(), time.thread_time()
        workspace.show_image(image_id)
        if hasattr(workspace, "prefetch") and not flip:
            workspace.prefetch(ids[index + 1 : index + 2] + ids[max(0, index - 1) : index])
        switch.append(time.perf_counter() - started + drain(app))
        switch_cpu.append(time.thread_time() - cpu)
        if flip:
            continue
        slices = wait_for_picture(app, workspace)
        latency.append(time.perf_counter() - started)
        stall.append(max(slices))
        end = time.perf_counter() + dwell
        while time.perf_counter() < end:
            stall[-1] = max(stall[-1], drain(app))
            time.sleep(0.005)
    if flip:
        started = time.perf_counter()
        stall = [max(wait_for_picture(app, workspace))]
        latency = [time.perf_counter() - started]
    return {"switch": switch, "switch_cpu": switch_cpu, "stall": stall, "latency": latency}


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=40, help="images of each size")
    parser.add_argument("--dwell", type=float, default=0.5, help="seconds on each image in the step way")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="bench-switch-"))
    try:
        with Project.create(folder / "project") as project:
            ids = {size: fill(project, folder, size, args.images) for size in SIZES}
            for size in SIZES:
                for flip in (False, True):
                    window = QMainWindow()
                    stack = QUndoStack(window)
                    workspace = AnnotationWorkspace(project, stack, window)
                    window.setCentralWidget(workspace.canvas)
                    window.resize(1100, 700)
                    window.show()
                    drain(app)
                    CPU.clear()
                    result = browse(app, workspace, ids[size], flip, args.dwell)
                    how = "flip (key held)" if flip else f"step (dwell {args.dwell * 1000:.0f} ms)"
                    switch, cpu = result["switch"], result["switch_cpu"]
                    print(
                        f"{size[0]}x{size[1]} {how:<18} switch p50 / p99 {p(switch, 0.5):5.1f} / {p(switch, 0.99):5.1f}"
                        f" ms (GUI CPU {p(cpu, 0.5):5.1f} / {p(cpu, 0.99):5.1f} ms) | longest slice while the "
                        f"picture arrives {p(result['stall'], 1):5.1f} ms (longest drain CPU {p(CPU, 1):5.1f} ms) | "
                        f"picture on screen after p50 {p(result['latency'], 0.5):6.1f} ms"
                        + (" (the last image)" if flip else ""),
                        flush=True,
                    )
                    workspace.store_signals.detach()
                    if hasattr(workspace, "pictures"):
                        workspace.pictures.wait()
                    window.close()
                    window.deleteLater()
                    drain(app)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
