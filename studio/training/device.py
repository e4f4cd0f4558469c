"""Devices, CPU threads and precision: what the training code asks of the machine."""

from __future__ import annotations

import os

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def cpu_cores() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_threads() -> int:
    """Cores - 1 (at least 1): one core stays free for the GUI and data preparation."""
    return max(1, cpu_cores() - 1)


def pick_device(name: str = "auto") -> str:
    """``auto`` -> ``cuda`` when a CUDA GPU is usable, else ``mps`` on Apple silicon, else ``cpu``; other names
    are checked and returned."""
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but no CUDA GPU is usable here (torch {torch.__version__})")
    if name not in ("cpu", "mps") and not name.startswith("cuda"):
        raise ValueError(f"unknown device {name!r}; expected auto, cpu, cuda, cuda:N or mps")
    return name


def resolve_precision(precision: str, device: str) -> str:
    """``auto`` -> bf16 on GPUs that support it, fp16 on other CUDA GPUs, fp32 on CPU and MPS."""
    import torch

    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}")
    is_cuda = device.startswith("cuda")
    if precision == "auto":
        if not is_cuda:
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if precision in ("bf16", "fp16") and not is_cuda:
        if precision == "bf16" and device == "cpu":
            return precision  # slow but supported
        raise ValueError(f"{precision} needs a CUDA GPU; this run is on {device}. Use fp32")
    if precision == "bf16" and is_cuda and not torch.cuda.is_bf16_supported():
        raise ValueError("this GPU does not support bf16; use fp16 or fp32")
    return precision


def reset_peak_memory(device: str) -> None:
    """Start counting a CUDA device's peak memory afresh (a run's own peak, not an earlier run's in this process)."""
    import torch

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(torch.device(device).index or 0)


def peak_memory(device: str) -> int | None:
    """The most bytes the CUDA caching allocator has held since `reset_peak_memory` (what runs out first); None
    elsewhere."""
    import torch

    if not device.startswith("cuda"):
        return None
    return torch.cuda.max_memory_reserved(torch.device(device).index or 0)


def memory_in_use(device: str) -> tuple[int, int] | None:
    """(bytes allocated by torch, bytes the device has) for a CUDA device; None elsewhere."""
    import torch

    if not device.startswith("cuda"):
        return None
    index = torch.device(device).index or 0
    return torch.cuda.memory_allocated(index), torch.cuda.get_device_properties(index).total_memory
