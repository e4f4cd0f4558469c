"""The cost of durability: latency of one committed box edit with SQLite ``synchronous=FULL`` (each commit
fsyncs the WAL: a power cut or OS crash loses nothing committed) against ``NORMAL`` (fsync at checkpoints only: a
killed process loses nothing, a power cut may lose the last commits). The two modes alternate in rounds on the
same project so that disk noise falls on both; prints p50 / p99 per mode and their ratio.

    python bench/bench_durability.py [--edits 2000] [--folder DIR]   (DIR on the disk to measure; default: temp)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.dataset.store import NewImage, Project

MODES = ("NORMAL", "FULL")


def edit_latencies(project: Project, edits: int, rounds: int = 10) -> dict[str, list[float]]:
    """Milliseconds per committed box move, per mode, ``edits`` each, in alternating rounds."""
    project.add_images([NewImage(path=f"/bench/img_{i:05d}.jpg", width=640, height=480) for i in range(1000)])
    image_id = project.images()[0].id
    label = project.ensure_label("bench")
    box_id = project.add_box(image_id, label.id, 10, 10, 50, 50)
    latencies: dict[str, list[float]] = {mode: [] for mode in MODES}
    for round_ in range(rounds):
        for mode in MODES if round_ % 2 == 0 else MODES[::-1]:
            project.conn.execute(f"PRAGMA synchronous = {mode}")
            for i in range(edits // rounds):
                started = time.perf_counter()
                project.update_box(box_id, x1=10 + i % 50, x2=60 + i % 50)
                latencies[mode].append((time.perf_counter() - started) * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=2000, help="committed edits per mode")
    parser.add_argument("--folder", type=Path, help="where the project is created (the disk to measure)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.folder) as tmp, Project.create(Path(tmp) / "project") as project:
        latencies = edit_latencies(project, args.edits)
    stats = {}
    for mode, values in latencies.items():
        values.sort()
        stats[mode] = (statistics.median(values), values[int(len(values) * 0.99)])
        print(f"synchronous={mode:6} {len(values):,} box edits: p50 {stats[mode][0]:.2f} ms, "
              f"p99 {stats[mode][1]:.2f} ms")
    print(f"FULL / NORMAL: p50 x{stats['FULL'][0] / stats['NORMAL'][0]:.2f}, "
          f"p99 x{stats['FULL'][1] / stats['NORMAL'][1]:.2f}")


if __name__ == "__main__":
    main()
