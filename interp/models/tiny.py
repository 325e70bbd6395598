"""Tiny random Wan pipelines built from the real diffusers classes, for tests and quick experiments.

They match the configs diffusers' own tests use, need no download, and run in well under a
second per step on a laptop CPU. Text and image encoders are left out: pass ``prompt_embeds``
(``[B, L, 32]``) instead of a prompt.

Example:
    >>> pipe = tiny_wan_pipeline("t2v")
    >>> type(pipe).__name__
    'WanPipeline'
"""

from __future__ import annotations

import torch

from interp.errors import check_choice

KINDS = ("t2v", "i2v", "wan22")
TEXT_DIM = 32


def tiny_wan_transformer(*, in_channels: int = 16, image_dim: int | None = None, seed: int = 0):
    from diffusers import WanTransformer3DModel

    torch.manual_seed(seed)
    return WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=in_channels,
        out_channels=16,
        text_dim=TEXT_DIM,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
        image_dim=image_dim,
    ).eval()


def tiny_wan_vae(seed: int = 0):
    from diffusers import AutoencoderKLWan

    torch.manual_seed(seed)
    return AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    ).eval()


def tiny_wan_pipeline(kind: str = "t2v", *, seed: int = 0, shift: float = 7.0):
    """A randomly initialised Wan pipeline: ``"t2v"`` (Wan2.1 text-to-video), ``"i2v"`` (Wan2.1
    image-to-video with a CLIP image encoder) or ``"wan22"`` (Wan2.2 text-to-video, two experts
    switched at ``boundary_ratio=0.875``)."""
    from diffusers import FlowMatchEulerDiscreteScheduler, WanImageToVideoPipeline, WanPipeline

    check_choice("tiny pipeline kind", kind, KINDS)
    scheduler = FlowMatchEulerDiscreteScheduler(shift=shift)
    vae = tiny_wan_vae(seed)
    if kind == "t2v":
        return WanPipeline(tokenizer=None, text_encoder=None, vae=vae, scheduler=scheduler,
                           transformer=tiny_wan_transformer(seed=seed))
    if kind == "wan22":
        return WanPipeline(tokenizer=None, text_encoder=None, vae=vae, scheduler=scheduler,
                           transformer=tiny_wan_transformer(seed=seed),
                           transformer_2=tiny_wan_transformer(seed=seed + 1), boundary_ratio=0.875)
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=4, projection_dim=4, num_hidden_layers=2, num_attention_heads=2,
        image_size=32, intermediate_size=16, patch_size=1,
    )).eval()
    return WanImageToVideoPipeline(
        tokenizer=None, text_encoder=None, vae=vae, scheduler=scheduler,
        image_processor=CLIPImageProcessor(crop_size=32, size=32), image_encoder=encoder,
        transformer=tiny_wan_transformer(in_channels=36, image_dim=4, seed=seed),
    )


#: A geometry the tiny pipelines accept: 32x32 pixels, 9 frames -> latents [16, 3, 4, 4] -> 12 tokens.
TINY_GEOMETRY = dict(height=32, width=32, num_frames=9)


def tiny_embeds(seed: int, batch: int = 1) -> torch.Tensor:
    """Random prompt embeddings ``[batch, 8, TEXT_DIM]`` (the same row repeated)."""
    return torch.randn(1, 8, TEXT_DIM, generator=torch.Generator().manual_seed(seed)).repeat(batch, 1, 1)


def tiny_wan(kind: str = "t2v"):
    """A :class:`~interp.models.WanModel` around :func:`tiny_wan_pipeline`."""
    from interp.models.wan import WanModel

    return WanModel(tiny_wan_pipeline(kind))


def tiny_wan_inputs(model, *, guidance: float = 5.0, seeds=(7,)):
    """Loop inputs of a tiny Wan model at :data:`TINY_GEOMETRY`, one sample per seed."""
    return model.prepare(prompt_embeds=tiny_embeds(1, len(seeds)), negative_prompt_embeds=tiny_embeds(2, len(seeds)),
                         guidance_scale=guidance, seeds=list(seeds), **TINY_GEOMETRY)
