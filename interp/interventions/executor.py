"""The one executor: run the denoising loop with a list of interventions.

Block sites are reached through hooks on the modules the sites name, loop sites through the
sampling loop's edit points; both read the call label (step, branch, expert) that the loop
sets, so an edit lands where it was asked for, never by counting calls. Everything is
validated before the first step runs. ``collect`` interventions record into an
:class:`~interp.interventions.cache.ActivationCache` (or any ``collector`` with the same
``record`` signature, such as the capture's store writer).

This is the one public way to run or observe a model: a trajectory is a ``collect`` at ``x_t``
or ``x0`` (:func:`observe` builds them; :meth:`RunResult.trajectory` reads them back as
latents), and the loop itself (:mod:`interp.sampling`) is this executor's private part.

Example:
    >>> from interp.interventions import At, Intervention, Zero, run   # doctest: +SKIP
    >>> out = run(model, inputs, [Intervention(At("blocks.3.resid_post", steps=[0]), Zero())],
    ...           num_steps=20)                                          # doctest: +SKIP
    >>> out.video.shape                                                  # doctest: +SKIP
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from interp.rows import put_rows, take_rows, to_device
from interp.tokens import latent_tokens, parse_tokens
from interp.errors import InputError, check_range
from interp.interventions.actions import Context
from interp.interventions.cache import ActivationCache
from interp.interventions.intervention import Intervention
from interp.models.base import LoopInputs, VideoModel
from interp.sampling import SampleResult, denoise, schedule
from interp.sites import Site


@dataclass
class RunResult:
    """The loop's result (latents, video, schedule) and what ``collect`` recorded."""

    result: SampleResult
    cache: ActivationCache | None = None

    @property
    def video(self):
        return self.result.video

    @property
    def latents(self):
        return self.result.latents

    @property
    def sigmas(self):
        return self.result.sigmas

    @property
    def timesteps(self):
        return self.result.timesteps

    @property
    def experts(self):
        return self.result.experts

    def trajectory(self, site: str = "x0", branch: str | None = None) -> torch.Tensor:
        """A collected loop site (``x_t``, ``x0``, ``velocity``) in latent layout, every collected
        step stacked: ``[steps, samples, C, F, H, W]`` (steps as :meth:`ActivationCache.steps` lists)."""
        return torch.stack([self.at(site, step, branch) for step in self.cache.steps(site, branch)])

    def at(self, site: str, step: int, branch: str | None = None) -> torch.Tensor:
        """A collected loop site at one step, in latent layout ``[samples, C, F, H, W]``."""
        if self.cache is None:
            raise InputError("this run collected into another collector: read its values there")
        if Site.parse(site).is_block:
            raise InputError(f"{site} is a block site: read it from .cache (token layout)")
        return token_latents(self.cache.get(site, step, branch), tuple(self.result.latents.shape[-3:])).contiguous()


def token_latents(tokens: torch.Tensor, grid: tuple[int, int, int]) -> torch.Tensor:
    """``[B, F*H*W, C]`` loop-site tokens back to latents ``[B, C, F, H, W]`` (inverse of ``latent_tokens``)."""
    b, _, c = tokens.shape
    return tokens.reshape(b, *grid, c).permute(0, 4, 1, 2, 3)


def observe(*sites: str, steps=None) -> list[Intervention]:
    """``collect`` interventions that read loop sites (default ``x0``) at ``steps`` (``None``: all)
    of a run, without changing it; their values come back in :meth:`RunResult.trajectory`."""
    from interp.interventions.actions import Collect
    from interp.interventions.where import At

    if steps is not None and len(steps) == 0:
        return []
    return [Intervention(At(site, steps=steps), Collect()) for site in (sites or ("x0",))]


@dataclass
class _Entry:
    """One intervention resolved against a run: rows, token mask, steps."""

    index: int
    site: Site
    branch: str | None
    steps: frozenset
    expert: str | None
    rows: torch.Tensor | None
    row_list: list[int] | None  # the rows as the host indexes them, with no read of a tensor per step
    mask: torch.Tensor
    full_mask: bool  # Tokens.all(): no masking (known from the choice, not by reading the mask)
    action: object
    reduce: object = None
    moved: dict = field(default_factory=dict)

    def on_device(self, device: torch.device) -> torch.Tensor:
        """The token mask on ``device``, copied there once per run (without waiting for it)."""
        if device not in self.moved:
            self.moved[device] = to_device(self.mask, device)
        return self.moved[device]


