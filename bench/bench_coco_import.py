"""Import of a 10,000-image COCO file: seconds for the dry run (read + measure every image file's header) and for
the one-transaction write, against the plain image-folder import of the same files measured in the same run; then
the same import as the GUI runs it, in a ``Job`` worker thread, counting the progress signals the GUI thread gets.

The images are tiny real PNG files of a few sizes, so the import measures files exactly as it does for real data.
Usage: python bench/bench_coco_import.py [IMAGES] [BOXES_PER_IMAGE]
"""

from __future__ import annotations

import io
import itertools
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from studio.dataset.formats.importing import apply_import, plan_import
from studio.dataset.importer import import_images
from studio.dataset.store import Project

SIZES = [(64, 48), (48, 64), (80, 60), (32, 32)]
CATEGORIES = 80


def make_dataset(root: Path, count: int, boxes: int) -> Path:
    """Write ``count`` PNG files and an instances JSON with ``boxes`` boxes on each image."""
    blobs = {}
    for size in SIZES:
        buffer = io.BytesIO()
        Image.new("RGB", size, (90, 140, 200)).save(buffer, format="PNG")
        blobs[size] = buffer.getvalue()
    rng = random.Random(0)
    images, annotations = [], []
    (root / "images").mkdir(parents=True)
    for index in range(count):
        width, height = SIZES[index % len(SIZES)]
        name = f"{index:06d}.png"
        (root / "images" / name).write_bytes(blobs[(width, height)])
        images.append({"id": index + 1, "file_name": name, "width": width, "height": height})
        for _ in range(boxes):
            x, y = rng.uniform(0, width / 2), rng.uniform(0, height / 2)
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": index + 1,
                    "category_id": rng.randint(1, CATEGORIES),
                    "bbox": [
                        round(x, 2),
                        round(y, 2),
                        round(rng.uniform(1, width / 2), 2),
                        round(rng.uniform(1, height / 2), 2),
                    ],
                    "iscrowd": 0,
                    "area": 1.0,
                }
            )
    categories = [{"id": i, "name": f"class {i}", "supercategory": ""} for i in range(1, CATEGORIES + 1)]
    path = root / "annotations" / "instances_train.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    return path


def main(count: int = 10_000, boxes: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        dataset = make_dataset(root / "coco", count, boxes)
        print(f"generated {count:,} images, {count * boxes:,} boxes in {time.perf_counter() - started:.1f} s")

        updates = []
        with Project.create(root / "baseline") as baseline:
            started = time.perf_counter()
            import_images(baseline, [root / "coco" / "images"])
            folder_s = time.perf_counter() - started

        with Project.create(root / "project") as project:
            started = time.perf_counter()
            plan = plan_import(project, "coco", dataset, progress=lambda d, t, m: updates.append(time.perf_counter()))
            plan_s = time.perf_counter() - started
            started = time.perf_counter()
            report = apply_import(project, plan, progress=lambda d, t, m: updates.append(time.perf_counter()))
            apply_s = time.perf_counter() - started
            counts = project.counts()
        with Project.create(root / "worker") as target:
            worker_s, signals, longest = run_in_worker(target.folder, dataset)
            assert target.counts()["boxes"] == count * boxes
    assert counts["images"] == count and counts["boxes"] == count * boxes, counts
    gaps = [b - a for a, b in itertools.pairwise(updates)]
    total = plan_s + apply_s
    print(f"image-folder import (baseline, headers only): {folder_s:.2f} s")
    print(f"COCO dry run (read + measure):                {plan_s:.2f} s")
    print(f"COCO write (one transaction):                 {apply_s:.2f} s")
    print(f"COCO import total:                            {total:.2f} s; ratio to baseline {total / folder_s:.2f}x")
    print(f"progress reports: {len(updates)}, longest gap {max(gaps, default=0):.2f} s")
    print(report.summary().splitlines()[0])
    print(
        f"in a Job worker (preview + import):           {worker_s:.2f} s; {signals} progress signals, "
        f"longest gap {longest:.2f} s"
    )


def run_in_worker(folder: Path, dataset: Path) -> tuple[float, int, float]:
    """Preview then import in ``Job`` threads, as the Import dataset dialog does; the GUI thread counts signals."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    from studio.dataset.formats.importing import apply_import_at, plan_import_at
    from studio.workers.job import Job

    app = QCoreApplication.instance() or QCoreApplication([])
    seen: list[float] = []
    started = time.perf_counter()

    def run(job: Job):
        results = []
        loop = QEventLoop()
        job.progress.connect(lambda *_: seen.append(time.perf_counter()))
        job.finished.connect(results.append)
        job.failed.connect(lambda message: sys.exit(message))
        job.done.connect(loop.quit)
        job.start()
        loop.exec()
        while not job.wait(10):  # the thread quits through an event this thread handles
            app.processEvents()
        return results[0]

    plan = run(Job("Previewing", plan_import_at, folder, "coco", dataset))
    run(Job("Importing", apply_import_at, folder, plan))
    elapsed = time.perf_counter() - started
    app.processEvents()
    gaps = [b - a for a, b in itertools.pairwise(seen)]
    return elapsed, len(seen), max(gaps, default=0.0)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
