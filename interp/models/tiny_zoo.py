"""Tiny random pipelines of every supported family, built from the real diffusers classes.

Each entry of :data:`TINY_MODELS` names a pipeline builder and the keyword arguments that both
the pipeline's ``__call__`` and the adapter's ``prepare`` accept for a run of a few tokens
(prompt embeddings instead of text encoders, so nothing is downloaded). The conformance tests
run every entry; a new family joins them by adding its entry here.

Example:
    >>> from interp.models.tiny_zoo import TINY_MODELS, tiny_model
    >>> model, inputs = tiny_model("ltx")
    >>> model.spec.guidance, tuple(inputs.latents.shape)
    ('batched', (1, 8, 3, 8, 8))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from interp.errors import check_choice


def _embeds(seed: int, length: int, dim: int) -> torch.Tensor:
    return torch.randn(1, length, dim, generator=torch.Generator().manual_seed(seed))


def _image(height: int, width: int, seed: int = 0):
    from PIL import Image

    return Image.fromarray(np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8))


# --- builders ----------------------------------------------------------------------------------
def _wan(kind: str, expand: bool = False):
    from diffusers import FlowMatchEulerDiscreteScheduler, WanImageToVideoPipeline, WanPipeline

    from interp.models.tiny import tiny_wan_pipeline, tiny_wan_transformer, tiny_wan_vae

    if not expand:
        return tiny_wan_pipeline(kind)
    # Wan2.2-TI2V-5B's loop: one timestep per token; as image-to-video, the image's latent
    # replaces the first latent frame (a 16-channel VAE stands in for its 48-channel one).
    scheduler = FlowMatchEulerDiscreteScheduler(shift=5.0)
    transformer = tiny_wan_transformer(seed=3)
    if kind == "t2v":
        return WanPipeline(tokenizer=None, text_encoder=None, vae=tiny_wan_vae(), scheduler=scheduler,
                           transformer=transformer, expand_timesteps=True)
    return WanImageToVideoPipeline(tokenizer=None, text_encoder=None, vae=tiny_wan_vae(), scheduler=scheduler,
                                   image_processor=None, image_encoder=None, transformer=transformer,
                                   expand_timesteps=True)


def tiny_hunyuan_vae(latent_channels: int = 4):
    """A tiny HunyuanVideo VAE with the real one's geometry (8x spatial, 4x temporal compression)."""
    from diffusers import AutoencoderKLHunyuanVideo

    torch.manual_seed(0)
    return AutoencoderKLHunyuanVideo(
        in_channels=3, out_channels=3, latent_channels=latent_channels,
        down_block_types=("HunyuanVideoDownBlock3D",) * 4, up_block_types=("HunyuanVideoUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8), layers_per_block=1, act_fn="silu", norm_num_groups=4,
        scaling_factor=0.476986, spatial_compression_ratio=8, temporal_compression_ratio=4,
        mid_block_add_attention=True).eval()


def _hunyuan():
    from diffusers import FlowMatchEulerDiscreteScheduler, HunyuanVideoPipeline, HunyuanVideoTransformer3DModel

    torch.manual_seed(0)
    transformer = HunyuanVideoTransformer3DModel(
        in_channels=4, out_channels=4, num_attention_heads=2, attention_head_dim=10, num_layers=1,
        num_single_layers=1, num_refiner_layers=1, patch_size=1, patch_size_t=1, guidance_embeds=True,
        text_embed_dim=16, pooled_projection_dim=8, rope_axes_dim=(2, 4, 4)).eval()
    return HunyuanVideoPipeline(text_encoder=None, tokenizer=None, transformer=transformer, vae=tiny_hunyuan_vae(),
                                scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), text_encoder_2=None,
                                tokenizer_2=None)


def _hunyuan15():
    from diffusers import (AutoencoderKLHunyuanVideo15, FlowMatchEulerDiscreteScheduler, HunyuanVideo15Pipeline,
                           HunyuanVideo15Transformer3DModel)
    from diffusers.guiders import ClassifierFreeGuidance

    torch.manual_seed(0)
    transformer = HunyuanVideo15Transformer3DModel(
        in_channels=9, out_channels=4, num_attention_heads=2, attention_head_dim=8, num_layers=2, num_refiner_layers=1,
        text_embed_dim=16, text_embed_2_dim=8, image_embed_dim=12, rope_axes_dim=(2, 2, 4), target_size=32,
        task_type="t2v").eval()
    torch.manual_seed(0)
    vae = AutoencoderKLHunyuanVideo15(latent_channels=4, block_out_channels=(8, 8, 8, 8, 8), layers_per_block=1,
                                      spatial_compression_ratio=16, temporal_compression_ratio=4).eval()
    return HunyuanVideo15Pipeline(text_encoder=None, tokenizer=None, transformer=transformer, vae=vae,
                                  scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), text_encoder_2=None,
                                  tokenizer_2=None, guider=ClassifierFreeGuidance(guidance_scale=4.0))


