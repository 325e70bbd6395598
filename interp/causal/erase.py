"""Erase units from the clean estimate at one step and let the model continue.

At step ``s`` the run has x_t and its estimate ``x0 = x_t - sigma v``; the noise the model
implies is ``eps = x0 + v``. Erasing sets ``x0`` to ``fill`` on the chosen latent tokens and
re-forms the state at the same noise level with that same noise,

    x_t' = (1 - sigma) x0' + sigma eps = x_t + (1 - sigma) (x0' - x0),

so only the chosen tokens change. Its matched control (:func:`matched_change`) changes as many
other tokens by the same colour distance: each takes the change erasing its paired token would
make, turned in colour space by a random rotation, so the edit's size matches and only *what*
is edited differs. The run then continues from step ``s`` with x_t': one
:class:`~interp.interventions.Set` on ``x_t`` at step ``s`` (``start_step = s``, so steps before
``s`` are not rerun). The representation-level variant projects a direction out of chosen
block tokens at one (layer, step) with :class:`~interp.interventions.Project`.

Example:
    >>> x_t, x0 = torch.zeros(1, 3, 1, 2, 2), torch.ones(1, 3, 1, 2, 2)
    >>> mask = torch.tensor([[True, False, False, False]])
    >>> reform(x_t, x0, mask, fill=torch.tensor([-1.0, -1.0, -1.0]), sigma=0.5)[0, :, 0, 0, 0].tolist()
    [-1.0, -1.0, -1.0]
"""

from __future__ import annotations

import torch

from interp.errors import InputError
from interp.interventions import At, Intervention, Project, Set, Tokens, run
from interp.sampling import schedule
from interp.tokens import latent_tokens


def reform(x_t: torch.Tensor, x0: torch.Tensor, mask, fill, sigma: float) -> torch.Tensor:
    """x_t' = x_t + (1 - sigma)(x0' - x0), x0' = ``fill`` on ``mask`` ``[B, T]`` (latent tokens) and x0 elsewhere.

    ``fill``: a number, one value per channel ``[C]``, or one value per token ``[B, T, C]``."""
    mask = torch.as_tensor(mask, dtype=torch.bool)
    tokens, (f, h, w) = latent_tokens(x0.float())
    fill = torch.as_tensor(fill, dtype=torch.float32, device=tokens.device).expand_as(tokens)
    m = mask.to(tokens.device)[..., None]
    change = torch.where(m, fill - tokens, torch.zeros_like(tokens))
    b, _, c = tokens.shape
    change = change.reshape(b, f, h, w, c).permute(0, 4, 1, 2, 3)
    return (x_t.float() + (1.0 - sigma) * change).to(x_t.dtype)


def erase_run(model, inputs, *, step: int, mask, fill, x_t: torch.Tensor, x0: torch.Tensor, num_steps: int,
              extra=(), **run_options):
    """Continue ``inputs`` from step ``step`` after erasing ``mask`` ``[B, T]`` (latent tokens) from x0_hat.

    Args:
        x_t, x0: the clean run's state entering ``step`` and its estimate at ``step``, ``[B, C, F, H, W]``
            (e.g. ``run_with_cache(..., ["x_t", "x0"])``, reshaped with :func:`interp.tokens.latent_tokens`).
        fill: the value erased units take in x0_hat: a number or one value per channel ``[C]``
            (the organism: the floor colour in model space).
        extra: interventions that run after the erase (e.g. :func:`~interp.interventions.observe`).
        run_options: passed to :func:`interp.interventions.run` (``decode``, ``progress``, ``sources``...).
    """
    edit = erase_edit(model, inputs, step=step, mask=mask, fill=fill, x_t=x_t, x0=x0, num_steps=num_steps)
    start = inputs.take(range(x_t.shape[0]), latents=x_t)
    return run(model, start, [edit, *extra], num_steps=num_steps, start_step=step, **{"progress": False, **run_options})


