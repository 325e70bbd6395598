"""Gaussian noise in the latents entering a step: at one step (all frames), at one frame (every
step), or at one frame and one step. Each is one :class:`~interp.interventions.Noise` on ``x_t``.

``std`` is absolute, in the latent space's units (the organism: pixels in [-1, 1], where x_T is
unit Gaussian). Noise is seeded per (seed, step, batch row).

:func:`noise_arms` lists the arms that compare the two (and both at once) over strengths.

Example:
    >>> [str(i.at.site) for i in noise_at_frame(2, 0.5, num_steps=4, num_frames=4)]
    ['x_t']
    >>> noise_at_step(7, 0.5, num_steps=4)
    Traceback (most recent call last):
    ...
    interp.errors.InputError: noise step 7 is outside the schedule: choose 0..3
"""

from __future__ import annotations

import math

from interp.errors import InputError
from interp.interventions import At, Intervention, Noise, Tokens


def check_std(std: float) -> float:
    """Raise :class:`InputError` unless ``std`` is a finite number >= 0."""
    if isinstance(std, bool) or not isinstance(std, (int, float)) or not math.isfinite(std) or std < 0:
        raise InputError(f"noise strength {std} is not valid: use a finite number >= 0")
    return float(std)


def check_step(step: int, num_steps: int) -> int:
    if not 0 <= int(step) < num_steps:
        raise InputError(f"noise step {step} is outside the schedule: choose 0..{num_steps - 1}")
    return int(step)


def check_frame(frame: int, num_frames: int) -> int:
    if not 0 <= int(frame) < num_frames:
        raise InputError(f"unknown frame {frame}: the latent video has frames 0..{num_frames - 1}")
    return int(frame)


def noise_at_step(step: int, std: float, *, num_steps: int, seed: int = 0, samples=None) -> list[Intervention]:
    """Noise in every frame of x_t entering ``step``."""
    return [Intervention(At("x_t", steps=[check_step(step, num_steps)], samples=samples),
                         Noise(check_std(std), seed))]


def noise_at_frame(frame: int, std: float, *, num_steps: int, num_frames: int, seed: int = 0,
                   steps=None, samples=None) -> list[Intervention]:
    """Noise in latent frame ``frame`` of x_t at every step (or at ``steps``)."""
    steps = None if steps is None else [check_step(s, num_steps) for s in steps]
    return [Intervention(At("x_t", steps=steps, samples=samples,
                            tokens=Tokens.in_frames(check_frame(frame, num_frames))), Noise(check_std(std), seed))]


def middle_strength(strengths) -> float:
    """The strength the frame x step grid and the propagation maps use: the middle one of ``strengths``."""
    return strengths[len(strengths) // 2]


def noise_arms(strengths, steps, frames, grid_steps, *, num_steps: int, num_frames: int) -> list[tuple]:
    """Every arm of the step-vs-frame comparison as ``(name, start step, interventions(samples))``.

    Arms: all frames at each of ``steps`` (``step{s}/std{std:g}``) and each of ``frames`` at every
    step (``frame{f}/std{std:g}``), for every strength; each frame at each of ``grid_steps`` at the
    middle strength (``frame{f}@step{s}/std{mid:g}``). A run of an arm may start at its start step
    from the clean run's x_t, since nothing changes before it.

    Example:
        >>> [name for name, _, _ in noise_arms([1.0], [3], [0], [3], num_steps=4, num_frames=2)]
        ['step3/std1', 'frame0/std1', 'frame0@step3/std1']
    """
    mid = middle_strength(strengths)
    out = []
    for std in strengths:
        for s in steps:
            out.append((f"step{s}/std{std:g}", s, lambda rows, s=s, std=std: noise_at_step(
                s, std, num_steps=num_steps, samples=rows)))
        for f in frames:
            out.append((f"frame{f}/std{std:g}", 0, lambda rows, f=f, std=std: noise_at_frame(
                f, std, num_steps=num_steps, num_frames=num_frames, samples=rows)))
    for f in frames:
        for s in grid_steps:
            out.append((f"frame{f}@step{s}/std{mid:g}", s, lambda rows, f=f, s=s: noise_at_frame(
                f, mid, num_steps=num_steps, num_frames=num_frames, steps=[s], samples=rows)))
    return out
