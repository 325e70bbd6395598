"""Split work across processes started by ``torchrun`` (torch.distributed), one shard each.

Nothing here is home-made transport: ranks, world size and the barrier come from
torch.distributed, initialised from the environment ``torchrun`` sets. Work is dealt
round-robin, so rank ``r`` of ``n`` gets items ``r, r + n, r + 2n, ...``.

Example:
    >>> ctx = DistributedContext(rank=1, world_size=2, local_rank=1)
    >>> ctx.deal(["a", "b", "c", "d", "e"])
    ['b', 'd']
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DistributedContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def deal(self, items: list) -> list:
        """This rank's share of ``items``, dealt round-robin."""
        return list(items[self.rank :: self.world_size])

    def deal_balanced(self, items: list, costs: list[float]) -> list:
        """This rank's share of ``items`` such that the ranks' summed ``costs`` come out as even as
        greedy dealing makes them (the costliest item first, each to the least loaded rank)."""
        return [items[i] for i in balanced_shares(costs, self.world_size)[self.rank]]

    def device(self, requested: str) -> str:
        """One GPU per rank: ``cuda`` becomes ``cuda:<local rank>``; other devices are kept."""
        if self.enabled and requested == "cuda":
            return f"cuda:{self.local_rank}"
        return requested

    def barrier(self) -> None:
        if self.enabled:
            torch.distributed.barrier()


def balanced_shares(costs: list[float], world_size: int) -> list[list[int]]:
    """Item indices per rank: longest-processing-time dealing, each rank's list in item order.

    Example:
        >>> balanced_shares([5, 4, 3, 3, 1], 2)
        [[0, 3], [1, 2, 4]]
    """
    loads, shares = [0.0] * world_size, [[] for _ in range(world_size)]
    for i in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        rank = min(range(world_size), key=lambda r: (loads[r], r))
        loads[rank] += costs[i]
        shares[rank].append(i)
    return [sorted(share) for share in shares]


def init_from_env(device: str = "cpu") -> DistributedContext:
    """Join the process group ``torchrun`` describes in the environment (a no-op when run alone).

    The backend is NCCL for CUDA devices and gloo otherwise.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext()
    ctx = DistributedContext(
        rank=int(os.environ["RANK"]), world_size=world_size, local_rank=int(os.environ.get("LOCAL_RANK", "0"))
    )
    if not torch.distributed.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(ctx.local_rank)
        torch.distributed.init_process_group(backend=backend)
    return ctx


def shutdown() -> None:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
