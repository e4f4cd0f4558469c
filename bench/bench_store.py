"""Project store benchmarks: import rate (10,000 images), open-and-paint time for 1k vs 10k images, and the
latency of one committed edit (p50 / p99).

Targets: import >= 1,000 images/s on 2 cores; a 10,000-image project paints in < 1 s.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image

from studio.dataset.importer import import_images
from studio.dataset.store import Project


def make_files(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        sub = folder / f"{i // 1000:02d}"
        sub.mkdir(exist_ok=True)
        Image.new("RGB", (160 + i % 97, 120 + i % 61), (i % 255, 80, 160)).save(sub / f"img_{i:05d}.jpg", quality=70)


def bench_import(root: Path, count: int) -> Project:
    make_files(root / f"files{count}", count)
    project = Project.create(root / f"project{count}")
    report = import_images(project, [root / f"files{count}"])
    assert len(report.added) == count, report.skipped[:3]
    rate = count / report.seconds
    print(f"import {count:,} images: {report.seconds:.2f} s = {rate:,.0f} images/s (target >= 1,000/s)")
    return project


def bench_open(folder: Path) -> float:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from studio.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow(QSettings(str(folder.parent / "bench.ini"), QSettings.Format.IniFormat))
    window.resize(1200, 800)
    window.show()
    app.processEvents()
    started = time.perf_counter()
    window.open_project(folder)
    window.repaint()
    app.processEvents()
    elapsed = time.perf_counter() - started
    window.set_project(None)
    window.close()
    return elapsed


def bench_edits(project: Project, edits: int = 2000) -> None:
    image_id = project.images()[0].id
    label = project.ensure_label("bench")
    latencies = []
    for i in range(edits):
        started = time.perf_counter()
        if i % 2:
            project.add_box(image_id, label.id, i % 100, i % 80, i % 100 + 20, i % 80 + 10)
        else:
            project.set_caption(image_id, f"caption number {i}")
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    p50, p99 = statistics.median(latencies), latencies[int(len(latencies) * 0.99)]
    print(f"one committed edit ({edits:,} edits): p50 {p50:.2f} ms, p99 {p99:.2f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        small = bench_import(root, 1000)
        large = bench_import(root, 10000)
        small_folder, large_folder = small.folder, large.folder
        bench_edits(large)
        small.close()
        large.close()
        t_small = min(bench_open(small_folder) for _ in range(3))
        t_large = min(bench_open(large_folder) for _ in range(3))
        print(f"open and paint: 1,000 images {t_small * 1000:.0f} ms, 10,000 images {t_large * 1000:.0f} ms "
              f"(ratio {t_large / t_small:.1f}x; target < 1 s)")


if __name__ == "__main__":
    main()
