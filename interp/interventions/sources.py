"""Where ``patch`` takes its values from: a run held in memory, or a trace store on disk.

A source answers ``get(site, step, branch, take) -> [len(take), tokens, channels]`` and may
``check`` up front that it holds what a run will ask for. An
:class:`~interp.interventions.cache.ActivationCache` (from :func:`run_with_cache`) is one;
:class:`StoreSource` reads a :class:`~interp.store.TraceStore`, so a large model can patch from
disk without holding a whole run in memory.

Example:
    >>> cache = run_with_cache(model, clean, ["blocks.3.resid_post"], num_steps=20).cache   # doctest: +SKIP
    >>> patched = run(model, corrupt, [Intervention(At("blocks.3.resid_post", steps=[4]), Patch("clean"))],
    ...               sources={"clean": cache}, num_steps=20)                               # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from interp.errors import InputError
from interp.interventions.actions import Collect
from interp.interventions.intervention import Intervention
from interp.interventions.where import At
from interp.sites import Site


def run_with_cache(model, inputs, sites: Sequence[str], *, steps: Sequence[int] | None = None,
                   branches: Sequence[str] = ("cond",), interventions: Sequence[Intervention] = (),
                   device=None, **sampling):
    """Run with ``interventions`` and return the chosen sites in memory (``.cache``), no file.

    Block sites are recorded for each of ``branches``; loop sites for ``guided`` (``x_t`` has one
    value per step). ``device`` moves recorded values (e.g. ``"cpu"``); ``sampling`` goes to
    :func:`~interp.interventions.run` (``num_steps``, ``shift``, ``decode``, ``progress``...).
    """
    from interp.interventions.cache import ActivationCache
    from interp.interventions.run import run

    collects = []
    for name in sites:
        site = Site.parse(name)
        for branch in (branches if site.is_block else [None if site.kind == "x_t" else "guided"]):
            collects.append(Intervention(At(site, steps=steps, branch=branch), Collect()))
    cache = ActivationCache(device)
    out = run(model, inputs, [*interventions, *collects], collector=cache, **sampling)
    out.cache = cache
    return out


class StoreSource:
    """Activations of chosen samples of a trace store, read lazily, one slab per request.

    Args:
        store: a :class:`~interp.store.TraceStore` or the path of its index file.
        sample_ids: the store's samples in the order ``take`` indexes them (default: all).
        fingerprint: if given, the store must have been written by a model with this weight
            fingerprint (``interp.capture.run.fingerprint(model)``).
        device: where values go (default: the CPU; the executor moves them to the run's device).
    """

    def __init__(self, store, sample_ids: Sequence[str] | None = None, *, fingerprint: str | None = None,
                 device=None) -> None:
        from interp.store import TraceStore

        self.store = store if isinstance(store, TraceStore) else TraceStore.open(store)
        self.sample_ids = list(self.store.sample_ids() if sample_ids is None else sample_ids)
        for sample_id in self.sample_ids:
            if sample_id not in self.store:
                raise InputError(f"unknown sample {sample_id!r} in {self.store.path}")
        stored = self.store.attrs.get("fingerprint")
        if fingerprint is not None and stored != fingerprint:
            raise InputError(f"{self.store.path} was written by another model (fingerprint {stored}, "
                             f"this model {fingerprint}): patch from a store of the same model")
        self.device = device

    def check(self, site, *, grid, width, steps, branch, take=None) -> None:
        name = str(Site.parse(site))
        if name not in self.store.sites():
            raise InputError(f"{self.store.path} holds no {name}: it has {', '.join(self.store.sites())}")
        info = self.store.site_info(name)
        if info.get("tokens", "all") != "all":
            raise InputError(f"{name} in {self.store.path} was stored with tokens {info['tokens']}: patching needs all")
        stored_grid = self.store.token_grid(name)
        if len(stored_grid) != int(np.prod(grid)):
            raise InputError(f"{name} in {self.store.path} has {len(stored_grid)} tokens; this run has grid "
                             f"{tuple(grid)} = {int(np.prod(grid))} tokens (another geometry)")
        captured = set(int(s) for s in self.store.steps())
        missing = sorted(set(steps) - captured)
        if missing:
            raise InputError(f"{self.store.path} has no steps {missing} of {name}: captured are {sorted(captured)}")
        label = branch or "guided"
        if label not in self.store.branches(name):
            raise InputError(f"{self.store.path} has branch(es) {self.store.branches(name)} of {name}, not {label}")
        for i in take or ():
            if not 0 <= i < len(self.sample_ids):
                raise InputError(f"patch takes source sample {i}: the source has 0..{len(self.sample_ids) - 1}")

    def get(self, site, step: int, branch: str | None, take: Sequence[int]) -> torch.Tensor:
        name = str(Site.parse(site))
        rows = [self.store.read(self.sample_ids[i], name, branch=branch or "guided", steps=[step], dtype=None)[0]
                for i in take]
        value = torch.from_numpy(np.stack(rows))
        return value if self.device is None else value.to(self.device)
