"""Gaussian noise in the latents entering a step: at one step (all frames), at one frame (every
step), or at one frame and one step. Each is one :class:`~interp.interventions.Noise` on ``x_t``.

``std`` is absolute, in the latent space's units (the organism: pixels in [-1, 1], where x_T is
unit Gaussian). Noise is seeded per (seed, step, batch row).

A fixed ``std`` is a different dose at different steps: x_t entering step ``s`` already holds
noise of std ``sigma_s``, which falls from 1 to near 0 along the schedule, so a std of 1 at a late
step is many times the noise the model expects there. The **scaled** arms
(:func:`noise_at_step_scaled`, :func:`noise_at_frame_scaled`) add noise of std
``ratio * sigma_s`` instead: the same signal-to-noise change at every step (``ratio`` 1 doubles
the noise variance the step already has).

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


def scaled_std(step: int, ratio: float, sigmas) -> float:
    """The std of noise at ``ratio`` times the noise level ``sigmas[step]`` of x_t entering ``step``."""
    check_std(ratio)
    return float(ratio) * float(sigmas[check_step(step, len(sigmas))])


def noise_at_step_scaled(step: int, ratio: float, *, sigmas, seed: int = 0, samples=None) -> list[Intervention]:
    """Noise of std ``ratio * sigma_step`` in every frame of x_t entering ``step`` (``sigmas``: one per step,
    e.g. ``interp.sampling.schedule(model, num_steps)[2]``)."""
    return noise_at_step(step, scaled_std(step, ratio, sigmas), num_steps=len(sigmas), seed=seed, samples=samples)


def noise_at_frame_scaled(frame: int, ratio: float, *, sigmas, num_frames: int, seed: int = 0,
                          samples=None) -> list[Intervention]:
    """Noise of std ``ratio * sigma_s`` in latent frame ``frame`` of x_t at every step ``s`` (one edit per step)."""
    return [i for s in range(len(sigmas)) for i in noise_at_frame(
        frame, scaled_std(s, ratio, sigmas), num_steps=len(sigmas), num_frames=num_frames, seed=seed, steps=[s],
        samples=samples)]


def middle_strength(strengths) -> float:
    """The strength the frame x step grid and the propagation maps use: the middle one of ``strengths``."""
    return strengths[len(strengths) // 2]


def noise_arms(strengths, steps, frames, grid_steps, *, num_steps: int, num_frames: int, ratios=(),
               sigmas=None) -> list[tuple]:
    """Every arm of the step-vs-frame comparison as ``(name, start step, interventions(samples))``.

    Arms: all frames at each of ``steps`` (``step{s}/std{std:g}``) and each of ``frames`` at every
    step (``frame{f}/std{std:g}``), for every strength; each frame at each of ``grid_steps`` at the
    middle strength (``frame{f}@step{s}/std{mid:g}``); for each of ``ratios`` (with the schedule's
    ``sigmas``) the scaled arms ``step{s}/rel{r:g}`` and ``frame{f}/rel{r:g}``. A run of an arm may
    start at its start step from the clean run's x_t, since nothing changes before it.

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
    if ratios and (sigmas is None or len(sigmas) != num_steps):
        raise InputError(f"scaled noise needs the schedule's {num_steps} sigmas, got "
                         f"{None if sigmas is None else len(sigmas)}")
    for r in ratios:
        for s in steps:
            out.append((f"step{s}/rel{r:g}", s, lambda rows, s=s, r=r: noise_at_step_scaled(
                s, r, sigmas=sigmas, samples=rows)))
        for f in frames:
            out.append((f"frame{f}/rel{r:g}", 0, lambda rows, f=f, r=r: noise_at_frame_scaled(
                f, r, sigmas=sigmas, num_frames=num_frames, samples=rows)))
    return out
