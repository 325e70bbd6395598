"""Run the denoising loop under nnsight: stream chosen sites out, and edit sites in place.

Both mechanisms run inside one ``nnsight`` trace of the whole loop (the :class:`VideoModel` is
an ``nn.Module`` whose forward is the loop):

* **observing** uses nnsight's cache mechanism (an observer the interleaver feeds every output of
  the selected modules, after interventions), but hands each value to a callback instead of
  keeping it, so nothing accumulates in memory;
* **editing** sets a site's output at one (step, branch) through ``envoy.output = ...`` in the
  trace body, at the module call that (step, branch) maps to. The call is computed from the
  schedule and checked against :attr:`VideoModel.current_call` when it runs, so an edit can
  never land on the wrong step silently.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from nnsight import NNsight
from nnsight.intervention.cache import Cache
from nnsight.intervention.interleaver import Mediator

from interp.capture.sites import Route, site_module
from interp.capture.spec import BLOCK_KINDS, BLOCK_SITE, RUN_ORDER
from interp.errors import InputError, check_choice, check_range
from interp.models.base import CallLabel, VideoModel

_WRAPPED: "weakref.WeakKeyDictionary[VideoModel, NNsight]" = weakref.WeakKeyDictionary()


def wrap(model: VideoModel) -> NNsight:
    """The model wrapped by ``nnsight.NNsight`` (wrapped once, then reused)."""
    if model not in _WRAPPED:
        _WRAPPED[model] = NNsight(model)
    return _WRAPPED[model]


class StreamingObserver(Cache):
    """An nnsight cache that forwards each observed output to ``callback(route, value)``."""

    def __init__(self, envoy, routes: dict[str, Route], callback: Callable[[Route, torch.Tensor], None]) -> None:
        paths = {f"{envoy.path}.{name}": route for name, route in routes.items()}
        super().__init__(envoy, modules=list(paths), include_output=True)
        self.routes = paths
        self.callback = callback

    def observe_selected(self, selected, value) -> None:
        self.callback(self.routes[selected[0]], value)


@dataclass(frozen=True)
class Edit:
    """Set one block site at one denoising step and guidance branch.

    Attributes:
        site: a block site, ``blocks.{l}.resid_post`` / ``attn1.out`` / ``attn2.out`` / ``ffn.out``.
        step: denoising step (0-based).
        branch: ``cond`` or ``uncond``.
        tokens: token indices to set (``None``: all tokens).
        value: replacement for the selected tokens, broadcast to ``[B, T_sel, D]``; or
        fn: a function mapping the selected tokens ``[B, T_sel, D]`` to their replacement.

    Example:
        >>> Edit("blocks.1.resid_post", step=3, branch="cond", tokens=[0, 1], value=0.0)
        Edit(site='blocks.1.resid_post', step=3, branch='cond', tokens=[0, 1], value=0.0, fn=None)
    """

    site: str
    step: int
    branch: str = "cond"
    tokens: Sequence[int] | None = None
    value: torch.Tensor | float | None = None
    fn: Callable[[torch.Tensor], torch.Tensor] | None = None

    @property
    def layer_kind(self) -> tuple[int, str]:
        match = BLOCK_SITE.match(self.site)
        if not match or match.group(2) not in BLOCK_KINDS:
            raise InputError(f"cannot edit site {self.site!r}: valid are blocks.{{l}}.<{'|'.join(BLOCK_KINDS)}>")
        return int(match.group(1)), match.group(2)

    def apply(self, output: torch.Tensor, rows: slice) -> torch.Tensor:
        """A copy of ``output`` ``[B, T, D]`` with this edit applied to batch rows ``rows``."""
        edited = output.clone()
        part = edited[rows]  # a view: writing into it writes into ``edited``
        index = slice(None) if self.tokens is None else torch.as_tensor(self.tokens, device=output.device)
        if self.fn is not None:
            new = self.fn(part[:, index])
        else:
            new = torch.as_tensor(self.value, device=output.device)
        part[:, index] = new.to(output.dtype).expand_as(part[:, index])
        return edited


def _plan_edits(model: VideoModel, inputs, edits: Sequence[Edit], num_steps: int, shift) -> list[tuple]:
    """Each edit with its module, expected call label, batch rows and call occurrence, in run order."""
    from interp.sampling import schedule

    _, timesteps, _ = schedule(model, num_steps, shift)
    experts = [model.expert_for(t) for t in timesteps]
    branches = ("cond", "uncond") if inputs.do_guidance else ("cond",)
    sequential = model.spec.guidance_layout == "sequential"
    calls_per_step = len(branches) if sequential else 1
    names = {id(m): n for n, m in model.named_modules()}
    planned, seen = [], set()
    for edit in edits:
        if edit.value is None and edit.fn is None:
            raise InputError(f"edit of {edit.site} at step {edit.step} needs a value or a fn")
        layer, kind = edit.layer_kind
        check_range("layer", layer, 0, model.num_layers - 1)
        check_range("step", edit.step, 0, num_steps - 1)
        check_choice("branch", edit.branch, branches)
        expert = experts[edit.step]
        before = sum(e == expert for e in experts[: edit.step])
        occurrence = before * calls_per_step + (branches.index(edit.branch) if sequential else 0)
        batch = inputs.batch_size
        rows = slice(None) if sequential else (slice(batch, None) if edit.branch == "cond" else slice(0, batch))
        label = CallLabel(edit.step, edit.branch if sequential else "uncond+cond", expert)
        key = (edit.step, edit.branch if sequential else "both", edit.site)  # batched: one call per step
        if key in seen:
            raise InputError(f"{edit.site} is edited twice in one call at step {edit.step}: combine the edits")
        seen.add(key)
        module = site_module(model, expert, layer, kind)
        order = (edit.step, branches.index(edit.branch), layer, RUN_ORDER.index(kind))
        planned.append((order, names[id(module)], label, rows, occurrence, edit))
    planned.sort(key=lambda item: item[0])
    return [item[1:] for item in planned]


def traced_sample(
    model: VideoModel,
    inputs,
    *,
    routes: dict[str, Route] | None = None,
    callback: Callable[[Route, torch.Tensor], None] | None = None,
    edits: Sequence[Edit] = (),
    num_steps: int = 50,
    shift: float | None = None,
    **sampling,
):
    """:func:`interp.sampling.sample` under an nnsight trace, observing ``routes`` and applying ``edits``.

    Returns the :class:`~interp.sampling.SampleResult`.
    """
    planned = _plan_edits(model, inputs, edits, num_steps, shift)
    wrapped = wrap(model)
    with wrapped.trace(inputs, num_steps=num_steps, shift=shift, **sampling) as tracer:
        if routes:
            Mediator.current("capture").caches.append(StreamingObserver(wrapped, routes, callback))
        for path, label, rows, occurrence, edit in planned:
            envoy = _envoy(wrapped, path)
            for _ in tracer.iter[occurrence]:
                output = envoy.output  # waits for the call; only then is current_call set
                if model.current_call != label:
                    raise RuntimeError(f"edit of {edit.site} expected call {label}, reached {model.current_call}")
                envoy.output = edit.apply(output, rows)
        result = wrapped.output.save()
    return result


def _envoy(wrapped, path: str):
    node = wrapped
    for part in path.split("."):
        node = node[int(part)] if part.isdigit() else getattr(node, part)
    return node
