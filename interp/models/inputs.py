"""What one run of the denoising loop is given: :class:`LoopInputs`, and helpers to batch them.

An adapter's ``prepare(...)`` builds the inputs (latents, conditioning, guidance, seeds);
``take`` and :func:`cat_inputs` pick and join samples, so one batch can hold several runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from interp.errors import InputError
from interp.rows import take_rows


@dataclass
class LoopInputs:
    """Everything the loop needs besides the schedule: x_T and the per-branch conditioning.

    Attributes:
        latents: initial noise x_T, ``[B, C, F, H, W]`` float32.
        cond: keyword arguments of the transformer call for the conditional branch
            (``encoder_hidden_states`` and, for Wan2.1 I2V, ``encoder_hidden_states_image``).
        uncond: the same for the unconditional branch, or ``None`` when guidance is off.
        latent_condition: concatenated to x_t on the channel axis at every call (image-to-video).
        guidance_scale: CFG scale of the first (or only) expert.
        guidance_scale_2: CFG scale of the second expert (Wan2.2); defaults to ``guidance_scale``.
        seeds: one seed per batch element, kept as provenance.
        extras: anything the adapter wants back when decoding.
    """

    latents: torch.Tensor
    cond: dict[str, torch.Tensor]
    uncond: dict[str, torch.Tensor] | None = None
    latent_condition: torch.Tensor | None = None
    guidance_scale: float = 1.0
    guidance_scale_2: float | None = None
    seeds: list[int] | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def do_guidance(self) -> bool:
        return self.uncond is not None

    @property
    def batch_size(self) -> int:
        return self.latents.shape[0]

    def take(self, rows, latents: torch.Tensor | None = None) -> LoopInputs:
        """These inputs for batch ``rows`` only (in that order, repeats allowed); ``latents``
        replaces x_T (e.g. by a saved x_t, to start the loop at a later step)."""
        rows = [int(r) for r in rows]

        def pick(value):
            if isinstance(value, torch.Tensor) and value.ndim and value.shape[0] == self.batch_size:
                return take_rows(value, rows)
            return value

        return LoopInputs(
            latents=pick(self.latents) if latents is None else latents,
            cond={k: pick(v) for k, v in self.cond.items()},
            uncond=None if self.uncond is None else {k: pick(v) for k, v in self.uncond.items()},
            latent_condition=pick(self.latent_condition),
            guidance_scale=self.guidance_scale,
            guidance_scale_2=self.guidance_scale_2,
            seeds=None if self.seeds is None else [self.seeds[i] for i in rows],
            extras=dict(self.extras),
        )


def cat_inputs(items: list[LoopInputs]) -> LoopInputs:
    """One batch from several inputs prepared alike (one row each, say, one prompt each): their
    rows in order; schedule settings and extras from the first."""
    if not items:
        raise InputError("no inputs to join")
    first = items[0]
    rows = [item.batch_size for item in items]

    def join(values):
        if values[0] is None:
            return None
        if isinstance(values[0], torch.Tensor) and values[0].ndim and values[0].shape[0] == rows[0]:
            return torch.cat(values)
        return values[0]

    for item in items:
        if (item.uncond is None) != (first.uncond is None) or set(item.cond) != set(first.cond):
            raise InputError("inputs to join differ in their conditioning (guidance on in one, off in another?)")
    return LoopInputs(
        latents=torch.cat([item.latents for item in items]),
        cond={k: join([item.cond[k] for item in items]) for k in first.cond},
        uncond=None if first.uncond is None else {k: join([item.uncond[k] for item in items]) for k in first.uncond},
        latent_condition=join([item.latent_condition for item in items]),
        guidance_scale=first.guidance_scale,
        guidance_scale_2=first.guidance_scale_2,
        seeds=[s for item in items for s in (item.seeds or [None] * item.batch_size)],
        extras=dict(first.extras),
    )


def repeat_to_batch(value: torch.Tensor | None, batch_size: int) -> torch.Tensor | None:
    """Conditioning given once, repeated for every sample (as ``num_videos_per_prompt`` does)."""
    if value is None or value.shape[0] == batch_size:
        return value
    if value.shape[0] != 1:
        raise InputError(f"conditioning has batch {value.shape[0]}: give 1 or {batch_size} (one per seed)")
    return value.repeat(batch_size, *([1] * (value.ndim - 1)))


def generators_for(seeds: int | list[int], batch_size: int, device="cpu") -> list[torch.Generator]:
    """One ``torch.Generator`` per batch element, so each sample's noise depends on its seed alone."""
    if isinstance(seeds, int):
        seeds = [seeds + i for i in range(batch_size)]
    if len(seeds) != batch_size:
        raise InputError(f"got {len(seeds)} seeds for a batch of {batch_size}: give one seed per sample")
    return [torch.Generator(device=device).manual_seed(int(s)) for s in seeds]
