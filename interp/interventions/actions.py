"""What an intervention does at its site: one small dataclass per action.

Every action maps the chosen samples' values ``x`` (``[R, T, D]``: rows, tokens, channels) to
new values of the same shape; the executor then keeps the new values on the chosen tokens
only. Actions are plain data (``to_dict`` / :func:`action_from_dict`) except :class:`Apply`,
which wraps a Python function and cannot be written to JSON.

=============  ==============================================================================
``set``        replace by ``value`` (a number, ``[D]``, ``[T, D]`` or ``[R, T, D]``)
``add``        add ``value``
``zero``       replace by zeros
``scale``      multiply by ``factor``
``mean``       mean-ablate: replace by ``value``, or by the mean over the chosen tokens
               (``over="tokens"``) or over the chosen samples (``over="samples"``)
``noise``      add seeded Gaussian noise of standard deviation ``std`` (times the values' RMS
               when ``relative``)
``project``    remove (``out``) or keep only (``in``) the component along ``direction``
``patch``      replace by the same site's values from a source run (``sources[source]``)
``swap``       replace row ``i`` by batch row ``take[i]`` of the same run
``merge``      replace every row of each group by the group's (weighted) mean
``collect``    record the values (after the edits listed before it) and change nothing
``apply``      any function ``fn(x, ctx) -> x``
=============  ==============================================================================

``renoise_merge`` (:class:`RenoiseMerge`, at the ``x0`` site) merges each group's clean estimates
and re-noises the merge with one seed's noise; ``redraw`` (:class:`Redraw`, at ``x0``) gives the
next state fresh noise; ``cool`` (:class:`Cool`, at ``x0``) scales the next state's own noise
(all in :mod:`interp.interventions.merging`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from interp.errors import InputError, check_choice
from interp.interventions.context import Action, Context, check_width, as_value
from interp.interventions.merging import Cool, Merge, Redraw, RenoiseMerge


@dataclass
class Set(Action):
    value: Any = 0.0
    kind: ClassVar[str] = "set"

    def __post_init__(self):
        self.value = as_value(self.value)

    def check(self, *, width, site, **_):
        check_width("set value", self.value, width, site)

    def __call__(self, x, ctx):
        value = torch.as_tensor(self.value, dtype=x.dtype, device=x.device)
        return value.expand_as(x) if value.ndim < 3 else value.to(x.dtype).expand_as(x)


@dataclass
class Add(Action):
    value: Any = 0.0
    kind: ClassVar[str] = "add"

    def __post_init__(self):
        self.value = as_value(self.value)

    def check(self, *, width, site, **_):
        check_width("added value", self.value, width, site)

    def __call__(self, x, ctx):
        return x + torch.as_tensor(self.value, dtype=x.dtype, device=x.device)


@dataclass
class Zero(Action):
    kind: ClassVar[str] = "zero"

    def __call__(self, x, ctx):
        return torch.zeros_like(x)


@dataclass
class Scale(Action):
    factor: float = 1.0
    kind: ClassVar[str] = "scale"

    def check(self, **_):
        if not math.isfinite(self.factor):
            raise InputError(f"scale factor {self.factor} is not finite")

    def __call__(self, x, ctx):
        return x * self.factor


@dataclass
class Mean(Action):
    value: Any = None
    over: str = "tokens"
    kind: ClassVar[str] = "mean"

    def __post_init__(self):
        check_choice("mean over", self.over, ("tokens", "samples"))
        if self.value is not None:
            self.value = as_value(self.value)

    def check(self, *, width, site, **_):
        check_width("mean value", self.value, width, site)

    def __call__(self, x, ctx):
        if self.value is not None:
            return torch.as_tensor(self.value, dtype=x.dtype, device=x.device).expand_as(x)
        if self.over == "samples":
            return x.float().mean(dim=0, keepdim=True).to(x.dtype).expand_as(x)
        mask = ctx.mask.to(x.device).expand(x.shape[0], -1)[..., None].to(torch.float32)
        mean = (x.float() * mask).sum(dim=1, keepdim=True) / mask.sum(dim=1, keepdim=True).clamp_min(1)
        return mean.to(x.dtype).expand_as(x)


@dataclass
class Noise(Action):
    std: float = 1.0
    seed: int = 0
    relative: bool = False
    kind: ClassVar[str] = "noise"

    def check(self, **_):
        if not (math.isfinite(self.std) and self.std >= 0):
            raise InputError(f"noise std {self.std} must be finite and >= 0")

    def __call__(self, x, ctx):
        # Seeded by (seed, step, batch row), on the CPU: the same noise on any device and batch layout.
        noise = torch.empty(x.shape, dtype=torch.float32)
        for i, row in enumerate(ctx.rows.tolist()):
            generator = torch.Generator().manual_seed((self.seed * 1_000_003 + ctx.step) * 1_000_003 + row)
            noise[i] = torch.randn(x.shape[1:], generator=generator)
        std = self.std
        if self.relative:
            std = std * x.float().pow(2).mean().sqrt().item()
        return (x.float() + std * noise.to(x.device)).to(x.dtype)


@dataclass
class Project(Action):
    direction: Any = None
    mode: str = "out"
    kind: ClassVar[str] = "project"

    def __post_init__(self):
        check_choice("projection mode", self.mode, ("out", "in"))
        if self.direction is None:
            raise InputError("project needs a direction")
        self.direction = torch.as_tensor(self.direction, dtype=torch.float32).reshape(-1)
        if not torch.isfinite(self.direction).all() or float(self.direction.norm()) == 0:
            raise InputError("projection direction must be finite and non-zero")

    def check(self, *, width, site, **_):
        if self.direction.numel() != width:
            raise InputError(f"direction has {self.direction.numel()} channels; site {site} has {width}")

    def __call__(self, x, ctx):
        unit = (self.direction / self.direction.norm()).to(x.device)
        along = (x.float() @ unit)[..., None] * unit
        return (x.float() - along if self.mode == "out" else along).to(x.dtype)


@dataclass
class Patch(Action):
    """The same site's values from ``sources[source]``; source sample ``take[i]`` feeds chosen
    row ``i`` (``None``: the same batch index). ``site`` reads another site of the source."""

    source: str = "source"
    take: tuple[int, ...] | None = None
    site: str | None = None
    kind: ClassVar[str] = "patch"

    def __post_init__(self):
        self.take = None if self.take is None else tuple(int(i) for i in self.take)

    def check(self, *, num_rows, sources, site, grid, width, steps, branch, **_):
        if self.source not in sources:
            raise InputError(f"patch source {self.source!r} was not given: sources are {sorted(sources) or 'none'}")
        if self.take is not None and len(self.take) != num_rows:
            raise InputError(f"patch take has {len(self.take)} entries for {num_rows} chosen samples")
        check = getattr(sources[self.source], "check", None)
        if check is not None:
            check(site if self.site is None else self.site, grid=grid, width=width, steps=steps, branch=branch,
                  take=self.take)

    def __call__(self, x, ctx):
        take = ctx.rows.tolist() if self.take is None else list(self.take)
        site = ctx.site if self.site is None else self.site
        value = ctx.sources[self.source].get(site, ctx.step, ctx.branch, take)
        if value.shape != x.shape:
            raise InputError(f"source {self.source!r} gives {tuple(value.shape)} at {site} step {ctx.step}; "
                             f"the run has {tuple(x.shape)}")
        return value.to(device=x.device, dtype=x.dtype)


@dataclass
class Swap(Action):
    take: tuple[int, ...] = ()
    kind: ClassVar[str] = "swap"

    def __post_init__(self):
        self.take = tuple(int(i) for i in self.take)

    def check(self, *, num_rows, batch, **_):
        if len(self.take) != num_rows:
            raise InputError(f"swap take has {len(self.take)} entries for {num_rows} chosen samples")
        for i in self.take:
            if not 0 <= i < batch:
                raise InputError(f"swap takes sample {i}: the batch has samples 0..{batch - 1}")

    def __call__(self, x, ctx):
        return ctx.batch[list(self.take)].to(x.dtype)


@dataclass
class Collect(Action):
    """Record the values into the run's cache (or the capture's store) under ``name``."""

    name: str | None = None
    reduce: str = "all"
    edits: ClassVar[bool] = False
    kind: ClassVar[str] = "collect"

    def __post_init__(self):
        from interp.tokens import parse_tokens

        parse_tokens(self.reduce)

    def __call__(self, x, ctx):
        return x


@dataclass
class Apply(Action):
    """Any function ``fn(x, ctx) -> x``; runs, but cannot be written to JSON or a store."""

    fn: Callable | None = None
    kind: ClassVar[str] = "apply"

    def check(self, **_):
        if not callable(self.fn):
            raise InputError("apply needs a callable fn(x, ctx)")

    def __call__(self, x, ctx):
        return self.fn(x, ctx)

    def to_dict(self) -> dict:
        raise InputError("an 'apply' intervention wraps a Python function and cannot be saved as JSON")


ACTIONS: dict[str, type[Action]] = {
    cls.kind: cls for cls in (Set, Add, Zero, Scale, Mean, Noise, Project, Patch, Swap, Merge, RenoiseMerge, Redraw, Cool,
                            Collect)
}


def action_from_dict(data: dict) -> Action:
    """The action a ``to_dict()`` output describes."""
    data = dict(data)
    kind = data.pop("kind", None)
    check_choice("action", kind, sorted(ACTIONS))
    try:
        return ACTIONS[kind](**data)
    except TypeError as err:
        raise InputError(f"bad parameters for action {kind!r}: {err}") from None
