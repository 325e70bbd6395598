"""Merge operators, each a list of interventions on the one executor.

==============  =====================================================================================
``xt_mean``     every seed's x_t entering the step becomes the group mean (:class:`Merge` at ``x_t``)
``x0_mean``     every seed steps toward the group's mean x0_hat from its own x_t (:class:`Merge` at ``x0``)
``x0_renoise``  the mean x0_hat, re-noised with the reference seed's noise (:class:`RenoiseMerge`)
``x0_median``   the element-wise median of x0_hat (a vote in x0 space), re-noised the same way
==============  =====================================================================================

The batch holds groups of K consecutive rows (the K seeds of one prompt or maze); the
reference seed of each group (``ref``, default its first) is the trajectory that continues.

Example:
    >>> from interp.organism.tiny import tiny_organism
    >>> model, _ = tiny_organism()
    >>> items = merge_interventions(model, "x0_renoise", seed_groups(2, 3), steps=[1, 2], num_steps=4)
    >>> [(str(i.at.site), i.at.steps, i.do.kind) for i in items]
    [('x0', (1,), 'renoise_merge'), ('x0', (2,), 'renoise_merge')]
"""

from __future__ import annotations

from collections.abc import Sequence

from interp.errors import InputError, check_choice, check_range
from interp.interventions import At, Intervention, Merge
from interp.interventions.actions import RenoiseMerge

OPERATORS = {
    "xt_mean": "mean of x_t entering the step",
    "x0_mean": "each seed steps toward the mean x0_hat from its own x_t",
    "x0_renoise": "mean x0_hat re-noised with the reference seed's noise",
    "x0_median": "element-wise median of x0_hat re-noised with the reference seed's noise",
}


def seed_groups(num_items: int, k: int) -> list[tuple[int, ...]]:
    """Rows of each item's K seeds in a batch laid out item by item: ``[(0..k-1), (k..2k-1), ...]``."""
    return [tuple(range(i * k, (i + 1) * k)) for i in range(num_items)]


def check_merge(operator: str, k: int, steps: Sequence[int], num_steps: int, ref: int = 0) -> None:
    """Raise :class:`InputError` for an unknown operator, K below 2, or a step outside the schedule."""
    check_choice("merge operator", operator, tuple(OPERATORS))
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise InputError(f"k {k!r} is not valid: an ensemble merges at least 2 seeds (choose k >= 2)")
    if not steps:
        raise InputError("no merge step given: choose steps in 0.." + str(num_steps - 1))
    for step in steps:
        check_range("merge step", step, 0, num_steps - 1)
    check_range("reference seed", ref, 0, k - 1)


def merge_interventions(model, operator: str, groups: Sequence[Sequence[int]], *, steps: Sequence[int],
                        num_steps: int, shift: float | None = None, ref: int = 0, inputs=None) -> list[Intervention]:
    """The interventions that merge each group of rows with ``operator`` at each of ``steps``
    (``inputs``: the run's, for families whose schedule depends on the video size)."""
    from interp.sampling import schedule

    groups = [tuple(g) for g in groups]
    check_merge(operator, min(len(g) for g in groups) if groups else 0, steps, num_steps, ref)
    steps = sorted(set(int(s) for s in steps))
    if operator == "xt_mean":
        return [Intervention(At("x_t", steps=steps), Merge(groups))]
    if operator == "x0_mean":
        return [Intervention(At("x0", steps=steps), Merge(groups))]
    from interp.models.capabilities import check_command

    check_command(model, "ensemble", merge=operator)
    sigmas = schedule(model, num_steps, shift, inputs)[2].detach().cpu().double().tolist()
    reduce = "mean" if operator == "x0_renoise" else "median"
    return [Intervention(At("x0", steps=[s]), RenoiseMerge(groups, sigma=sigmas[s], sigma_next=sigmas[s + 1],
                                                           ref=ref, reduce=reduce)) for s in steps]