@dataclass
class _Plan:
    entries: dict[tuple[str, str | None], list[_Entry]] = field(default_factory=lambda: defaultdict(list))
    block_sites: set = field(default_factory=set)

    def find(self, site: Site, branch: str | None, step: int, expert: str) -> list[_Entry]:
        return [e for e in self.entries.get((str(site), branch), ()) if step in e.steps
                and (e.expert is None or e.expert == expert)]

    def wants(self, site: Site, branch: str | None, step: int) -> bool:
        return any(step in e.steps for e in self.entries.get((str(site), branch), ()))


def site_width(model: VideoModel, inputs: LoopInputs, site: Site) -> int:
    """Channels of a site: the transformer's inner width for blocks, latent channels for the loop."""
    if not site.is_block:
        return int(inputs.latents.shape[1])
    config = next(iter(model.experts.values())).config
    return int(config.num_attention_heads * config.attention_head_dim)


def site_grid(model: VideoModel, inputs: LoopInputs, site: Site) -> tuple[int, int, int]:
    """Token grid ``(frames, rows, cols)`` of a site."""
    return model.token_grid(inputs.latents.shape) if site.is_block else tuple(inputs.latents.shape[-3:])


def plan(model: VideoModel, inputs: LoopInputs, interventions: Sequence[Intervention], *, num_steps: int,
         start_step: int = 0, sources: dict | None = None) -> _Plan:
    """Check every intervention against the model, inputs and schedule; raise :class:`InputError` if any is bad."""
    sources = sources or {}
    batch = inputs.batch_size
    branches = ("cond", "uncond") if inputs.do_guidance else ("cond",)
    out = _Plan()
    for index, item in enumerate(interventions):
        if not isinstance(item, Intervention):
            raise InputError(f"intervention {index} is a {type(item).__name__}, not an Intervention")
        at, action = item.at, item.do
        site = at.site.check(model.num_layers)
        if site.is_block and site.kind not in model.spec.site_kinds:
            raise InputError(f"intervention {index}: site {site} does not exist in {model.spec.family} models; "
                             f"their block sites are {', '.join(model.spec.site_kinds)}")
        steps = range(start_step, num_steps) if at.steps is None else at.steps
        for step in steps:
            check_range(f"step of intervention {index} at {site}", step, start_step, num_steps - 1)
        if at.branch in ("cond", "uncond") and at.branch not in branches:
            raise InputError(f"intervention {index} at {site} asks for branch {at.branch!r}: this run has "
                             f"{', '.join(branches)} (guidance is {'on' if inputs.do_guidance else 'off'})")
        if at.expert is not None and at.expert not in model.experts:
            raise InputError(f"unknown expert {at.expert!r}: this model has {', '.join(model.experts)}")
        rows = at.samples
        if rows is not None:
            for row in rows:
                check_range(f"sample of intervention {index}", row, 0, batch - 1)
        num_rows = batch if rows is None else len(rows)
        mask = at.tokens.mask(site_grid(model, inputs, site), num_rows)
        reduce = None
        if not action.edits:
            reduce = parse_tokens(action.reduce)
            if at.tokens.kind != "all":
                raise InputError(f"collect at {site} takes every token; reduce them with reduce='pool:K' etc.")
        branch_list = branches if (site.is_block and at.branch is None) else (at.branch,)
        for branch in branch_list:
            action.check(width=site_width(model, inputs, site), num_rows=num_rows, batch=batch, sources=sources,
                         site=site, grid=site_grid(model, inputs, site), steps=tuple(steps),
                         branch="guided" if branch is None else branch)
            out.entries[(str(site), branch)].append(_Entry(
                index, site, branch, frozenset(steps), at.expert,
                None if rows is None else torch.tensor(rows, dtype=torch.long), None if rows is None else list(rows),
                mask, at.tokens.kind == "all", action, reduce))
        if site.is_block:
            out.block_sites.add(site)
    return out


