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
