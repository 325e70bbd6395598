"""The walking organism's adapter: two experts switching at a boundary, and guidance on a prompt.

It goes through the loop exactly as Wan2.2 does: :meth:`VideoModel.expert_for` picks
``transformer`` at timesteps at or above ``boundary_timestep`` and ``transformer_2`` below, and
with guidance each step calls the expert twice (``cond`` with the task prompt, then ``uncond``
with the empty prompt), each call labelled in :attr:`VideoModel.current_call`.

Example:
    >>> from interp.models import load_model
    >>> model = load_model("maze-walk-tiny")                                     # doctest: +SKIP
    >>> inputs = model.prepare(first_frame=frame, seeds=[0], prompt="key")        # doctest: +SKIP
    >>> model(inputs, num_steps=20).video.shape                                   # doctest: +SKIP
    (1, 16, 38, 38, 3)
"""

from __future__ import annotations

import numpy as np
import torch

from interp.errors import InputError
from interp.models.base import ArchitectureSpec, LoopInputs, VideoModel, generators_for
from interp.models.maze_organism import OrganismModel
from interp.organism.walk_frames import as_walk_first_frame

WALKER_SPEC = ArchitectureSpec(family="wan-walker", expert_names=("transformer", "transformer_2"))


class WalkerModel(OrganismModel):
    """Adapter around :class:`interp.organism.walk_model.WalkOrganism`.

    It is an organism adapter (pixel space, prepared from a maze image), so every tool that takes
    the maze organism takes the walker; it differs in its two experts and its guidance.

    ``experts`` restricts the model to some of its experts (``("transformer",)`` runs the
    high-noise expert at every step), to measure what each expert does alone.
    """

    spec = WALKER_SPEC

    def __init__(self, walker, name: str | None = None, experts: tuple[str, ...] | None = None):
        VideoModel.__init__(self)  # not OrganismModel's: the walker holds two experts
        experts = tuple(experts or WALKER_SPEC.expert_names)
        for e in experts:
            if e not in WALKER_SPEC.expert_names:
                raise InputError(f"expert {e!r} is not one of {WALKER_SPEC.expert_names}")
        self.transformer = walker.transformer if "transformer" in experts else None
        self.transformer_2 = walker.transformer_2 if "transformer_2" in experts else None
        object.__setattr__(self, "organism", walker)
        self.name = name or walker.config.name
        self.boundary_timestep = 1000.0 * walker.config.boundary if len(experts) == 2 else None

    def make_scheduler(self, shift: float | None = None):
        from diffusers import FlowMatchEulerDiscreteScheduler

        return FlowMatchEulerDiscreteScheduler(shift=self.organism.config.shift if shift is None else shift)

    def prepare(self, *, first_frame, seeds: int | list[int] = 0, prompt: str = "goal",
                guidance_scale: float | None = None, num_frames: int | None = None, task: str | None = None) -> LoopInputs:
        """x_T and both guidance branches for uint8 first frames ``[B, H, W, 3]`` (or one ``[H, W, 3]``).

        Plain maze images get the agent on the start and a key
        (:func:`interp.organism.walk_frames.as_walk_first_frame`), so the maze tools' tasks run on the walker. ``prompt`` names the target (``"goal"`` or ``"key"``); ``task`` is accepted as its alias
        (other tools pass ``task="maze"``, which means the default prompt). Guidance is off at
        ``guidance_scale`` 1 (one call per step, as in the Wan pipelines).
        """
        cfg = self.organism.config
        if task is not None and task != "maze":
            prompt = task
        frames = np.array(first_frame)
        if frames.ndim == 3:
            frames = frames[None]
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise InputError(f"first_frame must be uint8 [B, H, W, 3] or [H, W, 3]; got shape {frames.shape}")
        frames = np.stack([as_walk_first_frame(f, cfg.px_per_unit) for f in frames])
        _, ph, pw = self.patch_size
        if frames.shape[1] % ph or frames.shape[2] % pw:
            raise InputError(f"image size {frames.shape[1]}x{frames.shape[2]} does not fit the patch {ph}x{pw}: "
                             f"render mazes with px_per_unit={cfg.px_per_unit}")
        num_frames = num_frames or cfg.num_frames
        if num_frames % self.patch_size[0]:
            raise InputError(f"num_frames {num_frames} must be a multiple of the temporal patch {self.patch_size[0]}")
        scale = cfg.guidance_scale if guidance_scale is None else float(guidance_scale)
        batch = frames.shape[0]
        generator = generators_for(seeds, batch)
        device = self.device
        pixels = self.organism.frames_to_model(torch.from_numpy(frames)).to(device=device, dtype=torch.float32)
        condition = self.organism.condition(pixels, num_frames)
        shape = (3, num_frames, frames.shape[1], frames.shape[2])
        # Drawn on the host, then one copy to the device (a copy per seed makes the host wait each time).
        latents = torch.cat([torch.randn((1, *shape), generator=g) for g in generator]).to(device)
        cond = {"encoder_hidden_states": self.organism.prompt_embeds(batch, prompt).to(device, self.dtype)}
        uncond = None
        if scale != 1.0:
            uncond = {"encoder_hidden_states": self.organism.prompt_embeds(batch, "").to(device, self.dtype)}
        return LoopInputs(latents=latents, cond=cond, uncond=uncond, latent_condition=condition,
                          guidance_scale=scale, guidance_scale_2=scale,
                          seeds=[int(g.initial_seed()) for g in generator], extras={"prompt": prompt})

    def decode(self, latents: torch.Tensor) -> np.ndarray:
        return self.organism.model_to_frames(latents.float().cpu()).numpy()


def sample_walker(model: WalkerModel, first_frames, *, prompt: str = "goal", guidance_scale: float | None = None,
                  num_steps: int = 20, seed=0, progress: bool = False):
    """Let the walker walk the mazes in ``first_frames`` (uint8 ``[B, H, W, 3]``) to ``prompt``'s target.

    The unedited loop; to edit or observe the run, use :func:`interp.interventions.run`.
    """
    inputs = model.prepare(first_frame=first_frames, seeds=seed, prompt=prompt, guidance_scale=guidance_scale)
    return model(inputs, num_steps=num_steps, progress=progress)