class _Executor:
    """Applies a plan's entries to the values flowing through one run."""

    def __init__(self, model, inputs, the_plan: _Plan, sources, collector):
        self.model, self.plan, self.sources, self.collector = model, the_plan, sources, collector
        self.grids = {}
        self.inputs = inputs
        self.x_t = None  # the latents entering the step, while a loop site is edited

    def apply(self, site: Site, branch: str | None, step: int, expert: str, tokens: torch.Tensor) -> torch.Tensor:
        """Apply every matching entry, in list order, to ``tokens`` ``[B, T, D]``."""
        grid = self.grids.setdefault(site, site_grid(self.model, self.inputs, site))
        x_t = None
        for entry in self.plan.find(site, branch, step, expert):
            rows = entry.row_list
            x = tokens if rows is None else take_rows(tokens, rows)
            if not entry.action.edits:
                label = "guided" if branch is None else branch
                self.collector(site, label, step, list(range(tokens.shape[0]) if rows is None else rows),
                               entry.reduce.apply(x, grid))
                continue
            row_ids = torch.arange(tokens.shape[0]) if entry.rows is None else entry.rows
            if x_t is None and not site.is_block and self.x_t is not None:
                x_t = latent_tokens(self.x_t)[0]
            mask = entry.on_device(tokens.device)
            ctx = Context(site, step, branch, expert, row_ids, tokens, self.sources, grid, mask, x_t)
            new = entry.action(x, ctx).to(tokens.dtype)
            if not entry.full_mask:
                new = torch.where(mask[..., None], new, x)
            if rows is None:
                tokens = new.contiguous()
            else:
                tokens = put_rows(tokens, rows, new.contiguous())
        return tokens

    # --- block sites: module hooks ----------------------------------------------------------
    def _on_block(self, site: Site, value: torch.Tensor) -> torch.Tensor:
        label = self.model.current_call
        if label is None:
            raise RuntimeError(f"{site} ran outside a labelled transformer call")
        chunks = label.chunks
        if len(chunks) == 1:
            return self.apply(site, chunks[0], label.step, label.expert, value)
        # A batched guidance call: each equal chunk of the batch is one branch.
        parts = value.chunk(len(chunks))
        new = [self.apply(site, branch, label.step, label.expert, part) for branch, part in zip(chunks, parts)]
        if all(n is p for n, p in zip(new, parts)):
            return value
        return torch.cat(new)

    def install(self) -> list:
        handles = []
        for site in self.plan.block_sites:
            for expert in self.model.experts:
                module = self.model.site_module(site, expert)
                if site.kind == "resid_pre":
                    handles.append(module.register_forward_pre_hook(self._pre_hook(site), with_kwargs=True))
                else:
                    handles.append(module.register_forward_hook(self._post_hook(site)))
        return handles

    def _pre_hook(self, site):
        def hook(module, args, kwargs):
            if args:
                return (self._on_block(site, args[0]), *args[1:]), kwargs
            kwargs = dict(kwargs, hidden_states=self._on_block(site, kwargs["hidden_states"]))
            return args, kwargs
        return hook

    def _post_hook(self, site):
        def hook(module, args, output):
            if isinstance(output, tuple):
                return (self._on_block(site, output[0]), *output[1:])
            return self._on_block(site, output)
        return hook

    # --- loop sites: the sampling loop's edit points ----------------------------------------
    def wants(self, kind: str, branch: str | None, step: int) -> bool:
        return self.plan.wants(Site(kind), branch, step)

    def edit(self, kind: str, branch: str | None, step: int, expert: str, value: torch.Tensor,
             x_t: torch.Tensor | None = None) -> torch.Tensor:
        tokens, grid = latent_tokens(value)
        self.x_t = x_t
        edited = self.apply(Site(kind), branch, step, expert, tokens)
        if edited is tokens:
            return value
        return token_latents(edited, grid).contiguous()


