"""``capture``: sample a model and stream the requested sites into a trace store as it runs.

A capture is a run of :func:`interp.interventions.run` whose ``collect`` interventions write to
the store: any list of interventions can run alongside, and the store records them in its
provenance, so an edited run can be captured but never passes for a clean one.
"""

from __future__ import annotations

import hashlib
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from interp.capture.sink import SlabSink
from interp.capture.spec import CaptureSpec, Plan
from interp.errors import InputError
from interp.interventions import At, Collect, Intervention, run
from interp.models.base import LoopInputs, VideoModel
from interp.store import TraceStore, TraceWriter
from interp.store.layout import check_sample_ids


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


def store_spec(model: VideoModel, inputs: LoopInputs, plan: Plan, num_steps: int, shift,
               interventions: Sequence[Intervention] = ()) -> dict:
    """The spec a store records: the resolved sites, the run settings every sample shares, and
    the interventions the run applied (an empty list for a clean run)."""
    spec = plan.to_dict()
    spec["run"] = {
        "num_steps": int(num_steps),
        "shift": shift,
        "guidance_scale": float(inputs.guidance_scale) if inputs.do_guidance else 1.0,
        "guidance_scale_2": inputs.guidance_scale_2 if inputs.do_guidance else None,
        "latent_shape": list(inputs.latents.shape[1:]),
    }
    spec["interventions"] = [item.to_dict() for item in interventions]
    return spec


def input_digests(inputs: LoopInputs) -> list[str]:
    """Per batch row, a digest of everything the row's sample depends on (noise and conditioning),
    so two different inputs never share a default sample id."""
    tensors = [inputs.latents, inputs.latent_condition, *inputs.cond.values(), *(inputs.uncond or {}).values()]
    digests = []
    for b in range(inputs.batch_size):
        h = hashlib.sha256()
        for t in tensors:
            if isinstance(t, torch.Tensor) and t.ndim and t.shape[0] == inputs.batch_size:
                h.update(t[b].detach().float().cpu().numpy().tobytes())
        digests.append(h.hexdigest()[:12])
    return digests


def collect_interventions(plan: Plan) -> list[Intervention]:
    """One ``collect`` per stored site and branch of a resolved capture plan."""
    out = []
    for site in plan.sites.values():
        for branch in site.branches:
            where = At(site.name, steps=plan.steps, branch=None if site.kind == "x_t" else branch)
            out.append(Intervention(where, Collect(reduce=str(site.tokens))))
    return out


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
    interventions: Sequence[Intervention] = (),
    save_video: bool = True,
    compression: str | None = None,
    allow_nonfinite: bool = False,
    max_host_bytes: int = 2 << 30,
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
        sample_ids: one id per batch element (default ``seed<seed>-<digest of the inputs>``, so
            different inputs never share an id); an id already in the store with other inputs
            is an error.
        tasks: one task-metadata dict per batch element, stored with the sample.
        interventions: edits applied while capturing; the store records them, and appending a
            run with other interventions is refused.
        save_video: also store the decoded final video (uint8 ``[F, H, W, 3]``) per sample.
        compression: ``None``, ``"gzip"`` or ``"lzf"`` for the site datasets.
        allow_nonfinite: commit samples holding NaN or infinite values (refused by default: a run
            that produced them is broken, not a result).
        max_host_bytes: host memory the capture may hold in slabs waiting to be written.
        progress: show a progress bar over steps.

    Example:
        >>> from interp.models import WanModel                                      # doctest: +SKIP
        >>> spec = CaptureSpec.make(["resid_post", "x0"], tokens="frame_mean")      # doctest: +SKIP
        >>> capture(model, model.prepare(...), spec, "trace.h5", num_steps=20)      # doctest: +SKIP
    """
    from interp.sampling import schedule

    _, timesteps, sigmas = schedule(model, num_steps, shift, inputs)
    plan = spec.resolve(num_layers=model.num_layers, num_steps=num_steps, guidance=inputs.do_guidance)
    batch = inputs.batch_size
    seeds = list(inputs.seeds or [None] * batch)
    digests = input_digests(inputs)
    ids = list(sample_ids) if sample_ids is not None else [
        f"seed{s}-{d}" if s is not None else f"sample-{d}" for s, d in zip(seeds, digests)
    ]
    if len(ids) != batch or len(set(ids)) != batch:
        raise InputError(f"need {batch} distinct sample ids for a batch of {batch}; got {ids}")
    check_sample_ids(ids)
    if tasks is not None and len(tasks) != batch:
        raise InputError(f"need one task per batch element: got {len(tasks)} for a batch of {batch}")
    writer = TraceWriter(
        out,
        model_name=model.name,
        fingerprint=fingerprint(model),
        spec=store_spec(model, inputs, plan, num_steps, shift, interventions),
        compression=compression,
        allow_nonfinite=allow_nonfinite,
    )
    try:
        done = set(writer.completed())
        _check_same_inputs(writer.path, [(ids[b], digests[b]) for b in range(batch) if ids[b] in done])
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
                    inputs_digest=digests[b],
                )
            result, sink, timings = _run(model, inputs, plan, samples, interventions, num_steps, shift, save_video,
                                         max_host_bytes, progress)
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


def _check_same_inputs(path, found: list[tuple[str, str]]) -> None:
    """Refuse to skip a completed sample whose id matches but whose inputs differ."""
    if not found:
        return
    with TraceStore.open(path) as store:
        for sample_id, digest in found:
            stored = store.meta(sample_id).get("inputs_digest")
            if stored is not None and stored != digest:
                raise InputError(f"sample {sample_id!r} is already in {path} with other inputs "
                                 f"(digest {stored}, now {digest}): give distinct sample ids")


def _run(model, inputs, plan: Plan, samples: dict, interventions, num_steps, shift, save_video, max_host_bytes,
         progress):
    """Run the loop with the user's interventions and one ``collect`` per stored site, streaming
    every collected slab to the sample writers."""
    todo = list(samples)
    block_grid = model.token_grid(inputs.latents.shape)
    latent_grid = tuple(inputs.latents.shape[-3:])
    for sample in samples.values():
        for site in plan.sites.values():
            grid = latent_grid if site.layer is None else block_grid
            sample.set_token_grid(site.name, site.tokens.grid(grid))
    sink = SlabSink(lambda key, array: samples[key[0]].write(*key[1:], array),
                    dtype=getattr(torch, plan.dtype), max_bytes=max_host_bytes)

    def collector(site, branch, step, rows, value):
        for b in todo:
            sink.put((b, str(site), branch, step), value[rows.index(b)])

    began = time.perf_counter()
    try:
        result = run(model, inputs, [*interventions, *collect_interventions(plan)], num_steps=num_steps,
                     shift=shift, collector=collector, decode=save_video, progress=progress).result
        sampled = time.perf_counter()
    finally:
        sink.close()
    timings = {"sampling_s": sampled - began, "drain_s": time.perf_counter() - sampled,
               "put_s": sink.put_seconds, "pinned_allocations": sink.pinned_allocations}
    return result, sink, timings
