"""Chain-of-Steps metrics over many samples: means, 95% intervals and n, per step and per sample.

Shares (booleans) get Wilson score intervals; means of counts and steps get percentile bootstrap
intervals (``n_boot`` resamples of the samples, a fixed seed); both from :mod:`interp.stats`. Every entry carries its ``n``.

Example:
    >>> from interp.tasks import generate_maze, ground_truth_video
    >>> from interp.metrics.cos import cos_metrics
    >>> maze = generate_maze(5, seed=0)
    >>> sample = cos_metrics(np.stack([ground_truth_video(maze, 3, px_per_unit=3)] * 2), maze)
    >>> result = aggregate([sample, sample])
    >>> result["n"], result["per_step"]["answer_correct"]["mean"]
    (2, [1.0, 1.0])
"""

from __future__ import annotations


import numpy as np

from interp.errors import InputError
from interp.stats import bootstrap_mean, wilson

PER_STEP_SHARES = ("answer_correct", "scaffold_correct", "wrong", "self_correction", "crosses_wall", "off_route")
PER_STEP_MEANS = ("candidates", "shortest_shown", "side_branches", "scaffold_agreement")


def _share(flags) -> dict:
    flags = np.asarray(flags, bool)
    n = flags.shape[0]
    k = flags.sum(axis=0)
    if flags.ndim == 1:
        low, high = wilson(int(k), n)
        return {"mean": round(float(k) / n, 6), "ci95": [round(low, 6), round(high, 6)], "n": n}
    bounds = [wilson(int(v), n) for v in k]
    return {"mean": (k / n).round(6).tolist(), "ci95_low": [round(b[0], 6) for b in bounds],
            "ci95_high": [round(b[1], 6) for b in bounds], "n": n}


def _mean(values, n_boot: int, seed: int) -> dict:
    mean, low, high = bootstrap_mean(values, n_boot, seed)
    if np.ndim(mean) == 0:
        return {"mean": round(float(mean), 6), "ci95": [round(float(low), 6), round(float(high), 6)], "n": len(values)}
    return {"mean": np.round(mean, 6).tolist(), "ci95_low": np.round(low, 6).tolist(),
            "ci95_high": np.round(high, 6).tolist(), "n": len(values)}


def aggregate(samples, *, n_boot: int = 1000, seed: int = 0) -> dict:
    """Means with 95% intervals over ``samples`` (:class:`~interp.metrics.cos.CosSample`).

    Returns ``{"n", "steps", "per_step": {metric: {mean, ci95_low, ci95_high, n}}, "per_sample":
    {metric: {mean, ci95, n}}}``. Per sample: ``final_correct``, ``self_corrected``,
    ``all_steps_scaffold`` (working memory at every step) and ``perception_before_action``
    (shares, the last over samples where both steps are defined); ``commitment_step``,
    ``working_memory_share``, ``perception_step`` and ``action_step`` (bootstrap means, the last
    two over samples where they are defined).

    Raises:
        InputError: no samples, or samples with different step labels.
    """
    samples = list(samples)
    if not samples:
        raise InputError("aggregate needs at least one sample")
    steps = samples[0].steps
    for s in samples:
        if s.steps != steps:
            raise InputError(f"samples have different steps ({s.steps} vs {steps}): aggregate runs of one schedule")
    per_step = {k: _share([getattr(s, k) for s in samples]) for k in PER_STEP_SHARES}
    per_step.update({k: _mean([getattr(s, k) for s in samples], n_boot, seed) for k in PER_STEP_MEANS})
    per_sample = {
        "final_correct": _share([s.final_correct for s in samples]),
        "self_corrected": _share([s.self_corrected for s in samples]),
        "all_steps_scaffold": _share([bool(s.scaffold_correct.all()) for s in samples]),
        "commitment_step": _mean([s.commitment_step for s in samples], n_boot, seed),
        "working_memory_share": _mean([s.working_memory_share for s in samples], n_boot, seed),
    }
    both = [s.perception_before_action for s in samples if s.perception_before_action is not None]
    per_sample["perception_before_action"] = _share(both) if both else {"mean": None, "ci95": None, "n": 0}
    for key in ("perception_step", "action_step"):
        values = [getattr(s, key) for s in samples if getattr(s, key) is not None]
        per_sample[key] = _mean(values, n_boot, seed) if values else {"mean": None, "ci95": None, "n": 0}
    return {"n": len(samples), "steps": list(steps), "per_step": per_step, "per_sample": per_sample}


def aggregate_by_size(samples, **options) -> dict:
    """:func:`aggregate` per maze size: ``{size: result}``, sizes ascending."""
    groups: dict[int, list] = {}
    for s in samples:
        groups.setdefault(int(s.size), []).append(s)
    return {size: aggregate(groups[size], **options) for size in sorted(groups)}
