"""Activations of one run held in memory, labelled by site, step and branch.

What ``collect`` interventions record when no store is given. Values are in token layout
``[samples, tokens, channels]`` (loop sites: one token per latent voxel), on the device and in
the dtype the model produced, so patching a run with its own cache reproduces it bitwise.

Example:
    >>> import torch
    >>> from interp.sites import Site
    >>> cache = ActivationCache()
    >>> cache.record(Site("x0"), "guided", 3, [0, 1], torch.zeros(2, 5, 3))
    >>> cache["x0"].shape, cache.steps("x0")
    (torch.Size([1, 2, 5, 3]), [3])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from interp.errors import InputError
from interp.rows import take_rows
from interp.sites import Site


def default_branch(site: Site) -> str:
    """``cond`` for block sites, ``guided`` for loop sites."""
    return "cond" if site.is_block else "guided"


class ActivationCache:
    """``(site, branch, step) -> [samples, tokens, channels]``, with the batch rows recorded.

    Args:
        device: move recorded values here (``None``: keep them where they are).
    """

    def __init__(self, device: str | torch.device | None = None) -> None:
        self.device = device
        self._values: dict[tuple[str, str, int], tuple[list[int], torch.Tensor]] = {}

    def record(self, site: Site, branch: str, step: int, rows: Sequence[int], value: torch.Tensor) -> None:
        value = value.detach()
        if self.device is not None:
            value = value.to(self.device)
        self._values[(str(site), branch, int(step))] = (list(rows), value)

    __call__ = record

    def keys(self) -> list[tuple[str, str, int]]:
        return sorted(self._values, key=lambda k: (Site.parse(k[0]).order(), k[1], k[2]))

    def sites(self) -> list[str]:
        return sorted({k[0] for k in self._values}, key=lambda s: Site.parse(s).order())

    def steps(self, site: str | Site, branch: str | None = None) -> list[int]:
        site = Site.parse(site)
        branch = branch or default_branch(site)
        return sorted(k[2] for k in self._values if k[0] == str(site) and k[1] == branch)

    def get(self, site: str | Site, step: int, branch: str | None = None,
            take: Sequence[int] | None = None) -> torch.Tensor:
        """Values at one step; ``take`` picks batch rows of the recorded run (``None``: all)."""
        site = Site.parse(site)
        branch = branch or default_branch(site)
        key = (str(site), branch, int(step))
        if key not in self._values:
            raise InputError(f"the cache holds no {site} at step {step}, branch {branch}: it has steps "
                             f"{self.steps(site, branch)} of sites {self.sites()}")
        rows, value = self._values[key]
        if take is None:
            return value
        where = {row: i for i, row in enumerate(rows)}
        missing = [i for i in take if i not in where]
        if missing:
            raise InputError(f"the cache holds samples {rows} of {site}; asked for {missing}")
        return take_rows(value, [where[i] for i in take])

    def __getitem__(self, site: str | Site) -> torch.Tensor:
        """Every recorded step of ``site`` (default branch), stacked: ``[steps, samples, tokens, channels]``."""
        steps = self.steps(site)
        if not steps:
            raise InputError(f"the cache holds no {site}: it has {self.sites()}")
        return torch.stack([self.get(site, s) for s in steps])

    def __contains__(self, site) -> bool:
        return str(Site.parse(site)) in self.sites()

    def __len__(self) -> int:
        return len(self._values)
