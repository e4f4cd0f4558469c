"""JobSlot: one job at a time, stopped jobs' results dropped, and stop() never deadlocks on the thread's quit."""

from __future__ import annotations

import time

from studio.workers.job import Job
from studio.workers.job_slot import JobSlot


def quick(value, *, progress, cancel):
    return value


def slow(*, progress, cancel):
    for _ in range(200):
        cancel.raise_if_cancelled()
        time.sleep(0.01)
    return "late"


def test_result_then_idle(qtbot):
    slot = JobSlot()
    events = []
    slot.result.connect(lambda value: events.append(("result", value)))
    slot.idle.connect(lambda: events.append(("idle", slot.busy)))
    with qtbot.waitSignal(slot.idle):
        slot.start(Job("quick", quick, 42))
    assert events == [("result", 42), ("idle", False)]


def test_stop_drops_the_result_and_returns_promptly(qtbot):
    slot = JobSlot()
    results = []
    slot.result.connect(results.append)
    slot.start(Job("slow", slow))
    started = time.monotonic()
    slot.stop()
    assert time.monotonic() - started < 5 and not slot.busy
    qtbot.wait(100)
    assert results == []


def test_stop_after_the_job_finished_does_not_wait_on_the_queued_quit(qtbot):
    slot = JobSlot()
    job = Job("quick", quick, 1)
    slot.start(job)
    job.wait(0)  # give the worker a moment without processing GUI events
    time.sleep(0.2)  # the job is done; its thread's quit() waits in the GUI queue
    started = time.monotonic()
    slot.stop()
    assert time.monotonic() - started < 5
