"""Run a seed ensemble: K seeds up to the last merge step, then each group's reference seed alone.

Example:
    >>> import numpy as np
    >>> from interp.organism.tiny import tiny_organism
    >>> from interp.tasks import generate_maze, render_maze
    >>> model, _ = tiny_organism()
    >>> frame = render_maze(generate_maze(5, seed=0), upto=0, px_per_unit=2)
    >>> inputs = model.prepare(first_frame=np.repeat(frame[None], 3, axis=0), seeds=[0, 1, 2])
    >>> out = ensemble_run(model, inputs, k=3, operator="x0_renoise", steps=[1], num_steps=4)
    >>> out.video.shape[0], out.nfe
    (1, 8)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from interp.errors import InputError, check_range
from interp.ensemble.nfe import ensemble_nfe
from interp.ensemble.operators import check_merge, merge_interventions, seed_groups


@dataclass
class EnsembleResult:
    """One merged trajectory per group: final latents, decoded video, and NFE per group."""

    latents: torch.Tensor
    video: np.ndarray | None
    nfe: int
    groups: list[tuple[int, ...]]
    reference_rows: list[int]


def ensemble_run(model, inputs, *, k: int, operator: str, steps: Sequence[int], num_steps: int,
                 shift: float | None = None, ref: int = 0, start_step: int = 0, interventions=(),
                 decode: bool = True, progress: bool = False) -> EnsembleResult:
    """Merge each group of ``k`` consecutive rows of ``inputs`` with ``operator`` at ``steps``.

    Args:
        model, inputs: an adapter and ``model.prepare(...)`` with ``k`` seeds per prompt or maze,
            laid out item by item (rows ``i*k .. i*k+k-1`` are item ``i``'s seeds).
        k, operator, steps: group size, a name of :data:`~interp.ensemble.OPERATORS`, merge steps.
        start_step: ``inputs.latents`` is the state entering this step (a saved x_t, to share
            the seeds' unmerged prefix between settings); merge steps must not precede it.
        interventions: further interventions for both phases (e.g. ``collect``).
    """
    check_merge(operator, k, steps, num_steps, ref)
    if inputs.batch_size % k:
        raise InputError(f"the batch has {inputs.batch_size} rows: not a multiple of k={k} seeds per item")
    for step in steps:
        check_range("merge step", step, start_step, num_steps - 1)
    groups = seed_groups(inputs.batch_size // k, k)
    last = max(steps)
    from interp.interventions import run

    merges = merge_interventions(model, operator, groups, steps=steps, num_steps=num_steps, shift=shift, ref=ref,
                                 inputs=inputs)
    first = run(model, inputs, [*merges, *_within(interventions, start_step, last + 1)], num_steps=num_steps, shift=shift, start_step=start_step,
                end_step=last + 1, decode=False, progress=progress)
    refs = [g[ref] for g in groups]
    latents = first.latents[refs]
    if last + 1 < num_steps:
        rest = _within(interventions, last + 1, num_steps)
        second = run(model, inputs.take(refs, latents=latents), rest, num_steps=num_steps, shift=shift,
                     start_step=last + 1, decode=decode, progress=progress)
        latents, video = second.latents, second.video
    else:
        video = model.decode(latents) if decode else None
    guidance = bool(inputs.do_guidance)
    return EnsembleResult(latents, video, ensemble_nfe(num_steps, k, last, guidance), groups, refs)


def _within(interventions, low: int, high: int) -> list:
    """The interventions restricted to steps ``low .. high - 1`` (those with none there dropped)."""
    from dataclasses import replace

    from interp.interventions import Intervention

    out = []
    for item in interventions:
        if item.at.steps is None:
            out.append(item)
            continue
        steps = [s for s in item.at.steps if low <= s < high]
        if steps:
            out.append(Intervention(replace(item.at, steps=tuple(steps)), item.do))
    return out
