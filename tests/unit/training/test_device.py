"""A run's peak GPU memory is the CUDA allocator's, counted from the run's own start, on the run's device."""

from __future__ import annotations

from studio.training.device import peak_memory, reset_peak_memory


def test_peak_memory_is_the_allocators_peak_on_the_runs_device(monkeypatch):
    import torch

    calls = []
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda index: calls.append(("reset", index)))
    monkeypatch.setattr(torch.cuda, "max_memory_reserved", lambda index: calls.append(("peak", index)) or 5 * 2**30)
    reset_peak_memory("cuda:1")
    assert peak_memory("cuda:1") == 5 * 2**30
    assert peak_memory("cuda") == 5 * 2**30
    assert calls == [("reset", 1), ("peak", 1), ("peak", 0)]
    assert peak_memory("cpu") is None and peak_memory("mps") is None
    reset_peak_memory("cpu")
    assert len(calls) == 3  # nothing to reset off CUDA