def run(
    model: VideoModel,
    inputs: LoopInputs,
    interventions: Sequence[Intervention] = (),
    *,
    num_steps: int = 50,
    shift: float | None = None,
    start_step: int = 0,
    end_step: int | None = None,
    sources: dict | None = None,
    collector: Callable | None = None,
    decode: bool = True,
    progress: bool = True,
    start_layer: int = 0,
    start_residual: dict | None = None,
) -> RunResult:
    """Sample ``inputs`` with ``interventions`` applied, in list order at each site.

    Args:
        model, inputs: the adapter and ``model.prepare(...)``'s output; with ``start_step = s``,
            ``inputs.latents`` is the state x_s entering step ``s`` (e.g. a saved ``x_t``).
        interventions: :class:`~interp.interventions.Intervention` s.
        num_steps, shift: the schedule.
        start_step: the first step to run (earlier steps are taken as done).
        end_step: stop before this step (``None``: run every step).
        sources: name -> activation source for ``patch`` (an :class:`ActivationCache`, a
            :class:`~interp.store.StoreSource`).
        collector: where ``collect`` records go (default: a new :class:`ActivationCache`).
        decode: decode the final latents to a uint8 video.
        progress: show a tqdm bar over steps.
        start_layer, start_residual: at ``start_step``, skip blocks ``0..start_layer-1`` and feed
            block ``start_layer`` ``start_residual[branch]`` ``[B, T, D]`` instead: its input in a
            run of the same inputs (a saved ``blocks.{start_layer}.resid_pre``). The blocks skipped
            would have computed exactly that, so the result is the full forward's.
    """
    sources = dict(sources or {})
    check_range("start_step", start_step, 0, num_steps - 1)
    schedule(model, num_steps, shift, inputs)  # validates num_steps and shift before anything runs
    last = num_steps if end_step is None else end_step
    the_plan = plan(model, inputs, interventions, num_steps=last, start_step=start_step, sources=sources)
    cache = None
    if collector is None:
        cache = collector = ActivationCache()
    executor = _Executor(model, inputs, the_plan, sources, collector)
    handles = _start_at_layer(model, start_layer, start_residual, start_step, inputs) + executor.install()
    try:
        result = denoise(model, inputs, num_steps=num_steps, shift=shift, start_step=start_step, end_step=end_step,
                         edits=executor, decode=decode, progress=progress)
    finally:
        for handle in handles:
            handle.remove()
    return RunResult(result, cache)


def _start_at_layer(model: VideoModel, layer: int, residual: dict | None, step: int, inputs: LoopInputs) -> list:
    """Hooks that, at ``step``, run each expert's blocks from ``layer`` on ``residual[branch]``.

    The expert's block list is shortened for that call only (a pre-hook on the expert swaps it
    and a hook restores it); a pre-hook on block ``layer``, placed before any intervention's
    hook, replaces the patch embedding's output by the saved residual.
    """
    if layer == 0 and residual is None:
        return []
    check_range("start_layer", layer, 1, model.num_layers - 1)
    if not model.spec.single_stream or len(model.spec.block_lists) != 1:
        raise InputError(f"start_layer needs one list of single-stream blocks; {model.spec.family}'s blocks "
                         f"{model.spec.block_lists} are not (ArchitectureSpec.single_stream)")
    branches = ("cond", "uncond") if inputs.do_guidance else ("cond",)
    if residual is None or sorted(residual) != sorted(branches):
        raise InputError(f"start_residual must map each branch ({', '.join(branches)}) to a tensor")
    path = model.spec.block_lists[0]
    handles = []

    def now() -> bool:
        label = model.current_call
        return label is not None and label.step == step

    for name, expert in model.experts.items():
        parent = expert.get_submodule(path.rpartition(".")[0]) if "." in path else expert
        attr = path.rpartition(".")[2]
        full = getattr(parent, attr)

        def shorten(module, args, parent=parent, attr=attr, full=full):
            if now():
                parent._modules[attr] = torch.nn.ModuleList(list(full)[layer:])

        def restore(module, args, output, parent=parent, attr=attr, full=full):
            parent._modules[attr] = full

        def feed(module, args, kwargs):
            if not now():
                return None
            label = model.current_call
            value = residual[label.branch] if label.branch else torch.cat([residual[b] for b in label.branches])
            hidden = args[0] if args else kwargs["hidden_states"]
            if value.shape != hidden.shape:
                raise InputError(f"start_residual has shape {tuple(value.shape)}; block {layer} takes "
                                 f"{tuple(hidden.shape)}")
            value = value.to(device=hidden.device, dtype=hidden.dtype)
            if args:
                return (value, *args[1:]), kwargs
            return args, dict(kwargs, hidden_states=value)

        handles.append(expert.register_forward_pre_hook(shorten))
        handles.append(expert.register_forward_hook(restore, always_call=True))
        handles.append(full[layer].register_forward_pre_hook(feed, with_kwargs=True, prepend=True))
    return handles
