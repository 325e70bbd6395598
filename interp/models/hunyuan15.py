"""HunyuanVideo 1.5 (text-to-video) through its diffusers pipeline.

Its blocks are dual-stream (video and text tokens apart), so the joint attention's video part
(``attn1.out``, module ``attn``) and the video feed-forward (``ffn.out``, module ``ff``) are
sites. The pipeline hands guidance to a ``ClassifierFreeGuidance`` guider, which runs cond and
uncond as separate calls, cond first, and combines them as every family does; a guider that
switches guidance on or off within the run (``start``/``stop``) or rescales it is refused.
The text-to-video transformer still takes zero image embeddings and zero condition latents
with a zero mask, as the pipeline gives it.

Example:
    >>> from diffusers import HunyuanVideo15Pipeline                                       # doctest: +SKIP
    >>> model = HunyuanVideo15Model(HunyuanVideo15Pipeline.from_pretrained("/models/HunyuanVideo-1.5"))  # doctest: +SKIP
    >>> inputs = model.prepare(prompt="a maze", height=480, width=848, num_frames=61)       # doctest: +SKIP
    >>> result = model(inputs, num_steps=50)                                               # doctest: +SKIP
"""

from __future__ import annotations

import math

import numpy as np
import torch

from interp.errors import InputError
from interp.models.base import ArchitectureSpec, LoopInputs, VideoModel, generators_for, repeat_to_batch

HUNYUAN15_SPEC = ArchitectureSpec(
    family="hunyuan-video-1.5",
    block_lists=("transformer_blocks",),
    block_sites={"attn1": "attn", "ffn": "ff"},
)


class HunyuanVideo15Model(VideoModel):
    """Adapter for ``HunyuanVideo15Pipeline``."""

    spec = HUNYUAN15_SPEC
    text_encoder_names = ("text_encoder", "text_encoder_2")

    def __init__(self, pipe, name: str | None = None):
        super().__init__()
        guider = pipe.guider
        if (type(guider).__name__ != "ClassifierFreeGuidance" or guider.guidance_rescale > 0
                or guider.use_original_formulation or (guider._start, guider._stop) != (0.0, 1.0)):
            raise InputError(f"HunyuanVideo 1.5 with guider {guider.config} is not supported: only plain "
                             "classifier-free guidance over the whole run (no rescale, start 0, stop 1)")
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
        scheduler.set_timesteps(sigmas=np.linspace(1.0, 0.0, num_steps + 1)[:-1], device=self.device)

    @torch.no_grad()  # as the pipeline encodes: no graph, and the kernels it takes
    def prepare(
        self,
        *,
        prompt: str | None = None,
        negative_prompt: str | None = None,
        prompt_embeds: torch.Tensor | None = None,
        prompt_embeds_mask: torch.Tensor | None = None,
        prompt_embeds_2: torch.Tensor | None = None,
        prompt_embeds_mask_2: torch.Tensor | None = None,
        negative_prompt_embeds: torch.Tensor | None = None,
        negative_prompt_embeds_mask: torch.Tensor | None = None,
        negative_prompt_embeds_2: torch.Tensor | None = None,
        negative_prompt_embeds_mask_2: torch.Tensor | None = None,
        height: int = 480,
        width: int = 848,
        num_frames: int = 61,
        guidance_scale: float | None = None,
        seeds: int | list[int] = 0,
        batch_size: int | None = None,
    ) -> LoopInputs:
        """Encode the prompts and draw x_T from ``seeds`` as the pipeline would; ``guidance_scale``
        defaults to the pipeline's guider's."""
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
        guidance_scale = pipe.guider.guidance_scale if guidance_scale is None else guidance_scale
        do_guidance = pipe.guider._enabled and not math.isclose(guidance_scale, 1.0)

        def encode(text, embeds, mask, embeds_2, mask_2):
            embeds, mask, embeds_2, mask_2 = pipe.encode_prompt(
                prompt=text, device=device, dtype=dtype, batch_size=1, num_videos_per_prompt=1, prompt_embeds=embeds,
                prompt_embeds_mask=mask, prompt_embeds_2=embeds_2, prompt_embeds_mask_2=mask_2)
            return {"encoder_hidden_states": repeat_to_batch(embeds, batch_size),
                    "encoder_attention_mask": repeat_to_batch(mask, batch_size),
                    "encoder_hidden_states_2": repeat_to_batch(embeds_2, batch_size),
                    "encoder_attention_mask_2": repeat_to_batch(mask_2, batch_size),
                    "image_embeds": torch.zeros(batch_size, pipe.vision_num_semantic_tokens, pipe.vision_states_dim,
                                                dtype=dtype, device=device)}

        cond = encode(prompt, prompt_embeds, prompt_embeds_mask, prompt_embeds_2, prompt_embeds_mask_2)
        uncond = encode(negative_prompt, negative_prompt_embeds, negative_prompt_embeds_mask, negative_prompt_embeds_2,
                        negative_prompt_embeds_mask_2) if do_guidance else None
        latents = pipe.prepare_latents(batch_size, pipe.num_channels_latents, height, width, num_frames, dtype,
                                       device, generator, None)
        condition = torch.cat(pipe.prepare_cond_latents_and_mask(latents, dtype, device), dim=1)
        return LoopInputs(latents=latents, cond=cond, uncond=uncond, latent_condition=condition,
                          guidance_scale=guidance_scale, seeds=[int(g.initial_seed()) for g in generator])

    def call_transformer(self, expert: str, x_t, timestep, inputs: LoopInputs, kwargs: dict) -> torch.Tensor:
        hidden = self.transformer_input(x_t, inputs)
        return self.transformer(hidden_states=hidden, timestep=timestep.expand(hidden.shape[0]).to(hidden.dtype),
                                return_dict=False, **kwargs)[0]

    @torch.no_grad()
    def decode_float(self, latents: torch.Tensor) -> np.ndarray:
        """Decode latents with the VAE exactly as the pipeline does: float video in [0, 1]."""
        vae = self.vae
        video = vae.decode(latents.to(vae.dtype) / vae.config.scaling_factor, return_dict=False)[0]
        return self.pipe.video_processor.postprocess_video(video, output_type="np")