def _ltx():
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXPipeline, LTXVideoTransformer3DModel

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=4, attention_head_dim=8,
        cross_attention_dim=32, num_layers=2, caption_channels=32).eval()
    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(
        in_channels=3, out_channels=3, latent_channels=8, block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1), spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False), decoder_inject_noise=(False,) * 5,
        upsample_residual=(False,) * 4, upsample_factor=(1,) * 4, timestep_conditioning=False, patch_size=1,
        patch_size_t=1, encoder_causal=True, decoder_causal=False).eval()
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    return LTXPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=None, tokenizer=None,
                       transformer=transformer)


def _cogvideox():
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXPipeline, CogVideoXTransformer3DModel

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4, attention_head_dim=8, in_channels=4, out_channels=4, time_embed_dim=2,
        text_embed_dim=32, num_layers=2, sample_width=2, sample_height=2, sample_frames=9, patch_size=2,
        temporal_compression_ratio=4, max_text_seq_length=16).eval()
    torch.manual_seed(0)
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), latent_channels=4,
        layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4).eval()
    return CogVideoXPipeline(tokenizer=None, text_encoder=None, vae=vae, transformer=transformer,
                             scheduler=CogVideoXDDIMScheduler(prediction_type="v_prediction"))


def _mochi():
    from diffusers import AutoencoderKLMochi, FlowMatchEulerDiscreteScheduler, MochiPipeline, MochiTransformer3DModel

    torch.manual_seed(0)
    transformer = MochiTransformer3DModel(
        patch_size=2, num_attention_heads=2, attention_head_dim=8, num_layers=2, pooled_projection_dim=16,
        in_channels=12, out_channels=None, qk_norm="rms_norm", text_embed_dim=32, time_embed_dim=4,
        activation_fn="swiglu", max_sequence_length=16).eval()
    torch.manual_seed(0)
    vae = AutoencoderKLMochi(latent_channels=12, out_channels=3, encoder_block_out_channels=(32, 32, 32, 32),
                             decoder_block_out_channels=(32, 32, 32, 32), layers_per_block=(1, 1, 1, 1, 1)).eval()
    return MochiPipeline(scheduler=FlowMatchEulerDiscreteScheduler(invert_sigmas=True), vae=vae, text_encoder=None,
                         tokenizer=None, transformer=transformer)


@dataclass(frozen=True)
class TinyModel:
    """A tiny pipeline and the inputs of one run.

    Attributes:
        build: returns a fresh pipeline (random weights from a fixed seed).
        inputs: keyword arguments of one run, accepted by both the pipeline and ``prepare``.
        guidance: keyword arguments that turn guidance on (off without them).
        steps: denoising steps of a run (enough for Wan2.2's two experts to both run).
    """

    build: Callable
    inputs: dict = field(default_factory=dict)
    guidance: dict = field(default_factory=dict)
    no_guidance: dict = field(default_factory=dict)
    steps: int = 3


_WAN_TEXT = dict(prompt_embeds=lambda: _embeds(1, 8, 32), negative_prompt_embeds=lambda: _embeds(2, 8, 32),
                 height=16, width=16, num_frames=5)

