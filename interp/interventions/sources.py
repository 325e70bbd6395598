"""Where ``patch`` takes its values from: a run held in memory (or, through the same protocol, a store).

A source answers ``get(site, step, branch, take) -> [len(take), tokens, channels]`` and may
``check`` up front that it holds what a run will ask for. An
:class:`~interp.interventions.cache.ActivationCache` (from :func:`run_with_cache`) is one;
:class:`~interp.store.StoreSource` reads a :class:`~interp.store.TraceStore`, so a large model
can patch from disk without holding a whole run in memory.

Example:
    >>> cache = run_with_cache(model, clean, ["blocks.3.resid_post"], num_steps=20).cache   # doctest: +SKIP
    >>> patched = run(model, corrupt, [Intervention(At("blocks.3.resid_post", steps=[4]), Patch("clean"))],
    ...               sources={"clean": cache}, num_steps=20)                               # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

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
    from interp.interventions.executor import run

    collects = []
    for name in sites:
        site = Site.parse(name)
        for branch in (branches if site.is_block else [None if site.kind == "x_t" else "guided"]):
            collects.append(Intervention(At(site, steps=steps, branch=branch), Collect()))
    cache = ActivationCache(device)
    out = run(model, inputs, [*interventions, *collects], collector=cache, **sampling)
    out.cache = cache
    return out
