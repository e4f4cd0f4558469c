"""The job worker: results, errors, cancel, and a thread that ends when the job does."""

from __future__ import annotations

import time

from studio.workers.job import Job


def _count(n, *, progress, cancel):
    for i in range(n):
        cancel.raise_if_cancelled()
        progress(i, n, f"step {i}")
        time.sleep(0.01)
    return n * 2


def test_result_and_progress_arrive(qtbot):
    job = Job("counting", _count, 5)
    seen = []
    job.progress.connect(lambda done, total, message: seen.append((done, total)))
    with qtbot.waitSignal(job.finished, timeout=5000) as result:
        job.start()
    assert result.args == [10]
    assert job.wait(2000)
    qtbot.waitUntil(lambda: len(seen) == 5)


def test_wait_on_the_gui_thread_returns_promptly(qtbot):
    job = Job("quick", _count, 1)
    job.start()
    started = time.monotonic()
    assert job.wait(5000)
    assert time.monotonic() - started < 2


def test_failure_becomes_a_sentence(qtbot):
    def broken(*, progress, cancel):
        raise ValueError("image_014.jpg is truncated")

    job = Job("Importing", broken)
    with qtbot.waitSignal(job.failed, timeout=5000) as failure:
        job.start()
    assert failure.args == ["Importing failed: image_014.jpg is truncated"]


def test_cancel_ends_with_cancelled(qtbot):
    job = Job("long", _count, 10_000)
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        job.start()
        job.cancel()
