"""Actions that mix or redraw whole trajectories of a batch: seed merges and fresh noise.

``merge`` makes every row of a group its (weighted) mean; ``renoise_merge`` (at ``x0``) merges a
group's clean estimates and re-noises the merge with one seed's noise; ``redraw`` (at ``x0``)
keeps a row's clean estimate and gives the next state fresh noise from a new seed; ``cool`` (at
``x0``) keeps both and scales the noise part of the next state: one seed standing in for a merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from interp.errors import InputError, check_choice
from interp.interventions.context import Action


@dataclass
class Merge(Action):
    """Every row of each group becomes the group's mean (``weights``: one list per group)."""

    groups: tuple[tuple[int, ...], ...] = ()
    weights: tuple[tuple[float, ...], ...] | None = None
    kind: ClassVar[str] = "merge"

    def __post_init__(self):
        self.groups = tuple(tuple(int(i) for i in g) for g in self.groups)
        if self.weights is not None:
            self.weights = tuple(tuple(float(w) for w in g) for g in self.weights)
        if not self.groups or any(len(g) < 1 for g in self.groups):
            raise InputError("merge needs at least one non-empty group of samples")

    def check(self, *, batch, **_):
        seen = set()
        for group in self.groups:
            for i in group:
                if not 0 <= i < batch:
                    raise InputError(f"merge group has sample {i}: the batch has samples 0..{batch - 1}")
                if i in seen:
                    raise InputError(f"sample {i} is in two merge groups")
                seen.add(i)
        if self.weights is not None and [len(w) for w in self.weights] != [len(g) for g in self.groups]:
            raise InputError("merge weights must give one weight per sample of each group")

    def __call__(self, x, ctx):
        out = x.clone()
        where = {row: i for i, row in enumerate(ctx.rows.tolist())}
        for g, group in enumerate(self.groups):
            values = ctx.batch[list(group)].float()
            if self.weights is None:
                merged = values.mean(dim=0)
            else:
                w = torch.tensor(self.weights[g], dtype=torch.float32, device=values.device)
                merged = (values * (w / w.sum()).reshape(-1, *[1] * (values.ndim - 1))).sum(dim=0)
            for row in group:
                if row in where:
                    out[where[row]] = merged.to(x.dtype)
        return out


@dataclass
class RenoiseMerge(Action):
    """At the ``x0`` site: merge each group's clean estimates, then re-noise them with one seed's noise.

    Row ``groups[g][ref]`` then steps to ``(1 - sigma_next) * merged + sigma_next * eps_ref``, where
    ``eps_ref = (x_t - (1 - sigma) * x0_ref) / sigma`` is that seed's noise as the step sees it: the
    new x0 is solved from the Euler step ``x_next = (s'/s) x_t + (1 - s'/s) x0`` using only
    ``x0_ref`` (so no x_t is needed). Every row of a group receives the same x0; only the reference
    row lands on the re-noised merge (continue that row alone). ``reduce`` is ``mean`` or
    ``median`` (element-wise: a majority vote in x0 space; for two seeds it is their mean).
    ``sigma`` and ``sigma_next`` are the step's noise levels (from :func:`interp.sampling.schedule`).

    Example:
        >>> RenoiseMerge(groups=[(0, 1, 2)], sigma=0.9, sigma_next=0.8).to_dict()["kind"]
        'renoise_merge'
    """

    groups: tuple[tuple[int, ...], ...] = ()
    sigma: float = 1.0
    sigma_next: float = 0.0
    ref: int = 0
    reduce: str = "mean"
    kind: ClassVar[str] = "renoise_merge"

    def __post_init__(self):
        self.groups = tuple(tuple(int(i) for i in g) for g in self.groups)
        check_choice("renoise_merge reduce", self.reduce, ("mean", "median"))
        if not self.groups or any(len(g) < 1 for g in self.groups):
            raise InputError("renoise_merge needs at least one non-empty group of samples")
        if not (0 <= self.sigma_next < self.sigma <= 1):
            raise InputError(f"renoise_merge needs 0 <= sigma_next < sigma <= 1; got sigma {self.sigma}, "
                             f"sigma_next {self.sigma_next}")
        if not all(0 <= self.ref < len(g) for g in self.groups):
            raise InputError(f"renoise_merge ref {self.ref} must index a sample of every group "
                             f"(smallest group has {min(len(g) for g in self.groups)})")

    def check(self, *, batch, site, **_):
        if str(site) != "x0":
            raise InputError(f"renoise_merge acts at the x0 site, not {site}")
        Merge(self.groups).check(batch=batch)

    def __call__(self, x, ctx):
        out = x.clone()
        where = {row: i for i, row in enumerate(ctx.rows.tolist())}
        a = self.sigma_next / self.sigma  # weight of x_t in the Euler step
        for group in self.groups:
            values = ctx.batch[list(group)].float()
            ref = values[self.ref]
            # centred on the reference so that K copies of one seed give it back exactly
            spread = values - ref
            merged = ref + (spread.mean(dim=0) if self.reduce == "mean" else _median(spread))
            new = ((1 - self.sigma_next) * merged - a * (1 - self.sigma) * ref) / (1 - a)
            for row in group:
                if row in where:
                    out[where[row]] = new.to(x.dtype)
        return out