TINY_MODELS: dict[str, TinyModel] = {
    "wan21-t2v": TinyModel(lambda: _wan("t2v"), _WAN_TEXT, {"guidance_scale": 5.0}, {"guidance_scale": 1.0}),
    "wan21-i2v": TinyModel(lambda: _wan("i2v"), dict(_WAN_TEXT, image=lambda: _image(16, 16)),
                           {"guidance_scale": 4.0}, {"guidance_scale": 1.0}),
    "wan22-a14b": TinyModel(lambda: _wan("wan22"), _WAN_TEXT, {"guidance_scale": 5.0, "guidance_scale_2": 3.0},
                            {"guidance_scale": 1.0}, steps=4),
    "wan22-ti2v-t2v": TinyModel(lambda: _wan("t2v", expand=True), _WAN_TEXT, {"guidance_scale": 5.0},
                                {"guidance_scale": 1.0}),
    "wan22-ti2v-i2v": TinyModel(lambda: _wan("i2v", expand=True), dict(_WAN_TEXT, image=lambda: _image(16, 16)),
                                {"guidance_scale": 5.0}, {"guidance_scale": 1.0}),
    "hunyuan-video": TinyModel(
        _hunyuan,
        dict(prompt_embeds=lambda: _embeds(1, 6, 16), pooled_prompt_embeds=lambda: _embeds(3, 1, 8)[0],
             prompt_attention_mask=lambda: torch.ones(1, 6), height=16, width=16, num_frames=5, guidance_scale=4.5),
        {"true_cfg_scale": 3.0, "negative_prompt_embeds": lambda: _embeds(2, 6, 16),
         "negative_pooled_prompt_embeds": lambda: _embeds(4, 1, 8)[0],
         "negative_prompt_attention_mask": lambda: torch.ones(1, 6)},
        {"true_cfg_scale": 1.0}),
    "hunyuan-video-1.5": TinyModel(
        _hunyuan15,
        dict(prompt_embeds=lambda: _embeds(1, 6, 16), prompt_embeds_mask=lambda: torch.ones(1, 6),
             prompt_embeds_2=lambda: _embeds(2, 5, 8), prompt_embeds_mask_2=lambda: torch.ones(1, 5),
             negative_prompt_embeds=lambda: _embeds(3, 6, 16), negative_prompt_embeds_mask=lambda: torch.ones(1, 6),
             negative_prompt_embeds_2=lambda: _embeds(4, 5, 8), negative_prompt_embeds_mask_2=lambda: torch.ones(1, 5),
             height=32, width=32, num_frames=5),
        {}, {"guidance_scale": 1.0}),
    "ltx": TinyModel(
        _ltx,
        dict(prompt_embeds=lambda: _embeds(1, 6, 32), prompt_attention_mask=lambda: torch.ones(1, 6),
             negative_prompt_embeds=lambda: _embeds(2, 6, 32), negative_prompt_attention_mask=lambda: torch.ones(1, 6),
             height=32, width=32, num_frames=9),
        {"guidance_scale": 3.0}, {"guidance_scale": 1.0}),
    "cogvideox": TinyModel(
        _cogvideox,
        dict(prompt_embeds=lambda: _embeds(1, 16, 32), negative_prompt_embeds=lambda: _embeds(2, 16, 32),
             height=16, width=16, num_frames=5, max_sequence_length=16),
        {"guidance_scale": 6.0}, {"guidance_scale": 1.0}),
    "mochi": TinyModel(
        _mochi,
        dict(prompt_embeds=lambda: _embeds(1, 16, 32), prompt_attention_mask=lambda: torch.ones(1, 16),
             negative_prompt_embeds=lambda: _embeds(2, 16, 32), negative_prompt_attention_mask=lambda: torch.ones(1, 16),
             height=16, width=16, num_frames=7, max_sequence_length=16),
        {"guidance_scale": 4.5}, {"guidance_scale": 1.0}),
}


def tiny_pipeline(name: str, *, text_encoder: bool = False):
    """Entry ``name``'s pipeline, with a tiny tokenizer and text encoder if asked."""
    from interp.models.tiny_text import tiny_text_components

    pipe = TINY_MODELS[name].build()
    if text_encoder:
        pipe.register_modules(**tiny_text_components(name))
    return pipe


def save_tiny_pipeline(name: str, folder, *, text_encoder: bool = True):
    """Write entry ``name``'s pipeline (by default with its tiny text encoder) as a diffusers
    folder that :func:`~interp.models.load_model` and the command line read."""
    from pathlib import Path

    folder = Path(folder)
    tiny_pipeline(name, text_encoder=text_encoder).save_pretrained(folder, safe_serialization=True)
    return folder


def run_kwargs(name: str, guidance: bool = True) -> dict:
    """Fresh keyword arguments of entry ``name``'s run (tensors and images built anew)."""
    check_choice("tiny model", name, list(TINY_MODELS))
    entry = TINY_MODELS[name]
    merged = {**entry.inputs, **(entry.guidance if guidance else entry.no_guidance)}
    return {k: (v() if callable(v) else v) for k, v in merged.items()}


def run_pipeline(name: str, pipe, *, guidance: bool = True, **options):
    """Entry ``name``'s run through the diffusers pipeline itself (the oracle of the conformance
    tests); ``options`` go to the pipeline's call (``num_inference_steps``, ``generator``...).

    A pipeline whose guidance lives in its guider (HunyuanVideo 1.5) gets the run's scale set on
    the guider for the call.
    """
    kwargs = {**run_kwargs(name, guidance), **options}
    guider = getattr(pipe, "guider", None)
    if guider is None:
        return pipe(**kwargs)
    saved = guider.guidance_scale
    guider.guidance_scale = kwargs.pop("guidance_scale", saved)
    try:
        return pipe(**kwargs)
    finally:
        guider.guidance_scale = saved


def tiny_model(name: str, *, guidance: bool = True, seeds=(7,)):
    """The adapter of entry ``name``'s pipeline and the inputs of its run, one sample per seed."""
    from interp.models.loading import load_model

    model = load_model(TINY_MODELS[name].build())
    return model, model.prepare(seeds=list(seeds), **run_kwargs(name, guidance))
