"""``capture``: sample a model and stream the requested sites into a trace store as it runs."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from interp.capture.sink import SlabSink
from interp.capture.sites import Route, block_routes
from interp.capture.spec import CaptureSpec, Plan
from interp.capture.tokens import latent_tokens
from interp.capture.traced import Edit, traced_sample
from interp.errors import InputError
from interp.models.base import LoopInputs, VideoModel
from interp.store import TraceWriter


@dataclass
class CaptureResult:
    """What a capture did: the samples it wrote, those it found already complete, the loop's result."""

    path: Path
    written: list[str]
    skipped: list[str]
    result: object | None = None
    bytes_written: int = 0
    plan: Plan | None = field(default=None, repr=False)
    timings: dict = field(default_factory=dict)


_FINGERPRINTS: "weakref.WeakKeyDictionary[VideoModel, tuple[tuple, str]]" = weakref.WeakKeyDictionary()


def fingerprint(model: VideoModel) -> str:
    """``model.fingerprint()``, recomputed only when a parameter was replaced or changed in place.

    Hashing samples of every weight costs a device sync per tensor on a GPU; a capture per sample
    would pay it every time. ``Tensor._version`` counts in-place updates, so the cache key changes
    with any optimiser step or edit of the weights.
    """
    key = tuple((p.data_ptr(), p._version) for p in model.parameters())
    cached = _FINGERPRINTS.get(model)
    if cached is None or cached[0] != key:
        cached = (key, model.fingerprint())
        _FINGERPRINTS[model] = cached
    return cached[1]


def store_spec(model: VideoModel, inputs: LoopInputs, plan: Plan, num_steps: int, shift) -> dict:
    """The spec a store records: the resolved sites plus the run settings every sample shares."""
    spec = plan.to_dict()
    spec["run"] = {
        "num_steps": int(num_steps),
        "shift": shift,
        "guidance_scale": float(inputs.guidance_scale) if inputs.do_guidance else 1.0,
        "guidance_scale_2": inputs.guidance_scale_2 if inputs.do_guidance else None,
        "latent_shape": list(inputs.latents.shape[1:]),
        "guidance_layout": model.spec.guidance_layout,
    }
    return spec


def capture(
    model: VideoModel,
    inputs: LoopInputs,
    spec: CaptureSpec,
    out: str | Path,
    *,
    num_steps: int = 50,
    shift: float | None = None,
    sample_ids: Sequence[str] | None = None,
    tasks: Sequence[dict] | None = None,
    edits: Sequence[Edit] = (),
    save_video: bool = True,
    compression: str | None = None,
    max_host_bytes: int = 2 << 30,
    on_step: Callable | None = None,
    progress: bool = True,
) -> CaptureResult:
    """Sample ``inputs`` with ``model`` and write the sites of ``spec`` to the store ``out``.

    Each batch element becomes one sample of the store. Samples already complete in ``out`` are
    skipped (a batch whose samples are all complete is not run at all); appending to a store
    written by another model or spec raises :class:`~interp.errors.InputError` before anything
    is written.

    Args:
        model: a :class:`~interp.models.VideoModel`.
        inputs: from ``model.prepare(...)``.
        spec: what to capture.
        out: the store's index file.
        num_steps, shift: the sampling schedule.
        sample_ids: one id per batch element (default ``seed<seed>``).
        tasks: one task-metadata dict per batch element, stored with the sample.
        edits: site edits applied while capturing (see :class:`~interp.capture.Edit`).
        save_video: also store the decoded final video (uint8 ``[F, H, W, 3]``) per sample.
        compression: ``None``, ``"gzip"`` or ``"lzf"`` for the site datasets.
        max_host_bytes: host memory the capture may hold in slabs waiting to be written.
        on_step: also called with each :class:`~interp.sampling.StepState`.
        progress: show a progress bar over steps.

    Example:
        >>> from interp.models import WanModel                                      # doctest: +SKIP
        >>> spec = CaptureSpec.make(["resid_post", "x0"], tokens="frame_mean")      # doctest: +SKIP
        >>> capture(model, model.prepare(...), spec, "trace.h5", num_steps=20)      # doctest: +SKIP
    """
    from interp.sampling import schedule

    _, timesteps, sigmas = schedule(model, num_steps, shift)
    plan = spec.resolve(num_layers=model.num_layers, num_steps=num_steps, guidance=inputs.do_guidance)
    batch = inputs.batch_size
    seeds = list(inputs.seeds or [None] * batch)
    ids = list(sample_ids) if sample_ids is not None else [
        f"seed{s}" if s is not None else f"sample{b}" for b, s in enumerate(seeds)
    ]
    if len(ids) != batch or len(set(ids)) != batch:
        raise InputError(f"need {batch} distinct sample ids for a batch of {batch}; got {ids}")
    if tasks is not None and len(tasks) != batch:
        raise InputError(f"need one task per batch element: got {len(tasks)} for a batch of {batch}")
    writer = TraceWriter(
        out,
        model_name=model.name,
        fingerprint=fingerprint(model),
        spec=store_spec(model, inputs, plan, num_steps, shift),
        compression=compression,
    )
    try:
        done = set(writer.completed())
        todo = [b for b in range(batch) if ids[b] not in done]
        skipped = [ids[b] for b in range(batch) if ids[b] in done]
        if not todo:
            return CaptureResult(writer.path, [], skipped, plan=plan)
        samples = {}
        try:
            for b in todo:
                samples[b] = writer.begin(
                    ids[b], seed=seeds[b], task=(tasks[b] if tasks is not None else {}),
                    num_steps=num_steps, shift=shift, guidance_scale=writer.spec["run"]["guidance_scale"],
                )
            result, sink, timings = _run(model, inputs, plan, samples, edits, num_steps, shift, save_video,
                                         max_host_bytes, on_step, progress)
            began = time.perf_counter()
            steps = list(plan.steps)
            for b, sample in samples.items():
                sample.set_schedule(
                    sigmas=np.asarray(result.sigmas)[steps],
                    timesteps=np.asarray(result.timesteps)[steps],
                    experts=[result.experts[s] for s in steps],
                    all_sigmas=np.asarray(result.sigmas),
                )
                if save_video and result.video is not None:
                    sample.file.create_dataset("video", data=result.video[b], compression="gzip")
                sample.commit()
            timings["commit_s"] = time.perf_counter() - began
        except BaseException:
            for sample in samples.values():
                if sample.file.id.valid:
                    sample.abort()
            raise
        return CaptureResult(writer.path, [ids[b] for b in todo], skipped, result, sink.bytes_written, plan, timings)
    finally:
        writer.close()


