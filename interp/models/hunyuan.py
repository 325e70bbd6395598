"""HunyuanVideo (text-to-video) through its diffusers pipeline.

HunyuanVideo runs dual-stream blocks (``transformer_blocks``) and then single-stream blocks
(``single_transformer_blocks``); layer ``l`` counts through both lists in run order. Both kinds
take and return the video tokens apart from the text tokens, so ``resid_pre`` and ``resid_post``
hold video tokens only; their attention and MLP run on the joint text-video sequence (single
blocks) and are therefore not offered as sites.

Its guidance is distilled into the transformer (``guidance_scale``, embedded as an input);
classifier-free guidance with a negative prompt (``true_cfg_scale`` > 1) runs a second,
separate call per step, cond first.

Example:
    >>> from diffusers import HunyuanVideoPipeline                                          # doctest: +SKIP
    >>> model = HunyuanVideoModel(HunyuanVideoPipeline.from_pretrained("/models/HunyuanVideo"))  # doctest: +SKIP
    >>> inputs = model.prepare(prompt="a maze", height=320, width=512, num_frames=61)        # doctest: +SKIP
    >>> result = model(inputs, num_steps=30)                                                # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import torch

from interp.errors import InputError
from interp.models.base import ArchitectureSpec, LoopInputs, VideoModel, generators_for, repeat_to_batch

HUNYUAN_SPEC = ArchitectureSpec(
    family="hunyuan-video",
    block_lists=("transformer_blocks", "single_transformer_blocks"),
    block_sites={},
)


class HunyuanVideoModel(VideoModel):
    """Adapter for ``HunyuanVideoPipeline``."""

    spec = HUNYUAN_SPEC
    text_encoder_names = ("text_encoder", "text_encoder_2")

    def __init__(self, pipe, name: str | None = None):
        super().__init__()
        self.pipe = pipe
        self.transformer = pipe.transformer
        self.vae = pipe.vae
        self.name = name or type(pipe).__name__

    @property
    def patch_size(self) -> tuple[int, int, int]:
        config = self.transformer.config
        return int(config.patch_size_t), int(config.patch_size), int(config.patch_size)

    def make_scheduler(self, shift: float | None = None):
        config = dict(self.pipe.scheduler.config)
        if shift is not None:
            config["shift"] = shift
        return type(self.pipe.scheduler).from_config(config)

    def set_timesteps(self, scheduler, num_steps: int, inputs: LoopInputs | None = None) -> None:
        # The pipeline's own sigmas: linear from 1, shifted by the scheduler.
        scheduler.set_timesteps(sigmas=np.linspace(1.0, 0.0, num_steps + 1)[:-1], device=self.device)

    @torch.no_grad()  # as the pipeline encodes: no graph, and the kernels it takes
    def prepare(
        self,
        *,
        prompt: str | None = None,
        negative_prompt: str | None = None,
        prompt_embeds: torch.Tensor | None = None,
        pooled_prompt_embeds: torch.Tensor | None = None,
        prompt_attention_mask: torch.Tensor | None = None,
        negative_prompt_embeds: torch.Tensor | None = None,
        negative_pooled_prompt_embeds: torch.Tensor | None = None,
        negative_prompt_attention_mask: torch.Tensor | None = None,
        height: int = 320,
        width: int = 512,
        num_frames: int = 61,
        guidance_scale: float = 6.0,
        true_cfg_scale: float = 1.0,
        seeds: int | list[int] = 0,
        batch_size: int | None = None,
        max_sequence_length: int = 256,
    ) -> LoopInputs:
        """Encode the prompts and draw x_T from ``seeds`` as the pipeline would.

        ``guidance_scale`` is the embedded (distilled) guidance; ``true_cfg_scale`` > 1 with a
        negative prompt turns on classifier-free guidance with separate calls.
        """
        pipe = self.pipe
        self.check_text_encoders(prompt if prompt_embeds is None else None)
        scale = pipe.vae_scale_factor_spatial * self.patch_size[1]
        if height % scale or width % scale:
            raise InputError(f"height x width {height}x{width} must be multiples of {scale} for this model")
        if (num_frames - 1) % pipe.vae_scale_factor_temporal:
            raise InputError(f"num_frames {num_frames} is invalid: num_frames - 1 must be divisible by "
                             f"{pipe.vae_scale_factor_temporal}")
        if batch_size is None:
            batch_size = 1 if isinstance(seeds, int) else len(seeds)
        generator = generators_for(seeds, batch_size)
        device, dtype = self.device, self.dtype
        has_negative = negative_prompt is not None or (negative_prompt_embeds is not None
                                                       and negative_pooled_prompt_embeds is not None)
        do_guidance = true_cfg_scale > 1 and has_negative

        def encode(text, embeds, pooled, mask):
            embeds, pooled, mask = pipe.encode_prompt(
                prompt=text, prompt_embeds=embeds, pooled_prompt_embeds=pooled, prompt_attention_mask=mask,
                device=device, max_sequence_length=max_sequence_length)
            if mask is None:
                mask = torch.ones(embeds.shape[:2], device=device)
            guidance = torch.tensor([guidance_scale] * batch_size, dtype=dtype, device=device) * 1000.0
            return {"encoder_hidden_states": repeat_to_batch(embeds.to(dtype), batch_size),
                    "encoder_attention_mask": repeat_to_batch(mask.to(dtype), batch_size),
                    "pooled_projections": repeat_to_batch(pooled.to(dtype), batch_size),
                    "guidance": guidance}

        cond = encode(prompt, prompt_embeds, pooled_prompt_embeds, prompt_attention_mask)
        uncond = encode(negative_prompt, negative_prompt_embeds, negative_pooled_prompt_embeds,
                        negative_prompt_attention_mask) if do_guidance else None
        latents = pipe.prepare_latents(batch_size, self.transformer.config.in_channels, height, width, num_frames,
                                       torch.float32, device, generator, None)
        return LoopInputs(latents=latents, cond=cond, uncond=uncond, guidance_scale=true_cfg_scale,
                          seeds=[int(g.initial_seed()) for g in generator])

    def call_transformer(self, expert: str, x_t, timestep, inputs: LoopInputs, kwargs: dict) -> torch.Tensor:
        return self.transformer(hidden_states=x_t.to(self.dtype), timestep=timestep.expand(x_t.shape[0]).to(x_t.dtype),
                                return_dict=False, **kwargs)[0]

    @torch.no_grad()
    def decode_float(self, latents: torch.Tensor) -> np.ndarray:
        """Decode latents with the VAE exactly as the pipeline does: float video in [0, 1]."""
        vae = self.vae
        video = vae.decode(latents.to(vae.dtype) / vae.config.scaling_factor, return_dict=False)[0]
        return self.pipe.video_processor.postprocess_video(video, output_type="np")
