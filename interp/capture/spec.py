"""What to capture: sites, layers, steps, branches, tokens and storage dtype.

Site names are those of :mod:`interp.sites`: ``blocks.{l}.resid_pre`` / ``resid_post`` /
``attn1.out`` / ``attn2.out`` / ``ffn.out`` and the loop-level ``x_t``, ``velocity`` and ``x0``.

A :class:`CaptureSpec` is a list of :class:`SiteGroup` s (sites x layers x token selection) plus
the steps, branches and dtype shared by all of them, so one capture can keep every block
pooled per frame and a few blocks in full. :meth:`CaptureSpec.resolve` checks it against a
model and a schedule and names every stored site.

Example:
    >>> spec = CaptureSpec.make(sites=["resid_post", "x0"], layers=[0, 1], steps=[0, 5])
    >>> sorted(spec.resolve(num_layers=2, num_steps=10, guidance=True).sites)
    ['blocks.0.resid_post', 'blocks.1.resid_post', 'x0']
    >>> spec.resolve(num_layers=2, num_steps=10, guidance=True).sites["x0"].branches
    ('guided', 'cond')
    >>> CaptureSpec.make(layers=[7]).resolve(num_layers=2, num_steps=10, guidance=False)
    Traceback (most recent call last):
    ...
    interp.errors.InputError: layer 7 is out of range: choose 0..1
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from interp.tokens import TokenSelection, parse_tokens
from interp.errors import InputError, check_choice, check_range
from interp.sites import BLOCK_KINDS, CALL_BRANCHES, LOOP_BRANCHES, LOOP_KINDS, expand_sites

LOOP_SITES = LOOP_KINDS
DTYPES = ("float16", "float32")


@dataclass(frozen=True)
class SiteGroup:
    """Sites captured with one token selection.

    Attributes:
        sites: block site kinds (``resid_pre``, ``resid_post``, ``attn1.out``, ``attn2.out``, ``ffn.out``), full
            block site names (``blocks.3.resid_post``) or loop sites (``x_t``, ``velocity``, ``x0``).
        layers: blocks for the kinds (``None``: all blocks); ignored by full names and loop sites.
        tokens: ``all``, ``stride:N``, ``frame_mean`` or ``pool:K`` (see :mod:`interp.tokens`).
    """

    sites: tuple[str, ...] = ("resid_post", "x0")
    layers: tuple[int, ...] | None = None
    tokens: str = "all"


@dataclass(frozen=True)
class SitePlan:
    """One stored site: where it comes from and how it is reduced."""

    name: str
    kind: str
    layer: int | None
    tokens: TokenSelection
    branches: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "layer": self.layer, "tokens": str(self.tokens), "branches": list(self.branches)}


@dataclass(frozen=True)
class Plan:
    """A spec checked against a model: every stored site, the captured steps, the dtype."""

    sites: dict[str, SitePlan]
    steps: tuple[int, ...]
    dtype: str
    spec: CaptureSpec

    def to_dict(self) -> dict:
        return {
            "sites": {name: plan.to_dict() for name, plan in self.sites.items()},
            "steps": list(self.steps),
            "dtype": self.dtype,
            "request": self.spec.to_dict(),
        }


@dataclass(frozen=True)
class CaptureSpec:
    """What a capture records; see the module docstring.

    Attributes:
        groups: the site groups.
        steps: denoising steps to capture (``None``: every step).
        branches: guidance branches of block sites (``cond``, ``uncond``); ``x0`` and
            ``velocity`` always store ``guided`` and also the per-branch values listed here.
        dtype: storage dtype, ``float16`` or ``float32``.
    """

    groups: tuple[SiteGroup, ...] = (SiteGroup(),)
    steps: tuple[int, ...] | None = None
    branches: tuple[str, ...] = ("cond",)
    dtype: str = "float16"

    @classmethod
    def make(
        cls,
        sites: Sequence[str] = ("resid_post", "x0"),
        *,
        layers: Iterable[int] | None = None,
        tokens: str = "all",
        steps: Iterable[int] | None = None,
        branches: Sequence[str] = ("cond",),
        dtype: str = "float16",
    ) -> CaptureSpec:
        """A spec with a single site group."""
        group = SiteGroup(tuple(sites), None if layers is None else tuple(int(i) for i in layers), tokens)
        return cls((group,), None if steps is None else tuple(int(s) for s in steps), tuple(branches), dtype)

    def with_group(self, sites: Sequence[str], *, layers: Iterable[int] | None = None, tokens: str = "all") -> CaptureSpec:
        """A copy with one more site group (e.g. a few blocks in full next to pooled ones)."""
        group = SiteGroup(tuple(sites), None if layers is None else tuple(int(i) for i in layers), tokens)
        return replace(self, groups=self.groups + (group,))

    def to_dict(self) -> dict:
        return {
            "groups": [
                {"sites": list(g.sites), "layers": None if g.layers is None else list(g.layers), "tokens": g.tokens}
                for g in self.groups
            ],
            "steps": None if self.steps is None else list(self.steps),
            "branches": list(self.branches),
            "dtype": self.dtype,
        }

    @classmethod
    def from_dict(cls, data: dict) -> CaptureSpec:
        groups = tuple(
            SiteGroup(tuple(g["sites"]), None if g["layers"] is None else tuple(g["layers"]), g["tokens"])
            for g in data["groups"]
        )
        steps = None if data["steps"] is None else tuple(data["steps"])
        return cls(groups, steps, tuple(data["branches"]), data["dtype"])

    def resolve(self, *, num_layers: int, num_steps: int, guidance: bool) -> Plan:
        """Check the spec against a model with ``num_layers`` blocks and a ``num_steps`` schedule.

        Raises:
            InputError: an unknown site, branch, dtype or token selection; a layer or step out of
                range; ``uncond`` without guidance; a site requested twice.
        """
        check_choice("dtype", self.dtype, DTYPES)
        for branch in self.branches:
            check_choice("branch", branch, LOOP_BRANCHES)
        if "uncond" in self.branches and not guidance:
            raise InputError("branch 'uncond' needs classifier-free guidance (guidance_scale > 1)")
        block_branches = tuple(b for b in CALL_BRANCHES if b in self.branches)
        loop_branches = ("guided",) + block_branches
        steps = tuple(range(num_steps)) if self.steps is None else tuple(sorted(set(int(s) for s in self.steps)))
        for step in steps:
            check_range("step", step, 0, num_steps - 1)
        if not steps:
            raise InputError(f"no steps selected (steps={list(self.steps or [])}, num_steps={num_steps}): give at least one step")
        sites: dict[str, SitePlan] = {}
        for group in self.groups:
            tokens = parse_tokens(group.tokens)
            for site in expand_sites(group.sites, layers=group.layers, num_layers=num_layers):
                name, kind, layer = str(site), site.kind, site.layer
                if kind in LOOP_SITES:
                    branches = ("guided",) if kind == "x_t" else loop_branches
                else:
                    branches = block_branches
                    if not branches:
                        raise InputError(f"site {name} needs branch cond or uncond; got {list(self.branches)}")
                if name in sites:
                    raise InputError(f"site {name} is requested twice: give each site in one group only")
                sites[name] = SitePlan(name, kind, layer, tokens, branches)
        if not sites:
            raise InputError("no sites selected: give at least one site")
        return Plan(sites, steps, self.dtype, self)


def parse_int_list(text: str, what: str = "value") -> tuple[int, ...]:
    """Parse ``"0,2,5-7"`` into ``(0, 2, 5, 6, 7)``; ``InputError`` names the bad part
    (:func:`interp.validate.parse_ints` with no bound but the largest seed).

    Example:
        >>> parse_int_list("0,2,5-7")
        (0, 2, 5, 6, 7)
    """
    from interp.validate import parse_ints

    return parse_ints(text, what)
