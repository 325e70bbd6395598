"""The averaging control of "several candidate routes early": is x0_hat more than a mean of answers?

For flow matching, x0_hat = x_t - sigma v(x_t) is trained to be E[x0 | x_t]: at high noise it must
blend every answer the run may still reach, so faint alternative routes in an early x0_hat are
expected from averaging alone. The control compares x0_hat at step ``s`` with the mean of final
videos drawn from the posterior p(x0 | x_t) of that step's state.

* The Euler flow sampler is **deterministic given x_t** (FlowMatchEulerDiscreteScheduler without
  ``stochastic_sampling``: x_next = x_t + (sigma_next - sigma) v), so "many seeds that share the
  step's x_t" all end on one video; it cannot draw from p(x0 | x_t).
* :func:`posterior_draws` continues x_t with the **ancestral sampler** of the same forward process
  instead: the forward process x_s = (1 - s) x0 + s eps is the marginal of the Markov chain
  x_b -> x_a = (alpha_a / alpha_b) x_b + sqrt(a^2 - (alpha_a / alpha_b)^2 b^2) z (alpha = 1 - sigma),
  and each step draws from its Gaussian reverse q(x_b | x_a, x0) with x0 := x0_hat and fresh noise.
  For a model whose x0_hat is the exact E[x0 | x_t] this reverse chain samples p(x0 | x_t) (the ODE
  only matches the marginals), so the mean of its draws is what pure averaging would show.
* At step 0 sigma is 1 and x_t is pure noise: x0_hat(0) estimates E[x0 | condition], the mean of
  the model's answers over independent seeds, which the Euler sampler gives itself (one run per
  seed from step 0).

:func:`candidate_gap` reads both with the Chain-of-Steps candidate count. Re-noising x0_hat to the
step's sigma and continuing with Euler (:mod:`interp.reproduce.renoise`) is not used here: it
conditions on x0_hat, a blurred mean, rather than on x_t.

Example:
    >>> x0, noise = torch.zeros(1, 3), torch.ones(1, 3)
    >>> ancestral_step(torch.full((1, 3), 0.5), x0, 0.5, 0.0, noise).tolist()   # the last step returns x0_hat
    [[0.0, 0.0, 0.0]]
"""

from __future__ import annotations

import numpy as np
import torch

from interp.errors import InputError, check_range


def ancestral_step(x_t: torch.Tensor, x0: torch.Tensor, sigma: float, sigma_next: float,
                   noise: torch.Tensor) -> torch.Tensor:
    """One draw of x at ``sigma_next`` from q(x_next | x_t, x0) of the flow-matching forward process."""
    a, b = float(sigma), float(sigma_next)
    if not 0 <= b < a <= 1:
        raise InputError(f"an ancestral step goes from a higher to a lower noise level in [0, 1]: got {a} -> {b}")
    if b == 0:
        return x0
    ratio = (1 - a) / (1 - b)                       # alpha_a / alpha_b
    var_ab = a * a - ratio * ratio * b * b          # variance of x_a given x_b
    mean = (ratio * b * b / (a * a)) * x_t + ((1 - b) * var_ab / (a * a)) * x0
    std = (var_ab * b * b / (a * a)) ** 0.5
    return mean + std * noise


def posterior_draws(model, inputs, *, step: int, num_steps: int, draws: int, seed: int = 0) -> np.ndarray:
    """Final videos of ``draws`` ancestral continuations of ``inputs.latents`` (x_t entering ``step``).

    Returns uint8 ``[draws, B, F, H, W, 3]``. The model runs through :func:`interp.interventions.run`
    one step at a time, so guidance and experts are the loop's own; noise is seeded per
    (``seed``, draw, step, sample) on the CPU.
    """
    from interp.interventions import observe, run
    from interp.sampling import schedule

    check_range("draws", draws, 1, 10_000)
    check_range("step", step, 0, num_steps - 1)
    sigmas = [float(s) for s in schedule(model, num_steps)[2]]
    b = inputs.latents.shape[0]
    order = [i for _ in range(draws) for i in range(b)]
    latents = inputs.latents[order]
    for i in range(step, num_steps):
        out = run(model, inputs.take(order, latents=latents), observe("x0", steps=[i]), num_steps=num_steps,
                  start_step=i, end_step=i + 1, decode=False, progress=False)
        noise = torch.stack([torch.randn(latents.shape[1:], generator=torch.Generator().manual_seed(
            (((seed * 1_000_003 + d) * 1_000_003 + i) * 1_000_003 + r) % (2 ** 63 - 1)))
            for d in range(draws) for r in range(b)])
        latents = ancestral_step(latents.float(), out.at("x0", i).float().to(latents.device), sigmas[i], sigmas[i + 1],
                                 noise.to(latents.device)).to(inputs.latents.dtype)
    video = model.decode(latents)
    return np.asarray(video).reshape((draws, b) + video.shape[1:])


def mean_video(videos: np.ndarray) -> np.ndarray:
    """The pixel mean of uint8 videos ``[K, F, H, W, 3]``, rounded back to uint8."""
    return np.clip(np.rint(np.asarray(videos, float).mean(0)), 0, 255).astype(np.uint8)


def candidates_of(video: np.ndarray, maze, *, threshold: float, palette: str = "default") -> int:
    """Start-to-goal routes drawn at route colour amount >= ``threshold`` in one uint8 video ``[F, H, W, 3]``."""
    from interp.metrics.cos import cos_metrics

    return int(cos_metrics(np.asarray(video)[None], maze, threshold=threshold, palette=palette).candidates[0])


def candidate_gap(x0_video: np.ndarray, finals: np.ndarray, maze, *, threshold: float,
                  palette: str = "default") -> dict:
    """Candidates drawn by x0_hat against those drawn by the mean of ``finals`` ``[K, F, H, W, 3]``.

    Returns ``{"x0": count, "mean": count, "gap": x0 - mean, "one_draw_gap": ...}``; ``one_draw_gap``
    is the same comparison for one final video (the first) against the mean of the others: a
    single answer holds no more candidates than a mean, so that gap is <= 0 by construction (the
    negative control of a rule that asks for a gap above 0). It is ``None`` with one final.
    """
    finals = np.asarray(finals)
    if finals.ndim != 5 or len(finals) < 1:
        raise InputError(f"finals must be uint8 [K, F, H, W, 3] with K >= 1, got shape {finals.shape}")
    x0 = candidates_of(x0_video, maze, threshold=threshold, palette=palette)
    mean = candidates_of(mean_video(finals), maze, threshold=threshold, palette=palette)
    one = None
    if len(finals) > 1:
        one = (candidates_of(finals[0], maze, threshold=threshold, palette=palette)
               - candidates_of(mean_video(finals[1:]), maze, threshold=threshold, palette=palette))
    return {"x0": x0, "mean": mean, "gap": x0 - mean, "one_draw_gap": one}


def averaging_rule(gaps, *, seed: int = 0) -> tuple[bool, dict]:
    """Whether x0_hat draws more candidates than the posterior mean: the mean paired gap over mazes,
    with its bootstrap 95% interval (resampling mazes, :func:`interp.stats.mean_ci`), lies wholly
    above 0. Returns ``(more, figure)``."""
    from interp.stats import mean_ci

    gaps = [float(g) for g in gaps if g is not None]
    if not gaps:
        return False, {"value": None, "ci95": [None, None], "n": 0}
    figure = mean_ci(gaps, seed=seed)
    return bool(figure["ci95"][0] is not None and figure["ci95"][0] > 0), figure
