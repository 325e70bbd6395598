"""Where each block site lives in a model: one table, read off the architecture spec."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from interp.capture.spec import Plan
from interp.models.base import VideoModel


@dataclass(frozen=True)
class Route:
    """A module whose output feeds a stored site, and the labels that module carries."""

    site: str
    kind: str
    layer: int
    expert: str
    module: nn.Module


def site_module(model: VideoModel, expert: str, layer: int, kind: str) -> nn.Module:
    """The module whose output is site ``blocks.{layer}.{kind}`` of ``expert``.

    ``resid_post`` is the block itself; ``<name>.out`` is the block's submodule that the
    architecture spec lists under ``<name>`` in ``block_sites``.
    """
    block = model.blocks(expert)[layer]
    if kind == "resid_post":
        return block
    return block.get_submodule(model.spec.block_sites[kind.removesuffix(".out")])


def block_routes(model: VideoModel, plan: Plan) -> dict[str, Route]:
    """Module path (relative to ``model``) -> :class:`Route`, for every block site of ``plan``.

    A site is routed from every expert (Wan2.2's two transformers each have block ``l``); the
    call label tells at run time which one ran.
    """
    names = {id(module): name for name, module in model.named_modules()}
    routes = {}
    for site in plan.sites.values():
        if site.layer is None:
            continue
        for expert in model.experts:
            module = site_module(model, expert, site.layer, site.kind)
            routes[names[id(module)]] = Route(site.name, site.kind, site.layer, expert, module)
    return routes
