"""The scale benchmark (bench/bench_scale.py) still drives the window: every measurement on a 200-image project."""

from __future__ import annotations

import math
import sqlite3

import pytest

from bench import bench_scale
from studio.dataset.store import DB_NAME, Project


@pytest.mark.timeout(120)
def test_bench_measures_every_operation_on_a_small_project(qapp, tmp_path):
    loop = bench_scale.EventLoop(qapp)
    plan = bench_scale.Plan(reps=2, op_seconds=30.0, import_count=20, warm_ups=0)
    result = bench_scale.run_size(loop, tmp_path, 200, plan, log=lambda _line: None)

    assert result.open_s > 0 and not math.isnan(result.open_settle_s)
    assert set(result.ops) == set(bench_scale.OPS)
    for name, op in result.ops.items():
        assert len(op.times) == 2 and all(t > 0 for t in op.times), name
        assert op.unsettled == 0, name
    assert result.recount is not None and result.recount.finished
    assert result.imported is not None and result.imported.finished
    lines = "\n".join(bench_scale.report([result, result]))
    assert "targets at 200 images" in lines and "ratio 200 / 200" in lines


def test_built_project_holds_the_annotation_of_every_image(tmp_path):
    folder = bench_scale.build_project(tmp_path, 30)
    with sqlite3.connect(folder / DB_NAME) as conn:
        counts = [
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("images", "boxes", "captions", "phrases", "phrase_boxes", "vqa")
        ]
    assert counts == [30, 150, 30, 120, 120, 90]
    with Project.open(folder, read_only=True) as project:
        annotation = project.annotation(1)
        assert len(annotation.boxes) == 5 and len(annotation.vqa) == 3
        assert all(phrase.text in annotation.caption and phrase.box_ids for phrase in annotation.phrases)
        assert (project.image(1).width, project.image(1).height) == (1024, 768)
    assert bench_scale.build_project(tmp_path, 30) == folder  # cached: not built again
