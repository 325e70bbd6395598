"""Tiny random Wan models (the real diffusers classes) and their inputs, shared by the capture tests."""

from __future__ import annotations

import torch

from interp.models import WanModel
from interp.models.tiny import TEXT_DIM, tiny_wan_pipeline

# 32x32 pixels and 9 frames -> latents [16, 3, 4, 4] -> 3 x 2 x 2 = 12 tokens.
GEOMETRY = dict(height=32, width=32, num_frames=9)


def embeds(seed: int) -> torch.Tensor:
    return torch.randn(1, 8, TEXT_DIM, generator=torch.Generator().manual_seed(seed))


def tiny_model(kind: str = "t2v") -> WanModel:
    return WanModel(tiny_wan_pipeline(kind))


def tiny_inputs(model: WanModel, *, guidance: float = 5.0, seeds=(7,)):
    return model.prepare(prompt_embeds=embeds(1).repeat(len(seeds), 1, 1),
                         negative_prompt_embeds=embeds(2).repeat(len(seeds), 1, 1),
                         guidance_scale=guidance, seeds=list(seeds), **GEOMETRY)


def tiny_organism():
    """A small random maze organism (the real adapter and transformer class) and one maze's inputs."""
    from interp.models import OrganismModel
    from interp.organism import OrganismConfig, build_organism, default_transformer_config
    from interp.tasks import generate_maze, render_maze

    tcfg = default_transformer_config(num_layers=2, num_attention_heads=2, attention_head_dim=12, ffn_dim=32,
                                      freq_dim=16)
    model = OrganismModel(build_organism(OrganismConfig(num_frames=4), tcfg, seed=0)).eval()
    return model, model.prepare(first_frame=render_maze(generate_maze(5, seed=0), px_per_unit=2), seeds=[7])
