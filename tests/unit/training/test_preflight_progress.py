"""The data check reports real progress (per sample, throttled) and stops when cancelled."""

from __future__ import annotations

import pytest

from studio.adapters import get_adapter
from studio.jobs import Cancelled, CancelToken, throttled
from studio.training.data import vision_settings
from studio.training.preflight import check_data, check_project_data
from studio.training.workflows import get_workflow


def test_the_check_counts_every_sample_of_both_splits(small_project):
    config = get_workflow(small_project, "quick").config
    adapter = get_adapter(config.model_id)
    processor = adapter.load_processor(vision_settings(adapter, config))
    reports: list[tuple[int, int, str]] = []
    data = check_data(small_project, adapter, processor, config, "cpu",
                      progress=lambda done, total, message="": reports.append((done, total, message)))
    total = len(data.train.samples) + len(data.val.samples)
    assert data.val.samples and [done for done, _, _ in reports] == list(range(1, total + 1))
    assert {t for _, t, _ in reports} == {total}
    assert reports[-1][2] == f"counting tokens: sample {total:,} of {total:,}"


def test_cancel_stops_the_check_at_the_next_sample(small_project):
    config = get_workflow(small_project, "quick").config
    token = CancelToken()
    seen: list[int] = []

    def progress(done: int, total: int, message: str = "") -> None:
        seen.append(done)
        if done == 5:
            token.cancel()

    adapter = get_adapter(config.model_id)
    processor = adapter.load_processor(vision_settings(adapter, config))
    with pytest.raises(Cancelled):
        check_data(small_project, adapter, processor, config, "cpu", progress=progress, cancel=token)
    assert seen[-1] == 5


def test_the_project_check_reports_increasing_progress_up_to_every_sample(small_project, monkeypatch):
    import studio.training.preflight as preflight

    monkeypatch.setattr(preflight, "throttled", lambda progress: throttled(progress, 0.0))
    config = get_workflow(small_project, "quick").config
    reports: list[tuple[int, int]] = []
    report = check_project_data(small_project.folder, config,
                                progress=lambda done, total, message="": reports.append((done, total)))
    samples = report.facts["train_samples"] + report.facts["val_samples"]
    assert reports[0] == (0, 0)  # loading the tokenizer: busy
    assert [done for done, _ in reports[1:]] == list(range(1, samples + 1))
    cancelled = CancelToken()
    cancelled.cancel()
    with pytest.raises(Cancelled):
        check_project_data(small_project.folder, config, cancel=cancelled)


def test_throttled_progress_passes_the_first_and_last_and_at_most_one_per_interval(monkeypatch):
    import time

    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    passed: list[int] = []
    report = throttled(lambda done, total, message="": passed.append(done), 0.18)
    for done in range(1, 11):
        report(done, 10)
        clock[0] += 0.05
    assert passed == [1, 5, 9, 10]
