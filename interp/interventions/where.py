"""Where an intervention acts: a site, steps, a guidance branch, an expert, samples and tokens.

``At`` says nothing about what is done there (see :mod:`interp.interventions.actions`). Tokens
are chosen on the site's token grid ``(frames, rows, cols)``: the transformer's patch grid for
block sites, the latent voxel grid for the loop sites ``x_t``, ``velocity`` and ``x0``. Token
order is frame-major, then row, then column, as Wan flattens patches.

Example:
    >>> at = At("blocks.2.resid_post", steps=[0, 1], tokens=Tokens.region(frames=[3], rows=(0, 2)))
    >>> at.tokens.mask((4, 3, 3)).sum().item()     # frame 3, rows 0-1, every column
    6
    >>> At.from_dict(at.to_dict()) == at
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from interp.errors import InputError, check_range
from interp.sites import CALL_BRANCHES, LOOP_BRANCHES, Site

TOKEN_KINDS = ("all", "index", "frames", "region", "mask")


def _ints(values) -> tuple[int, ...] | None:
    return None if values is None else tuple(int(v) for v in values)


@dataclass(frozen=True)
class Tokens:
    """A choice of tokens on a ``(frames, rows, cols)`` grid; build it with the class methods.

    ``mask`` may be ``[T]`` (the same tokens in every chosen sample) or ``[S, T]`` (one row per
    chosen sample, in the order of ``At.samples``).
    """

    kind: str = "all"
    index: tuple[int, ...] = ()
    frames: tuple[int, ...] | None = None
    rows: tuple[int, int] | None = None
    cols: tuple[int, int] | None = None
    mask_values: tuple = field(default=(), repr=False)

    @classmethod
    def all(cls) -> Tokens:
        return cls()

    @classmethod
    def at(cls, index: Sequence[int]) -> Tokens:
        """Tokens by flat index in sequence order."""
        return cls("index", index=_ints(index))

    @classmethod
    def in_frames(cls, *frames: int) -> Tokens:
        """Every token of the given frames (latent/patch frames)."""
        return cls("frames", frames=_ints(frames))

    @classmethod
    def region(cls, *, frames: Sequence[int] | None = None, rows: tuple[int, int] | None = None,
               cols: tuple[int, int] | None = None) -> Tokens:
        """A box: the listed frames (``None``: all) x rows ``[r0, r1)`` x cols ``[c0, c1)``."""
        return cls("region", frames=_ints(frames), rows=_ints(rows), cols=_ints(cols))

    @classmethod
    def from_mask(cls, mask) -> Tokens:
        """A boolean mask ``[T]`` or ``[S, T]``."""
        array = np.asarray(mask.cpu() if isinstance(mask, torch.Tensor) else mask, dtype=bool)
        if array.ndim not in (1, 2):
            raise InputError(f"a token mask must be [T] or [samples, T]; got shape {array.shape}")
        return cls("mask", mask_values=(array.shape, tuple(np.flatnonzero(array.ravel()).tolist())))

    # --- resolution --------------------------------------------------------------------------
    def mask(self, grid: tuple[int, int, int], num_rows: int = 1) -> torch.Tensor:
        """Boolean ``[1 or num_rows, T]`` for a grid ``(F, H, W)``; raises if it leaves the grid."""
        f, h, w = grid
        total = f * h * w
        if self.kind == "all":
            return torch.ones(1, total, dtype=torch.bool)
        if self.kind == "index":
            if not self.index:
                raise InputError("token index list is empty: give at least one token")
            for i in self.index:
                check_range("token index", i, 0, total - 1)
            out = torch.zeros(1, total, dtype=torch.bool)
            out[0, list(self.index)] = True
            return out
        if self.kind == "mask":
            shape, on = self.mask_values
            if shape[-1] != total:
                raise InputError(f"token mask has {shape[-1]} tokens; the site's grid {f}x{h}x{w} has {total}")
            if len(shape) == 2 and shape[0] not in (1, num_rows):
                raise InputError(f"token mask has {shape[0]} rows for {num_rows} chosen samples")
            out = torch.zeros(int(np.prod(shape)), dtype=torch.bool)
            out[list(on)] = True
            return out.reshape(shape if len(shape) == 2 else (1, total))
        cube = torch.zeros(f, h, w, dtype=torch.bool)
        frames = range(f) if self.frames is None else self.frames
        for frame in frames:
            check_range("frame", frame, 0, f - 1)
        r0, r1 = self.rows or (0, h)
        c0, c1 = self.cols or (0, w)
        if not (0 <= r0 < r1 <= h):
            raise InputError(f"rows [{r0}, {r1}) leave the token grid's rows 0..{h - 1}")
        if not (0 <= c0 < c1 <= w):
            raise InputError(f"cols [{c0}, {c1}) leave the token grid's cols 0..{w - 1}")
        cube[list(frames), r0:r1, c0:c1] = True
        return cube.reshape(1, total)

    def to_dict(self) -> dict:
        out: dict = {"kind": self.kind}
        if self.kind == "index":
            out["index"] = list(self.index)
        elif self.kind in ("frames", "region"):
            out.update(frames=None if self.frames is None else list(self.frames),
                       rows=None if self.rows is None else list(self.rows),
                       cols=None if self.cols is None else list(self.cols))
        elif self.kind == "mask":
            out.update(shape=list(self.mask_values[0]), on=list(self.mask_values[1]))
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Tokens:
        kind = data.get("kind", "all")
        if kind == "all":
            return cls()
        if kind == "index":
            return cls.at(data["index"])
        if kind in ("frames", "region"):
            return cls(kind, frames=_ints(data.get("frames")), rows=_ints(data.get("rows")), cols=_ints(data.get("cols")))
        if kind == "mask":
            return cls("mask", mask_values=(tuple(data["shape"]), tuple(int(i) for i in data["on"])))
        raise InputError(f"unknown token choice {kind!r}: valid are {', '.join(TOKEN_KINDS)}")


@dataclass(frozen=True)
class At:
    """Where an intervention acts.

    Attributes:
        site: a :class:`~interp.sites.Site` or its name.
        steps: denoising steps (``None``: every step the run takes).
        branch: for block sites ``cond`` or ``uncond`` (``None``: every call); for ``velocity`` and
            ``x0``, ``guided`` (the default) or one call's ``cond`` / ``uncond``; ``x_t`` has none.
        expert: the expert transformer (``None``: whichever runs).
        samples: batch rows (``None``: every sample).
        tokens: a :class:`Tokens` choice on the site's grid.
    """

    site: Site | str
    steps: tuple[int, ...] | None = None
    branch: str | None = None
    expert: str | None = None
    samples: tuple[int, ...] | None = None
    tokens: Tokens = Tokens()

    def __post_init__(self):
        site = Site.parse(self.site)
        object.__setattr__(self, "site", site)
        object.__setattr__(self, "steps", _ints(self.steps))
        object.__setattr__(self, "samples", _ints(self.samples))
        branch = self.branch
        if site.kind in ("velocity", "x0") and branch is None:
            branch = "guided"
        valid = {"x_t": (None,), "velocity": LOOP_BRANCHES, "x0": LOOP_BRANCHES}.get(site.kind, CALL_BRANCHES + (None,))
        if branch not in valid:
            shown = ", ".join("none" if b is None else b for b in valid)
            raise InputError(f"unknown branch {branch!r} for site {site}: valid are {shown}")
        object.__setattr__(self, "branch", branch)
        if self.steps is not None and not self.steps:
            raise InputError(f"no steps chosen for site {site}: give at least one step or None for all")
        if self.samples is not None and not self.samples:
            raise InputError(f"no samples chosen for site {site}: give at least one or None for all")

    def to_dict(self) -> dict:
        return {
            "site": str(self.site),
            "steps": None if self.steps is None else list(self.steps),
            "branch": self.branch,
            "expert": self.expert,
            "samples": None if self.samples is None else list(self.samples),
            "tokens": self.tokens.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> At:
        return cls(data["site"], data.get("steps"), data.get("branch"), data.get("expert"), data.get("samples"),
                   Tokens.from_dict(data.get("tokens") or {}))
