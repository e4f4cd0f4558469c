"""Several processes (``accelerate launch`` / ``torchrun``): data-parallel training with torch DDP. Rank 0 keeps
the records (store, run folder, checkpoints, TensorBoard); every rank takes its own batches of each step."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Distributed:
    world: int = 1
    rank: int = 0
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> Distributed:
        """The process group this process was launched into (WORLD_SIZE/RANK/LOCAL_RANK), or a single process."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world > 1:
            for flag, name in (("ACCELERATE_USE_DEEPSPEED", "DeepSpeed"), ("ACCELERATE_USE_FSDP", "FSDP")):
                if os.environ.get(flag, "").lower() == "true":
                    raise RuntimeError(
                        f"this launch asks for {name}; the trainer runs several GPUs as DDP so far. "
                        "Write the config with `vlm-studio launch-config ... --gpus N` (no --deepspeed/--fsdp)"
                    )
        return cls(world, int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0")))

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def device(self, device: str) -> str:
        """This process's GPU under several processes (cuda -> cuda:LOCAL_RANK)."""
        return f"cuda:{self.local_rank}" if self.active and device == "cuda" else device

    def setup(self, device: str) -> None:
        import torch.distributed as dist

        if self.active and not dist.is_initialized():
            if device.startswith("cuda"):
                import torch

                torch.cuda.set_device(self.local_rank)
            dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")

    def wrap(self, model: Any, device: str) -> Any:
        if not self.active:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.local_rank] if device.startswith("cuda") else None
        return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=False)

    def barrier(self) -> None:
        if self.active:
            import torch.distributed as dist

            dist.barrier()

    def cancelled(self, local: bool, device: str) -> bool:
        """Whether any process was asked to stop (so all stop at the same step)."""
        if not self.active:
            return local
        import torch
        import torch.distributed as dist

        flag = torch.tensor([1.0 if local else 0.0], device=device)
        dist.all_reduce(flag)
        return bool(flag.item() > 0)

    def teardown(self) -> None:
        if self.active:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()
