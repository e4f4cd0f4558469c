"""Several processes (``accelerate launch`` / ``torchrun``): data-parallel training with torch DDP, or sharded with
PyTorch FSDP2 when the launch asks for FSDP (parameters, gradients and optimizer state split across the processes;
``reshard_after_forward`` off keeps the parameters gathered from forward to backward, the memory profile of
DeepSpeed ZeRO-2, on gives ZeRO-3's). Rank 0 keeps the records (store, run folder, checkpoints, TensorBoard);
every rank takes its own batches of each step."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Distributed:
    world: int = 1
    rank: int = 0
    local_rank: int = 0
    sharded: bool = False
    reshard_after_forward: bool = True

    @classmethod
    def from_env(cls) -> Distributed:
        """The process group this process was launched into (WORLD_SIZE/RANK/LOCAL_RANK), or a single process."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world > 1 and _flag("ACCELERATE_USE_DEEPSPEED"):
            raise RuntimeError(
                "this launch asks for the DeepSpeed engine, which the trainer does not run; write the config with "
                "`vlm-studio launch-config ... --deepspeed zero2|zero3` (the same sharding with PyTorch FSDP2) "
                "or `--fsdp`"
            )
        return cls(
            world,
            int(os.environ.get("RANK", "0")),
            int(os.environ.get("LOCAL_RANK", "0")),
            sharded=world > 1 and _flag("ACCELERATE_USE_FSDP"),
            reshard_after_forward=os.environ.get("FSDP_RESHARD_AFTER_FORWARD", "true").lower() != "false",
        )

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
        """The model to train: itself alone; under DDP a wrapper; under FSDP the same module, sharded in place
        (each decoder and vision block on its own, then the rest), so build the optimizer after this."""
        if not self.active:
            return model
        if self.sharded:
            from torch.distributed.fsdp import fully_shard

            blocks = set(getattr(_transformers_model(model), "_no_split_modules", None) or ())
            for module in list(model.modules()):
                if type(module).__name__ in blocks:
                    fully_shard(module, reshard_after_forward=self.reshard_after_forward)
            return fully_shard(model, reshard_after_forward=self.reshard_after_forward)
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


def _flag(name: str) -> bool:
    return os.environ.get(name, "").lower() == "true"


def _transformers_model(model: Any) -> Any:
    """The transformers model inside a peft wrapper (or the model itself)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model
