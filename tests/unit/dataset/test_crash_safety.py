"""A hard kill in the middle of a stream of edits loses nothing that had returned, and leaves a sound database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from studio.dataset.store import NewImage, Project

EDITOR = r"""
import sys
from studio.dataset.store import Project
project = Project.open(sys.argv[1])
image_id = project.images()[0].id
label = project.ensure_label("thing")
n = 0
while True:
    kind = n % 4
    if kind == 0:
        ref = project.add_box(image_id, label.id, n, n, n + 5, n + 7)
    elif kind == 1:
        ref = project.add_vqa(image_id, f"question {n}?", f"answer {n}")
    elif kind == 2:
        project.set_caption(image_id, f"caption {n}")
        ref = n
    else:
        project.update_box(ref_box, x2=n + 100.0)
        ref = ref_box
    if kind == 0:
        ref_box = ref
    print(kind, ref, n, flush=True)
    n += 1
"""


def test_sigkill_mid_edit_stream_keeps_every_returned_edit(tmp_path):
    with Project.create(tmp_path / "p") as project:
        project.add_images([NewImage("/data/a.png", 640, 480)])
    child = subprocess.Popen([sys.executable, "-c", EDITOR, str(tmp_path / "p")], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=os.getcwd())
    acknowledged = []
    deadline = time.monotonic() + 60
    while len(acknowledged) < 400 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        acknowledged.append(tuple(int(x) for x in line.split()))
    child.send_signal(signal.SIGKILL)  # in the middle of the next edit
    child.wait()
    assert len(acknowledged) >= 400, child.stderr.read()

    with Project.open(tmp_path / "p") as project:
        assert project.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        image_id = project.images()[0].id
        boxes = {box.id: box for box in project.boxes(image_id)}
        questions = {pair.id: pair for pair in project.vqa(image_id)}
        for kind, ref, n in acknowledged:
            if kind == 0:
                assert boxes[ref].x1 == n
            elif kind == 1:
                assert questions[ref].question == f"question {n}?"
            elif kind == 3:
                assert boxes[ref].x2 >= n + 100.0
        last_caption = max(n for kind, _, n in acknowledged if kind == 2)
        caption_number = int(project.caption(image_id).split()[1])
        assert caption_number >= last_caption
