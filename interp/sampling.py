"""The denoising loop that the executor drives: one loop for every supported video DiT.

The loop mirrors the diffusers Wan pipelines operation for operation (same scheduler calls, same
guidance formula, same dtype casts), so with nothing attached it reproduces their output for the
same inputs and seed. It labels every transformer call with its (step, branch, expert) in
:attr:`VideoModel.current_call` and offers its loop-level sites (``x_t``, ``velocity``, ``x0``)
to an ``edits`` object, which also sees a :class:`StepState` after every step.

This module is the executor's private loop: to run or observe a model, call
:func:`interp.interventions.run` (a ``Collect`` at ``x_t`` or ``x0`` reads the trajectory;
:meth:`~interp.interventions.RunResult.trajectory` lays it out as latents). Only the adapter's
own ``forward`` (what ``nnsight.NNsight`` wraps) calls :func:`denoise` directly.

Example:
    >>> from interp.interventions import At, Collect, Intervention, run        # doctest: +SKIP
    >>> out = run(model, inputs, [Intervention(At("x0"), Collect())], num_steps=20)  # doctest: +SKIP
    >>> out.trajectory("x0").shape       # [steps, batch, C, F, H, W]           # doctest: +SKIP
"""

from __future__ import annotations

import copy
import functools
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from tqdm.auto import tqdm

from interp.errors import InputError, check_range

if TYPE_CHECKING:  # annotations only: the adapters call this loop, so it must not import them
    from interp.models.base import LoopInputs, VideoModel


@dataclass
class StepState:
    """The state of one denoising step, as the loop saw it.

    Attributes:
        step: 0-based step index; ``num_steps`` steps in all.
        sigma, sigma_next: noise level of x_t and of the state the step produces.
        timestep: the value the transformer received (``1000 * sigma`` for flow matching).
        expert: name of the transformer that ran (``"transformer"`` or ``"transformer_2"``).
        x_t: latents entering the step, ``[B, C, F, H, W]``.
        velocity: the guided velocity the scheduler used.
        velocity_cond, velocity_uncond: per-branch velocities (``velocity_uncond`` is ``None``
            without guidance).
        x0: the clean-video estimate ``x_t - sigma * velocity``.
        x_next: latents after the scheduler step.
    """

    step: int
    num_steps: int
    sigma: float
    sigma_next: float
    timestep: torch.Tensor
    expert: str
    x_t: torch.Tensor
    velocity: torch.Tensor
    velocity_cond: torch.Tensor
    velocity_uncond: torch.Tensor | None
    x0: torch.Tensor
    x_next: torch.Tensor


@dataclass
class SampleResult:
    """Final latents, and the decoded uint8 video ``[B, F, H, W, 3]`` unless decoding was skipped."""

    latents: torch.Tensor
    video: np.ndarray | None
    sigmas: np.ndarray
    timesteps: np.ndarray
    experts: list[str]


#: model -> {schedule key: a scheduler with its timesteps set}; see :func:`schedule`.
_SCHEDULES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def schedule(model: VideoModel, num_steps: int, shift: float | None = None, inputs: LoopInputs | None = None):
    """The scheduler, timesteps and noise levels the loop will use for ``num_steps`` steps
    (some families' schedules depend on the latent size of ``inputs``).

    Each call gets a fresh copy of a scheduler made once per model and schedule: setting
    timesteps copies them to the model's device, and that copy waits for the device, so a sweep
    of many short runs would otherwise stall at the start of each.
    """
    scheduler = copy.deepcopy(_made(model, num_steps, shift, inputs)[0])
    return scheduler, scheduler.timesteps, model.noise_levels(scheduler)


