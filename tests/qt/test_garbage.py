"""Cycles are collected on the GUI thread only: a worker destroying a widget deadlocked with the GUI thread."""

from __future__ import annotations

import gc
import threading

from studio.jobs import gc_paused
from studio.ui import garbage


class Cycle:
    """Refers to itself; records on which thread it was freed."""

    def __init__(self, freed_on: list[bool]) -> None:
        self.me, self.freed_on = self, freed_on

    def __del__(self) -> None:
        self.freed_on.append(threading.current_thread() is threading.main_thread())


def make_garbage(freed_on: list[bool]) -> None:
    """Cycles enough to pass the youngest generation's threshold (an automatic collection would run now)."""
    for _ in range(gc.get_threshold()[0] * 2):
        Cycle(freed_on)


def test_a_workers_allocations_collect_nothing_and_the_gui_collects_the_cycle(qtbot, qapp):
    garbage.install(qapp)
    assert not gc.isenabled()
    freed_on: list[bool] = []
    worker = threading.Thread(target=make_garbage, args=(freed_on,))
    worker.start()
    worker.join()
    assert freed_on == []
    qtbot.waitUntil(lambda: len(freed_on) == gc.get_threshold()[0] * 2, timeout=5000)
    assert all(freed_on)  # each on the GUI thread


def test_the_gui_collector_waits_while_a_worker_pauses_collection(qtbot, qapp):
    garbage.install(qapp)
    freed_on: list[bool] = []
    with gc_paused():
        make_garbage(freed_on)
        qtbot.wait(garbage.INTERVAL_MS * 3)
        assert freed_on == []
    assert not gc.isenabled()  # a pause does not turn automatic collection back on in the GUI
    qtbot.waitUntil(lambda: len(freed_on) == gc.get_threshold()[0] * 2, timeout=5000)


def test_a_built_window_is_out_of_reach_of_later_collections(window):
    kept = window._hidden_by_mode  # a container made while the window was built
    assert gc.is_tracked(kept) and gc.get_freeze_count() > 0
    assert not any(obj is kept for obj in gc.get_objects())  # frozen: no generation holds it
