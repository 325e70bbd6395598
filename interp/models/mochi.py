"""Mochi 1 (text-to-video) through its diffusers pipeline.

Mochi's blocks attend jointly over text and video but keep the two streams apart, so the
self-attention's video part (``attn1.out``) and the video feed-forward (``ffn.out``, module
``ff``) are sites; there is no cross-attention. Guidance runs both branches in one batched call,
uncond first. Its flow-matching scheduler runs inverted sigmas (0 to 1), which the flow
defaults of :class:`~interp.models.base.VideoModel` measure from the schedule's end, so x0_hat
and the noise level mean what they mean in every other family.

Example:
    >>> from diffusers import MochiPipeline                                            # doctest: +SKIP
    >>> model = MochiModel(MochiPipeline.from_pretrained("/models/mochi-1-preview"))     # doctest: +SKIP
    >>> inputs = model.prepare(prompt="a maze", height=480, width=848, num_frames=19)    # doctest: +SKIP
    >>> result = model(inputs, num_steps=64)                                           # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import torch

from interp.errors import InputError
from interp.models.base import ArchitectureSpec, LoopInputs, VideoModel, generators_for, repeat_to_batch

MOCHI_SPEC = ArchitectureSpec(
    family="mochi",
    block_lists=("transformer_blocks",),
    block_sites={"attn1": "attn1", "ffn": "ff"},
    guidance="batched",
)


class MochiModel(VideoModel):
    """Adapter for ``MochiPipeline``."""

    spec = MOCHI_SPEC
    prompt_length_config = "max_sequence_length"

    def __init__(self, pipe, name: str | None = None):
        super().__init__()
        self.pipe = pipe
        self.transformer = pipe.transformer
        self.vae = pipe.vae
        self.name = name or type(pipe).__name__

    @property
    def patch_size(self) -> tuple[int, int, int]:
        p = int(self.transformer.config.patch_size)
        return 1, p, p

    @property
    def pixels_per_token(self) -> tuple[int, int]:
        scale = self.pipe.vae_spatial_scale_factor * self.patch_size[1]
        return scale, scale

    def make_scheduler(self, shift: float | None = None):
        if shift is not None:
            raise InputError("Mochi's schedule is its own linear-quadratic one: it has no shift to override")
        return type(self.pipe.scheduler).from_config(self.pipe.scheduler.config)

    def set_timesteps(self, scheduler, num_steps: int, inputs: LoopInputs | None = None) -> None:
        from diffusers.pipelines.mochi.pipeline_mochi import linear_quadratic_schedule

        scheduler.set_timesteps(sigmas=np.array(linear_quadratic_schedule(num_steps, 0.025)), device=self.device)

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
        height: int = 480,
        width: int = 848,
        num_frames: int = 19,
        guidance_scale: float = 4.5,
        seeds: int | list[int] = 0,
        batch_size: int | None = None,
        max_sequence_length: int | None = None,
    ) -> LoopInputs:
        """Encode the prompts and draw x_T from ``seeds`` as the pipeline would; prompts are encoded
        at the transformer's ``max_sequence_length`` unless told otherwise."""
        pipe = self.pipe
        self.check_text_encoders(prompt if prompt_embeds is None else None)
        max_sequence_length = self.prompt_length(max_sequence_length, 256)
        scale = pipe.vae_spatial_scale_factor * self.patch_size[1]
        if height % scale or width % scale:
            raise InputError(f"height x width {height}x{width} must be multiples of {scale} for this model")
        if batch_size is None:
            batch_size = 1 if isinstance(seeds, int) else len(seeds)
        generator = generators_for(seeds, batch_size)
        device, dtype = self.device, self.dtype
        do_guidance = guidance_scale > 1.0
        embeds, mask, negative, negative_mask = pipe.encode_prompt(
            prompt=prompt, negative_prompt=negative_prompt, do_classifier_free_guidance=do_guidance,
            num_videos_per_prompt=1, prompt_embeds=prompt_embeds, negative_prompt_embeds=negative_prompt_embeds,
            prompt_attention_mask=prompt_attention_mask, negative_prompt_attention_mask=negative_prompt_attention_mask,
            max_sequence_length=max_sequence_length, device=device)
        latents = pipe.prepare_latents(batch_size, self.transformer.config.in_channels, height, width, num_frames,
                                       embeds.dtype, device, generator, None)

        def branch(e, m):
            return {"encoder_hidden_states": repeat_to_batch(e, batch_size),
                    "encoder_attention_mask": repeat_to_batch(m, batch_size)}

        return LoopInputs(latents=latents, cond=branch(embeds, mask),
                          uncond=branch(negative, negative_mask) if do_guidance else None,
                          guidance_scale=guidance_scale, seeds=[int(g.initial_seed()) for g in generator])

    def call_transformer(self, expert: str, x_t, timestep, inputs: LoopInputs, kwargs: dict) -> torch.Tensor:
        return self.transformer(hidden_states=x_t, timestep=timestep.expand(x_t.shape[0]).to(x_t.dtype),
                                return_dict=False, **kwargs)[0].to(torch.float32)

    def step_latents(self, scheduler, step: int, timestep, prediction: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        return scheduler.step(prediction, timestep, x_t.to(torch.float32), return_dict=False)[0].to(x_t.dtype)

    @torch.no_grad()
    def decode_float(self, latents: torch.Tensor) -> np.ndarray:
        """Decode latents with the VAE exactly as the pipeline does: float video in [0, 1]."""
        config = self.vae.config
        if getattr(config, "latents_mean", None) is not None and getattr(config, "latents_std", None) is not None:
            mean = torch.tensor(config.latents_mean).view(1, -1, 1, 1, 1).to(latents.device, latents.dtype)
            std = torch.tensor(config.latents_std).view(1, -1, 1, 1, 1).to(latents.device, latents.dtype)
            latents = latents * std / config.scaling_factor + mean
        else:
            latents = latents / config.scaling_factor
        video = self.vae.decode(latents, return_dict=False)[0]
        return self.pipe.video_processor.postprocess_video(video, output_type="np")
