"""LTX-Video (text-to-video) through its diffusers pipeline.

LTX's pipeline keeps its latents packed as tokens ``[B, T, C]``; the adapter keeps the loop's
latents as ``[B, C, F, H, W]`` like every family and packs them for each transformer call
(the scheduler step is elementwise, so the result is bitwise the pipeline's). Guidance runs
both branches in one batched call, uncond first; the schedule's shift depends on the number of
latent tokens, so the timesteps are set from the inputs.

Example:
    >>> from diffusers import LTXPipeline                                               # doctest: +SKIP
    >>> model = LTXModel(LTXPipeline.from_pretrained("/models/LTX-Video"))               # doctest: +SKIP
    >>> inputs = model.prepare(prompt="a maze", height=480, width=704, num_frames=49)    # doctest: +SKIP
    >>> result = model(inputs, num_steps=30)                                            # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import torch

from interp.errors import InputError
from interp.models.base import ArchitectureSpec, LoopInputs, VideoModel, generators_for, repeat_to_batch

LTX_SPEC = ArchitectureSpec(
    family="ltx-video",
    block_lists=("transformer_blocks",),
    block_sites={"attn1": "attn1", "attn2": "attn2", "ffn": "ff"},
    guidance="batched",
)


class LTXModel(VideoModel):
    """Adapter for ``LTXPipeline``."""

    spec = LTX_SPEC

    def __init__(self, pipe, name: str | None = None):
        super().__init__()
        self.pipe = pipe
        self.transformer = pipe.transformer
        self.vae = pipe.vae
        self.name = name or type(pipe).__name__

    @property
    def patch_size(self) -> tuple[int, int, int]:
        return self.pipe.transformer_temporal_patch_size, self.pipe.transformer_spatial_patch_size, \
            self.pipe.transformer_spatial_patch_size

    @property
    def pixels_per_token(self) -> tuple[int, int]:
        scale = self.pipe.vae_spatial_compression_ratio * self.pipe.transformer_spatial_patch_size
        return scale, scale

    def make_scheduler(self, shift: float | None = None):
        if shift is not None:
            raise InputError("LTX-Video's shift follows the video size (dynamic shifting): it cannot be overridden")
        return type(self.pipe.scheduler).from_config(self.pipe.scheduler.config)

    def set_timesteps(self, scheduler, num_steps: int, inputs: LoopInputs | None = None) -> None:
        from diffusers.pipelines.ltx.pipeline_ltx import calculate_shift

        if inputs is None:
            raise InputError("LTX-Video's schedule depends on the video size: give the run's inputs")
        f, h, w = inputs.latents.shape[-3:]
        config = scheduler.config
        mu = calculate_shift(f * h * w, config.get("base_image_seq_len", 256), config.get("max_image_seq_len", 4096),
                             config.get("base_shift", 0.5), config.get("max_shift", 1.15))
        scheduler.set_timesteps(sigmas=np.linspace(1.0, 1 / num_steps, num_steps), mu=mu, device=self.device)

    @torch.no_grad()  # as the pipeline encodes: no graph, and the kernels it takes
    def prepare(
        self,
        *,
        prompt: str | None = None,
        negative_prompt: str | None = None,
        prompt_embeds: torch.Tensor | None = None,
        prompt_attention_mask: torch.Tensor | None = None,
        negative_prompt_embeds: torch.Tensor | None = None,
        negative_prompt_attention_mask: torch.Tensor | None = None,
        height: int = 512,
        width: int = 704,
        num_frames: int = 161,
        frame_rate: int = 25,
        guidance_scale: float = 3.0,
        seeds: int | list[int] = 0,
        batch_size: int | None = None,
        max_sequence_length: int = 128,
    ) -> LoopInputs:
        """Encode the prompts and draw x_T from ``seeds`` as the pipeline would."""
        pipe = self.pipe
        self.check_text_encoders(prompt if prompt_embeds is None else None)
        if height % 32 or width % 32:
            raise InputError(f"height x width {height}x{width} must be multiples of 32 for LTX-Video")
        if (num_frames - 1) % pipe.vae_temporal_compression_ratio:
            raise InputError(f"num_frames {num_frames} is invalid: num_frames - 1 must be divisible by "
                             f"{pipe.vae_temporal_compression_ratio}")
        if batch_size is None:
            batch_size = 1 if isinstance(seeds, int) else len(seeds)
        generator = generators_for(seeds, batch_size)
        device, dtype = self.device, self.dtype
        do_guidance = guidance_scale > 1.0
        embeds, mask, negative, negative_mask = pipe.encode_prompt(
            prompt=prompt, negative_prompt=negative_prompt, do_classifier_free_guidance=do_guidance,
            num_videos_per_prompt=batch_size, prompt_embeds=prompt_embeds, negative_prompt_embeds=negative_prompt_embeds,
            prompt_attention_mask=prompt_attention_mask, negative_prompt_attention_mask=negative_prompt_attention_mask,
            max_sequence_length=max_sequence_length, device=device)
        cond = {"encoder_hidden_states": repeat_to_batch(embeds.to(dtype), batch_size),
                "encoder_attention_mask": repeat_to_batch(mask, batch_size)}
        uncond = {"encoder_hidden_states": repeat_to_batch(negative.to(dtype), batch_size),
                  "encoder_attention_mask": repeat_to_batch(negative_mask, batch_size)} if do_guidance else None
        packed = pipe.prepare_latents(batch_size, self.transformer.config.in_channels, height, width, num_frames,
                                      torch.float32, device, generator, None)
        grid = ((num_frames - 1) // pipe.vae_temporal_compression_ratio + 1,
                height // pipe.vae_spatial_compression_ratio, width // pipe.vae_spatial_compression_ratio)
        rope_scale = (pipe.vae_temporal_compression_ratio / frame_rate, pipe.vae_spatial_compression_ratio,
                      pipe.vae_spatial_compression_ratio)
        return LoopInputs(latents=self.unpack(packed, grid), cond=cond, uncond=uncond, guidance_scale=guidance_scale,
                          seeds=[int(g.initial_seed()) for g in generator], extras={"rope_interpolation_scale": rope_scale})

    def pack(self, latents: torch.Tensor) -> torch.Tensor:
        """``[B, C, F, H, W]`` -> the pipeline's tokens ``[B, T, C']``."""
        return self.pipe._pack_latents(latents, self.pipe.transformer_spatial_patch_size,
                                       self.pipe.transformer_temporal_patch_size)

    def pipeline_latents(self, latents: torch.Tensor) -> torch.Tensor:
        return self.pack(latents)

    def unpack(self, tokens: torch.Tensor, grid) -> torch.Tensor:
        """The pipeline's tokens ``[B, T, C']`` -> ``[B, C, F, H, W]`` with latent ``grid`` (frames, height, width)."""
        return self.pipe._unpack_latents(tokens, *grid, self.pipe.transformer_spatial_patch_size,
                                         self.pipe.transformer_temporal_patch_size)

    def call_transformer(self, expert: str, x_t, timestep, inputs: LoopInputs, kwargs: dict) -> torch.Tensor:
        grid = tuple(x_t.shape[-3:])
        out = self.transformer(
            hidden_states=self.pack(x_t).to(self.dtype), timestep=timestep.expand(x_t.shape[0]),
            num_frames=grid[0], height=grid[1], width=grid[2],
            rope_interpolation_scale=inputs.extras["rope_interpolation_scale"], return_dict=False, **kwargs,
        )[0]
        return self.unpack(out.float(), grid)

    @torch.no_grad()
    def decode_float(self, latents: torch.Tensor) -> np.ndarray:
        """Decode latents with the VAE exactly as the pipeline does (no decode noise): float video in [0, 1]."""
        vae = self.vae
        if vae.config.timestep_conditioning:
            raise InputError("this LTX VAE needs decode noise and a decode timestep: decoding it is not supported")
        latents = self.pipe._denormalize_latents(latents, vae.latents_mean, vae.latents_std, vae.config.scaling_factor)
        video = vae.decode(latents.to(vae.dtype), None, return_dict=False)[0]
        return self.pipe.video_processor.postprocess_video(video, output_type="np")
