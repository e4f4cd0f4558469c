"""Accelerate configurations and the exact ``accelerate launch`` command for running a workflow on several
GPUs or nodes: DDP, or sharded with PyTorch FSDP2. ``zero2`` and ``zero3`` ask for DeepSpeed's sharding stages and
get them from FSDP2 (no DeepSpeed install): gradients and optimizer state split across the GPUs, the parameters
kept gathered from forward to backward (``zero2``) or split too (``zero3``, the same as ``fsdp``)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

BACKENDS = ("ddp", "zero2", "zero3", "fsdp")


def accelerate_config(gpus: int, nodes: int = 1, backend: str = "ddp", precision: str = "bf16") -> dict[str, Any]:
    """The accelerate config dict for ``gpus`` GPUs per node on ``nodes`` machines."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if gpus < 1 or nodes < 1:
        raise ValueError("--gpus and --nodes must be at least 1")
    multi = gpus * nodes > 1
    config: dict[str, Any] = {
        "compute_environment": "LOCAL_MACHINE",
        "distributed_type": "MULTI_GPU" if multi else "NO",
        "mixed_precision": {"fp32": "no"}.get(precision, precision),
        "num_machines": nodes,
        "num_processes": gpus * nodes,
        "machine_rank": 0,
        "gpu_ids": "all",
        "main_training_function": "main",
        "rdzv_backend": "static",
        "same_network": True,
        "use_cpu": False,
        "downcast_bf16": "no",
        "debug": False,
    }
    if nodes > 1:
        config["main_process_ip"] = "MAIN_NODE_IP"
        config["main_process_port"] = 29500
    if backend != "ddp":
        config["distributed_type"] = "FSDP"
        config["fsdp_config"] = {
            "fsdp_version": 2,
            "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
            "fsdp_cpu_ram_efficient_loading": False,  # every process loads the weights, then shards them
            "fsdp_offload_params": False,
            "fsdp_reshard_after_forward": backend != "zero2",
            "fsdp_state_dict_type": "FULL_STATE_DICT",  # checkpoints are whole, standard model folders
        }
    return config


def write_launch(
    folder: Path, project: Path, workflow: str, gpus: int, nodes: int = 1, backend: str = "ddp",
    precision: str = "bf16",
) -> tuple[Path, str]:
    """Write ``accelerate_<backend>_<gpus>x<nodes>.yaml`` into ``folder``; return it and the launch command
    (run it on every node, with ``--machine_rank`` set per node when ``nodes`` > 1)."""
    import yaml

    config = accelerate_config(gpus, nodes, backend, precision)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"accelerate_{backend}_{gpus}x{nodes}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=True), encoding="utf-8")
    parts = ["accelerate", "launch", "--config_file", str(path)]
    if nodes > 1:
        parts += ["--machine_rank", "NODE_RANK", "--main_process_ip", "MAIN_NODE_IP"]
    parts += ["-m", "studio", "train", str(project), "--workflow", workflow]
    return path, shlex.join(parts)

