"""A trace store as a source for ``patch``: activations of chosen samples, read lazily.

It answers the source protocol of :mod:`interp.interventions.sources`
(``check`` up front, then ``get(site, step, branch, take)``), one slab per request.

Example:
    >>> source = StoreSource("clean.h5", fingerprint=fingerprint(model))                     # doctest: +SKIP
    >>> run(model, corrupt, [Intervention(At("blocks.3.resid_post", steps=[4]), Patch("clean"))],
    ...     sources={"clean": source}, num_steps=20)                                          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from interp.errors import InputError
from interp.sites import Site
from interp.store.reader import TraceStore


class StoreSource:
    """Activations of chosen samples of a trace store, read lazily, one slab per request.

    Args:
        store: a :class:`~interp.store.TraceStore` or the path of its index file.
        sample_ids: the store's samples in the order ``take`` indexes them (default: all).
        fingerprint: if given, the store must have been written by a model with this weight
            fingerprint (``interp.capture.stream.fingerprint(model)``).
        device: where values go (default: the CPU; the executor moves them to the run's device).
    """

    def __init__(self, store, sample_ids: Sequence[str] | None = None, *, fingerprint: str | None = None,
                 device=None) -> None:
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

    def get(self, site, step: int, branch: str | None, take: Sequence[int]):
        import torch  # the store itself reads numpy; only a patch needs tensors

        name = str(Site.parse(site))
        rows = [self.store.read(self.sample_ids[i], name, branch=branch or "guided", steps=[step], dtype=None)[0]
                for i in take]
        value = torch.from_numpy(np.stack(rows))
        return value if self.device is None else value.to(self.device)