def _run(model, inputs, plan: Plan, samples: dict, edits, num_steps, shift, save_video, max_host_bytes,
         on_step, progress):
    """Run the loop under nnsight, streaming every requested slab to the sample writers."""
    todo = list(samples)
    steps = set(plan.steps)
    block_grid = model.token_grid(inputs.latents.shape)
    latent_grid = tuple(inputs.latents.shape[-3:])
    for b, sample in samples.items():
        for site in plan.sites.values():
            grid = latent_grid if site.layer is None else block_grid
            sample.set_token_grid(site.name, site.tokens.grid(grid))
    sink = SlabSink(lambda key, array: samples[key[0]].write(*key[1:], array),
                    dtype=getattr(torch, plan.dtype), max_bytes=max_host_bytes)
    batched = model.spec.guidance_layout == "batched"
    batch = inputs.batch_size

    def put(site, branch, step, tokens):
        for b in todo:
            sink.put((b, site.name, branch, step), tokens[b])

    def on_block(route: Route, value: torch.Tensor) -> None:
        label = model.current_call
        if label is None or label.expert != route.expert:
            raise RuntimeError(f"{route.site} of {route.expert} ran outside a labelled call ({label})")
        if label.step not in steps:
            return
        site = plan.sites[route.site]
        parts = {"uncond": value[:batch], "cond": value[batch:]} if batched else {label.branch: value}
        for branch, part in parts.items():
            if branch in site.branches:
                put(site, branch, label.step, site.tokens.apply(part, block_grid))

    loop_sites = [s for s in plan.sites.values() if s.layer is None]

    def on_loop_step(state) -> None:
        if on_step is not None:
            on_step(state)
        if state.step not in steps:
            return
        velocities = {"guided": state.velocity, "cond": state.velocity_cond, "uncond": state.velocity_uncond}
        for site in loop_sites:
            for branch in site.branches:
                if site.kind == "x_t":
                    value = state.x_t
                elif site.kind == "velocity":
                    value = velocities[branch]
                else:
                    value = state.x0 if branch == "guided" else state.x_t - state.sigma * velocities[branch].to(state.x_t.dtype)
                tokens, _ = latent_tokens(value)
                put(site, branch, state.step, site.tokens.apply(tokens, latent_grid))

    routes = block_routes(model, plan)
    began = time.perf_counter()
    try:
        result = traced_sample(
            model, inputs, routes=routes, callback=on_block, edits=edits, num_steps=num_steps, shift=shift,
            on_step=on_loop_step if (loop_sites or on_step) else None, decode=save_video, progress=progress,
        )
        sampled = time.perf_counter()
    finally:
        sink.close()
    timings = {"sampling_s": sampled - began, "drain_s": time.perf_counter() - sampled,
               "put_s": sink.put_seconds, "pinned_allocations": sink.pinned_allocations}
    return result, sink, timings