def erase_edit(model, inputs, *, step: int, mask, fill, x_t: torch.Tensor, x0: torch.Tensor,
               num_steps: int) -> Intervention:
    """The erasure as one :class:`~interp.interventions.Set` on ``x_t`` at ``step`` (the run must start
    there from ``x_t``): the re-formed state on ``mask``'s tokens (see :func:`erase_run`)."""
    from interp.models.capabilities import check_command

    check_command(model, "erase")
    sigmas = schedule(model, num_steps, None, inputs)[2]
    if not 0 <= step < num_steps:
        raise InputError(f"erase step {step} is outside the schedule: choose 0..{num_steps - 1}")
    mask = torch.as_tensor(mask, dtype=torch.bool)
    if mask.shape != (x_t.shape[0], x_t[0, 0].numel()):
        raise InputError(f"erase mask is {tuple(mask.shape)}; the run has {x_t.shape[0]} samples x "
                         f"{x_t[0, 0].numel()} latent tokens")
    new = reform(x_t, x0, mask, fill, float(sigmas[step]))
    value, _ = latent_tokens(new)
    return Intervention(At("x_t", steps=[step], tokens=Tokens.from_mask(mask.cpu().numpy())), Set(value.cpu()))


def random_rotation(channels: int, generator: torch.Generator) -> torch.Tensor:
    """A uniformly random orthogonal ``[C, C]`` matrix (QR of a Gaussian matrix, signs fixed)."""
    q, r = torch.linalg.qr(torch.randn(channels, channels, generator=generator, dtype=torch.float64))
    return (q * torch.sign(torch.diagonal(r))).float()


def matched_change(x0: torch.Tensor, pairs, fill, *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The matched control of an erasure: other tokens changed by the erasure's own colour distances.

    Args:
        x0: the clean estimate ``[B, C, F, H, W]``.
        pairs: per sample an int array ``[P, 3]`` of (source token, target token, group): target
            token takes the change ``fill - x0[source]`` that erasing the source would make, turned by
            one random rotation of the channel space per (sample, group) (e.g. a group per unit, so
            a unit keeps one colour). Targets must be distinct within a sample.
        fill: what the erasure writes: a number or one value per channel ``[C]``.

    Returns ``(mask [B, T], values [B, T, C])`` for :func:`reform` / :func:`erase_run` (``fill=values``):
    every target token moves by exactly the norm its source would have moved.
    """
    tokens, _ = latent_tokens(x0.float())
    b, t, c = tokens.shape
    if len(pairs) != b:
        raise InputError(f"matched_change needs one pair array per sample: got {len(pairs)} for {b} samples")
    fill = torch.as_tensor(fill, dtype=torch.float32, device=tokens.device).reshape(-1).expand(c)
    mask = torch.zeros(b, t, dtype=torch.bool)
    values = tokens.clone()
    for i, p in enumerate(pairs):
        p = torch.as_tensor(p, dtype=torch.long).reshape(-1, 3)
        if len(p) and (int(p[:, :2].min()) < 0 or int(p[:, :2].max()) >= t):
            raise InputError(f"matched_change: a token index of sample {i} is outside 0..{t - 1}")
        if len(set(p[:, 1].tolist())) != len(p):
            raise InputError(f"matched_change: sample {i} names a target token twice")
        g = torch.Generator().manual_seed(seed * 1_000_003 + i)
        for group in torch.unique(p[:, 2]).tolist():
            rows = p[p[:, 2] == group]
            turn = random_rotation(c, g).to(tokens.device)
            change = (fill - tokens[i, rows[:, 0]]) @ turn.T
            values[i, rows[:, 1]] = tokens[i, rows[:, 1]] + change
            mask[i, rows[:, 1]] = True
    return mask, values


def project_run(model, inputs, *, layer: int, step: int, mask, direction, num_steps: int, site: str = "resid_post",
                extra=(), **run_options):
    """Run ``inputs`` with ``direction`` projected out of block tokens ``mask`` ``[B, T]`` at (``layer``, ``step``);
    ``extra`` interventions run after it (e.g. a ``Collect``)."""
    edit = Intervention(At(f"blocks.{layer}.{site}", steps=[step], tokens=Tokens.from_mask(mask)),
                        Project(direction, mode="out"))
    return run(model, inputs, [edit, *extra], num_steps=num_steps, **{"progress": False, **run_options})


def random_direction(like: torch.Tensor, seed: int) -> torch.Tensor:
    """A random direction with the norm of ``like`` (seeded)."""
    g = torch.Generator().manual_seed(seed)
    d = torch.randn(like.numel(), generator=g)
    return d / d.norm() * torch.as_tensor(like, dtype=torch.float32).norm()