def _median(values: torch.Tensor) -> torch.Tensor:
    """Element-wise median over dim 0; the mean of the two middle values for an even count."""
    ordered = values.sort(dim=0).values
    k = ordered.shape[0]
    return ordered[k // 2] if k % 2 else (ordered[k // 2 - 1] + ordered[k // 2]) / 2




@dataclass
class Redraw(Action):
    """At the ``x0`` site of step ``k``: keep each chosen row's clean estimate, redraw its noise.

    The state entering step ``k + 1`` becomes ``(1 - sigma_next) x0 + sigma_next eps'``, as flow
    matching defines a state, with ``eps'`` drawn fresh from ``seeds[i]`` for chosen row ``i``
    (a CPU generator over the latents' ``[C, F, H, W]``, so the draw is the same on any device).
    The loop turns the new x0 back into a velocity, so the x0 given here solves the Euler step
    ``x_next = a x_t + (1 - a) x0'`` (``a = sigma_next / sigma``) for that state. ``sigma`` and
    ``sigma_next`` are the step's noise levels (from :func:`interp.sampling.schedule`).

    Example:
        >>> Redraw(seeds=(7, 8), sigma=0.9, sigma_next=0.8).to_dict()["kind"]
        'redraw'
    """

    seeds: tuple[int, ...] = ()
    sigma: float = 1.0
    sigma_next: float = 0.0
    kind: ClassVar[str] = "redraw"

    def __post_init__(self):
        self.seeds = tuple(int(s) for s in self.seeds)
        if not (0 < self.sigma_next < self.sigma <= 1):
            raise InputError(f"redraw needs 0 < sigma_next < sigma <= 1 (no noise is left after the last step); "
                             f"got sigma {self.sigma}, sigma_next {self.sigma_next}")

    def check(self, *, num_rows, site, **_):
        if str(site) != "x0":
            raise InputError(f"redraw acts at the x0 site, not {site}")
        if len(self.seeds) != num_rows:
            raise InputError(f"redraw has {len(self.seeds)} seeds for {num_rows} chosen samples")

    def __call__(self, x, ctx):
        f, h, w = ctx.grid
        eps = torch.stack([torch.randn((x.shape[-1], f, h, w), generator=torch.Generator().manual_seed(seed))
                           for seed in self.seeds])
        eps = eps.permute(0, 2, 3, 4, 1).reshape(x.shape).to(device=x.device, dtype=x.dtype)
        x_t = ctx.x_t[ctx.rows.to(ctx.x_t.device)].to(x.dtype)
        a = self.sigma_next / self.sigma  # weight of x_t in the Euler step
        state = (1 - self.sigma_next) * x + self.sigma_next * eps
        return (state - a * x_t) / (1 - a)


@dataclass
class Cool(Action):
    """At the ``x0`` site of step ``k``: the state entering step ``k + 1`` keeps each row's clean
    estimate and its own noise, the noise scaled by ``factor``.

    The Euler step lands on ``(1 - sigma_next) x0 + sigma_next eps`` with ``eps = (x_t - (1 - sigma)
    x0) / sigma``, the noise as the step sees it; the mean of K such states of independent seeds
    has its noise part shrunk by about 1/sqrt(K), so ``factor=1/sqrt(K)`` on one seed is the matched
    control of a merge of K states at step ``k + 1`` (at step 0, of a colder start). The x0 given
    back solves the Euler step ``x_next = a x_t + (1 - a) x0'`` (``a = sigma_next / sigma``) for
    that state; ``factor=1`` changes nothing but rounding.

    Example:
        >>> Cool(factor=0.5, sigma=0.9, sigma_next=0.8).to_dict()["kind"]
        'cool'
    """

    factor: float = 1.0
    sigma: float = 1.0
    sigma_next: float = 0.0
    kind: ClassVar[str] = "cool"

    def __post_init__(self):
        if not (0 < self.sigma_next < self.sigma <= 1):
            raise InputError(f"cool needs 0 < sigma_next < sigma <= 1 (no noise is left after the last step); "
                             f"got sigma {self.sigma}, sigma_next {self.sigma_next}")
        if not 0 <= self.factor < float("inf"):
            raise InputError(f"cool factor {self.factor} must be finite and not negative")

    def check(self, *, site, **_):
        if str(site) != "x0":
            raise InputError(f"cool acts at the x0 site, not {site}")

    def __call__(self, x, ctx):
        x_t = ctx.x_t[ctx.rows.to(ctx.x_t.device)].to(x.dtype)
        eps = (x_t - (1 - self.sigma) * x) / self.sigma
        a = self.sigma_next / self.sigma  # weight of x_t in the Euler step
        state = (1 - self.sigma_next) * x + self.sigma_next * self.factor * eps
        return (state - a * x_t) / (1 - a)