def host_schedule(model: VideoModel, num_steps: int, shift: float | None = None,
                  inputs: LoopInputs | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`schedule`'s timesteps and noise levels as host arrays, read from the device once."""
    return _made(model, num_steps, shift, inputs)[1]


def _made(model, num_steps: int, shift, inputs):
    """The model's scheduler for this schedule, made once, with host copies of its timesteps and noise levels."""
    check_range("num_steps", num_steps, 1, 1000)
    pipe = getattr(model, "pipe", None)  # what a schedule depends on: these, the latent size, device, scheduler
    key = (num_steps, shift, None if inputs is None else tuple(inputs.latents.shape[1:]), str(model.device),
           id(getattr(pipe, "scheduler", None)))
    made = _SCHEDULES.setdefault(model, {})
    if key not in made:
        scheduler = model.make_scheduler(shift)
        model.set_timesteps(scheduler, num_steps, inputs)
        if getattr(scheduler, "sigmas", None) is not None:  # kept on the scheduler, so every copy has them
            host_sigmas(scheduler)
        made[key] = scheduler, (scheduler.timesteps.detach().cpu().numpy(),
                                model.noise_levels(scheduler).detach().cpu().numpy())
    return made[key]


def host_sigmas(scheduler) -> np.ndarray:
    """``scheduler.sigmas`` as a host array, read from the device once per scheduler and kept on it
    (a deep copy keeps the pair of tensor and array, so a copy's own sigmas are recognised)."""
    kept = getattr(scheduler, "_interp_host_sigmas", None)
    if kept is None or kept[0] is not scheduler.sigmas:
        kept = (scheduler.sigmas, scheduler.sigmas.detach().cpu().numpy())
        scheduler._interp_host_sigmas = kept
    return kept[1]


@torch.no_grad()
def denoise(
    model: VideoModel,
    inputs: LoopInputs,
    *,
    num_steps: int = 50,
    shift: float | None = None,
    start_step: int = 0,
    end_step: int | None = None,
    edits=None,
    decode: bool = True,
    progress: bool = True,
) -> SampleResult:
    """Denoise ``inputs.latents`` over ``num_steps`` steps and decode the result.

    Args:
        model: the adapter of the model to run.
        inputs: from ``model.prepare(...)``.
        num_steps: number of denoising steps.
        shift: override of the scheduler's flow shift (``None`` keeps the model's).
        start_step: run steps ``start_step..num_steps-1`` only; ``inputs.latents`` is then the
            state entering ``start_step`` (a saved x_t), and the result equals the full run's.
        end_step: stop before this step (``None``: run to the end); the result's latents are then
            the state entering ``end_step``.
        edits: an object with ``wants(kind, branch, step)`` and ``edit(kind, branch, step, expert,
            value, x_t)`` that may replace x_t, a velocity or x0 (see :func:`interp.interventions.run`),
            and optionally ``after_step(state)``, called with a :class:`StepState` after every step.
        decode: decode the final latents to a uint8 video.
        progress: show a tqdm bar over steps.
    """
    scheduler, timesteps, _ = schedule(model, num_steps, shift, inputs)
    host_timesteps, host_sigmas = host_schedule(model, num_steps, shift, inputs)
    check_range("start_step", start_step, 0, num_steps - 1)
    end_step = num_steps if end_step is None else end_step
    check_range("end_step", end_step, start_step + 1, num_steps)
    if hasattr(scheduler, "set_begin_index"):  # index-keeping schedulers; DDIM steps by timestep alone
        scheduler.set_begin_index(start_step)
    latents = inputs.latents
    after_step = getattr(edits, "after_step", None)
    experts = []
    steps = range(start_step, end_step)
    for i in tqdm(steps, desc="denoising", disable=not progress, leave=False):
        t = timesteps[i]
        expert = model.expert_for(t)
        if edits is not None and edits.wants("x_t", None, i):
            latents = _checked(edits.edit("x_t", None, i, expert, latents, latents), latents, "x_t", i)
        expert, v_cond, v_uncond = model.predict(i, t, latents, inputs)
        # Read from the device's schedule only when an edit or ``after_step`` needs x0 (a read waits).
        coefficients = functools.cache(lambda i=i, t=t: model.x0_coefficients(scheduler, i, t))
        if edits is not None:
            v_cond = _edit_prediction(edits, "cond", i, expert, latents, coefficients, v_cond)
            if v_uncond is not None:
                v_uncond = _edit_prediction(edits, "uncond", i, expert, latents, coefficients, v_uncond)
        velocity = model.guide(expert, inputs, v_cond, v_uncond)
        if edits is not None:
            velocity = _edit_prediction(edits, "guided", i, expert, latents, coefficients, velocity)
        experts.append(expert)
        x_next = model.step_latents(scheduler, i, t, velocity, latents)
        if after_step is not None:
            after_step(
                StepState(
                    step=i,
                    num_steps=num_steps,
                    sigma=float(host_sigmas[i]),
                    sigma_next=float(host_sigmas[i + 1]),
                    timestep=t,
                    expert=expert,
                    x_t=latents,
                    velocity=velocity,
                    velocity_cond=v_cond,
                    velocity_uncond=v_uncond,
                    x0=_x0(latents, velocity, coefficients()),
                    x_next=x_next,
                )
            )
        latents = x_next
    if end_step == num_steps:
        latents = model.finish(latents, inputs)
    video = model.decode(latents) if decode else None
    return SampleResult(
        latents=latents,
        video=video,
        sigmas=host_sigmas.copy(),
        timesteps=host_timesteps.copy(),
        experts=experts,
    )


def _checked(new: torch.Tensor, old: torch.Tensor, site: str, step: int) -> torch.Tensor:
    if new.shape != old.shape:
        raise InputError(f"an edit of {site} at step {step} gave shape {tuple(new.shape)}: expected {tuple(old.shape)}")
    return new.to(old.dtype)


def _x0(x_t: torch.Tensor, velocity: torch.Tensor, coefficients: tuple[float, float]) -> torch.Tensor:
    """x0_hat = a * x_t - b * prediction (flow matching: a = 1, b = sigma)."""
    a, b = coefficients
    return (x_t if a == 1.0 else a * x_t) - b * velocity.to(x_t.dtype)


def _edit_prediction(edits, branch: str, step: int, expert: str, x_t, coefficients, velocity):
    """Offer one branch's prediction, then its x0 = a * x_t - b * v (``coefficients()`` gives
    ``(a, b)``), to ``edits``.

    An edited x0 is turned back into the prediction that gives it from the same x_t,
    written as ``v - (x0' - x0) / b`` so that writing x0's own values back leaves the
    prediction bitwise as it was.
    """
    if edits.wants("velocity", branch, step):
        velocity = _checked(edits.edit("velocity", branch, step, expert, velocity, x_t), velocity, "velocity", step)
    if edits.wants("x0", branch, step):
        x0 = _x0(x_t, velocity, coefficients())
        edited = edits.edit("x0", branch, step, expert, x0, x_t)
        if edited is not x0:
            change = (_checked(edited, x0, "x0", step) - x0) / coefficients()[1]
            velocity = (velocity.to(x_t.dtype) - change).to(velocity.dtype)
    return velocity
