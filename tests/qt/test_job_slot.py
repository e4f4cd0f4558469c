"""JobSlot: one job at a time, stopped jobs' results dropped, and stop() never deadlocks on the thread's quit."""

from __future__ import annotations

import time

import pytest

from studio.workers.job import Job
from studio.workers.job_slot import JobSlot


def quick(value, *, progress, cancel):
    return value


def slow(*, progress, cancel):
    for _ in range(6000):  # a minute unless cancelled
        cancel.raise_if_cancelled()
        time.sleep(0.01)
    return "late"


def deaf(*, progress, cancel):
    time.sleep(0.3)  # finishes without looking at the cancel token
    return "late"


def test_result_then_idle(qtbot):
    slot = JobSlot()
    events = []
    slot.result.connect(lambda value: events.append(("result", value)))
    slot.idle.connect(lambda: events.append(("idle", slot.busy)))
    with qtbot.waitSignal(slot.idle):
        slot.start(Job("quick", quick, 42))
    assert events == [("result", 42), ("idle", False)]


def test_stop_returns_promptly(qtbot):
    slot = JobSlot()
    slot.start(Job("slow", slow))
    started = time.monotonic()
    slot.stop()
    assert time.monotonic() - started < 5 and not slot.busy  # the job alone would take a minute


def test_stop_drops_the_result_of_a_job_that_finishes_anyway(qtbot):
    slot = JobSlot()
    results, failures = [], []
    slot.result.connect(results.append)
    slot.failed.connect(failures.append)
    job = Job("deaf", deaf)
    finished = []
    job.finished.connect(finished.append)
    slot.start(job)
    slot.stop()
    qtbot.waitUntil(lambda: finished == ["late"], timeout=5000)  # the job's own result arrived...
    assert results == [] and failures == []  # ...and the slot did not pass it on


@pytest.mark.timeout(30, method="thread")  # a deadlock here fails instead of hanging the suite
def test_stop_after_the_job_finished_does_not_wait_on_the_queued_quit(qtbot):
    slot = JobSlot()
    job = Job("quick", quick, 1)
    slot.start(job)
    job.wait(0)  # give the worker a moment without processing GUI events
    time.sleep(0.2)  # the job is done; its thread's quit() waits in the GUI queue
    started = time.monotonic()
    slot.stop()
    assert time.monotonic() - started < 5
