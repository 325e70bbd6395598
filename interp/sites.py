"""Site names: the one place where a site is spelled, parsed and ordered.

A site is a point of a denoising run whose value can be read or edited:

* block sites ``blocks.{l}.<kind>``, in the order they run inside block ``l``:
  ``resid_pre`` (the block's input; block 0's is the embedded input), ``attn1.out``
  (self-attention output, before its gate), ``attn2.out`` (cross-attention output),
  ``ffn.out`` (feed-forward output, before its gate), ``resid_post`` (the block's output);
* loop sites, outside the transformer: ``x_t`` (the latents entering a step), ``velocity``
  (the model's prediction) and ``x0`` (the clean estimate ``x_t - sigma * velocity``).

Within one step a run reaches ``x_t``, then every block site layer by layer, then ``velocity``
and ``x0``; :meth:`Site.order` sorts sites that way. This module imports no torch, so the CLI
can parse site names without loading a model.

Example:
    >>> Site.parse("blocks.3.resid_post")
    Site(kind='resid_post', layer=3)
    >>> str(Site("x0"))
    'x0'
    >>> [str(s) for s in sorted([Site("x0"), Site("resid_post", 1), Site("x_t"), Site("resid_pre", 1)], key=Site.order)]
    ['x_t', 'blocks.1.resid_pre', 'blocks.1.resid_post', 'x0']
    >>> [str(s) for s in expand_sites(["resid_post", "x0"], layers=[0, 2], num_layers=4)]
    ['blocks.0.resid_post', 'blocks.2.resid_post', 'x0']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from interp.errors import InputError, check_range

#: Block site kinds in the order they run inside a block.
BLOCK_KINDS = ("resid_pre", "attn1.out", "attn2.out", "ffn.out", "resid_post")
#: Loop-level sites, outside the transformer.
LOOP_KINDS = ("x_t", "velocity", "x0")
#: Guidance branches of block sites (one transformer call each).
CALL_BRANCHES = ("cond", "uncond")
#: Branches of the loop sites ``velocity`` and ``x0``: the guided combination or one call's.
LOOP_BRANCHES = ("guided",) + CALL_BRANCHES

_BLOCK_SITE = re.compile(r"^blocks\.(-?\d+)\.(.+)$")
_VALID = "blocks.{l}.<" + "|".join(BLOCK_KINDS) + ">, " + ", ".join(LOOP_KINDS)


@dataclass(frozen=True)
class Site:
    """A site: its ``kind`` and, for block sites, its ``layer``."""

    kind: str
    layer: int | None = None

    def __post_init__(self):
        if self.kind in LOOP_KINDS:
            if self.layer is not None:
                raise InputError(f"loop site {self.kind!r} has no layer (got layer {self.layer})")
        elif self.kind in BLOCK_KINDS:
            if not isinstance(self.layer, int) or self.layer < 0:
                raise InputError(f"block site {self.kind!r} needs a layer >= 0; got {self.layer!r}")
        else:
            raise InputError(f"unknown site kind {self.kind!r}: valid are {_VALID}")

    @classmethod
    def parse(cls, text: str | Site) -> Site:
        """``"blocks.3.ffn.out"`` or ``"x0"`` -> :class:`Site`; a ``Site`` passes through."""
        if isinstance(text, Site):
            return text
        text = str(text)
        if text in LOOP_KINDS:
            return cls(text)
        match = _BLOCK_SITE.match(text)
        if match and match.group(2) in BLOCK_KINDS and int(match.group(1)) >= 0:
            return cls(match.group(2), int(match.group(1)))
        raise InputError(f"unknown site {text!r}: valid are {_VALID}")

    def __str__(self) -> str:
        return self.kind if self.layer is None else f"blocks.{self.layer}.{self.kind}"

    @property
    def is_block(self) -> bool:
        return self.layer is not None

    def order(self) -> tuple:
        """Sort key: the order in which one denoising step reaches the sites."""
        if self.kind == "x_t":
            return (0, 0, 0)
        if self.is_block:
            return (1, self.layer, BLOCK_KINDS.index(self.kind))
        return (2, LOOP_KINDS.index(self.kind), 0)

    def check(self, num_layers: int) -> Site:
        """Raise :class:`InputError` unless the site exists in a model of ``num_layers`` blocks."""
        if self.is_block and not 0 <= self.layer < num_layers:
            raise InputError(f"layer {self.layer} of site {self} is out of range: choose 0..{num_layers - 1}")
        return self


def expand_sites(entries: Iterable[str], *, layers: Iterable[int] | None, num_layers: int) -> list[Site]:
    """Sites named by ``entries``: a block kind means that kind at every layer in ``layers``
    (``None``: all layers); full names and loop sites stand for themselves."""
    out = []
    for entry in entries:
        if entry in BLOCK_KINDS:
            wanted = range(num_layers) if layers is None else layers
            for layer in wanted:
                check_range("layer", int(layer), 0, num_layers - 1)
                out.append(Site(entry, int(layer)))
        else:
            out.append(Site.parse(entry).check(num_layers))
    return out


def template_kind(template: str) -> str:
    """The block site kind a site template names: ``"blocks.{layer}.attn1.out"`` -> ``"attn1.out"``.

    Example:
        >>> template_kind("blocks.{layer}.resid_post")
        'resid_post'
    """
    if "{layer}" not in template:
        raise InputError(f"site template {template!r} needs a '{{layer}}' field")
    match = _BLOCK_SITE.match(template.replace("{layer}", "0"))
    if match is None:
        raise InputError(f"site template {template!r} must look like blocks.{{layer}}.<kind>, e.g. "
                         "blocks.{layer}.resid_post")
    return match.group(2)


def site_kinds_help() -> str:
    """The valid site spellings, for help texts and error messages."""
    return _VALID
