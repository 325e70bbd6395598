"""The bundled maze organism: a pixel-space Wan transformer conditioned on the first frame.

There is no VAE: latents are RGB frames in [-1, 1] (``[B, 3, F, H, W]``), one token per maze grid
unit, and the first frame enters by channel concatenation, as in Wan's image-to-video model.
Guidance is off (the organism has one task prompt and no negative prompt).

Example:
    >>> from interp.models import load_model
    >>> model = load_model("organism")                              # doctest: +SKIP
    >>> inputs = model.prepare(first_frame=maze_rgb, seeds=[0, 1])  # doctest: +SKIP
    >>> model(inputs, num_steps=20).video.shape                     # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import torch

from interp.errors import InputError
from interp.models.base import ArchitectureSpec, LoopInputs, VideoModel, generators_for

ORGANISM_SPEC = ArchitectureSpec(family="wan-organism", expert_names=("transformer",), single_stream=True)


class OrganismModel(VideoModel):
    """Adapter around :class:`interp.organism.MazeOrganism`."""

    spec = ORGANISM_SPEC

    def __init__(self, organism, name: str | None = None):
        super().__init__()
        self.transformer = organism.transformer
        # Kept outside the module tree so every block has one path (``transformer.blocks.N``).
        object.__setattr__(self, "organism", organism)
        self.name = name or organism.config.name

    def make_scheduler(self, shift: float | None = None):
        from diffusers import FlowMatchEulerDiscreteScheduler

        return FlowMatchEulerDiscreteScheduler(shift=self.organism.config.shift if shift is None else shift)

    def prepare(self, *, first_frame, seeds: int | list[int] = 0, task: str = "maze",
                num_frames: int | None = None) -> LoopInputs:
        """x_T and conditioning for mazes given as uint8 first frames ``[B, H, W, 3]`` (or one ``[H, W, 3]``)."""
        frames = np.array(first_frame)  # a writable copy: torch refuses read-only arrays
        if frames.ndim == 3:
            frames = frames[None]
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise InputError(f"first_frame must be uint8 [B, H, W, 3] or [H, W, 3]; got shape {frames.shape}")
        patch = self.patch_size
        height, width = frames.shape[1:3]
        if height % patch[1] or width % patch[2]:
            raise InputError(
                f"image size {height}x{width} does not fit the organism's patch {patch[1]}x{patch[2]}: "
                f"render mazes with px_per_unit={self.organism.config.px_per_unit}"
            )
        num_frames = num_frames or self.organism.config.num_frames
        batch = frames.shape[0]
        generator = generators_for(seeds, batch)
        device = self.device
        pixels = self.organism.frames_to_model(torch.from_numpy(frames)).to(device=device, dtype=torch.float32)
        condition = self.organism.condition(pixels, num_frames)
        shape = (batch, 3, num_frames, height, width)
        # Drawn on the host, then one copy to the device (a copy per seed makes the host wait each time).
        latents = torch.cat([torch.randn((1, *shape[1:]), generator=g) for g in generator]).to(device)
        prompt = self.organism.prompt_embeds(batch, task=task).to(device=device, dtype=self.dtype)
        return LoopInputs(
            latents=latents,
            cond={"encoder_hidden_states": prompt},
            latent_condition=condition.to(torch.float32),
            seeds=[int(g.initial_seed()) for g in generator],
        )

    def decode(self, latents: torch.Tensor) -> np.ndarray:
        frames = self.organism.model_to_frames(latents.float().cpu())
        return frames.numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)


def sample_organism(organism, first_frames, *, num_steps: int = 20, shift: float | None = None, seed=0,
                    progress: bool = False):
    """Let the maze organism solve the mazes in ``first_frames`` (uint8 ``[B, H, W, 3]``).

    Returns the :class:`~interp.sampling.SampleResult`. A shortcut for the unedited loop
    ``model(model.prepare(first_frame=..., seeds=...), ...)`` with the organism's adapter;
    ``seed`` is an int (sample ``b`` gets ``seed + b``) or one seed per maze. To edit or observe
    the run, use :func:`interp.interventions.run`.
    """
    model = organism if isinstance(organism, OrganismModel) else OrganismModel(organism)
    inputs = model.prepare(first_frame=first_frames, seeds=seed)
    return model(inputs, num_steps=num_steps, shift=shift, progress=progress)
