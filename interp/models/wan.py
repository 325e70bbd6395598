"""Wan2.1 and Wan2.2 (text- and image-to-video) through their diffusers pipelines.

The adapter keeps the pipeline for what is not the loop (prompt and image encoding, latent
preparation, VAE decoding) and calls the pipeline's own methods for them, so inputs are
prepared exactly as diffusers prepares them. Wan2.2's two experts are ``transformer``
(high noise, timesteps at or above ``boundary_ratio * 1000``) and ``transformer_2``. Wan2.2-TI2V-5B
(``expand_timesteps``) gives the transformer one timestep per token; as an image-to-video model
it replaces the first latent frame by the image's latent at every call (those tokens get
timestep 0) and in the final latents.

Example:
    >>> from diffusers import WanPipeline                                  # doctest: +SKIP
    >>> pipe = WanPipeline.from_pretrained("/models/Wan2.1-T2V-1.3B-Diffusers")  # doctest: +SKIP
    >>> model = WanModel(pipe)                                               # doctest: +SKIP
    >>> inputs = model.prepare(prompt="a maze", height=480, width=832, num_frames=33)  # doctest: +SKIP
    >>> result = model(inputs, num_steps=50)                                 # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import torch

from interp.errors import InputError
from interp.models.base import ArchitectureSpec, LoopInputs, VideoModel, generators_for, repeat_to_batch

WAN_SPEC = ArchitectureSpec(family="wan", expert_names=("transformer", "transformer_2"), single_stream=True)


class WanModel(VideoModel):
    """Adapter for ``WanPipeline`` and ``WanImageToVideoPipeline`` (Wan2.1, Wan2.2 A14B and TI2V-5B)."""

    spec = WAN_SPEC
    image_pipelines = ("WanImageToVideoPipeline",)

    def __init__(self, pipe, name: str | None = None):
        super().__init__()
        self.pipe = pipe
        self.expand_timesteps = bool(getattr(pipe.config, "expand_timesteps", False))
        self.transformer = pipe.transformer
        self.transformer_2 = getattr(pipe, "transformer_2", None)
        self.vae = pipe.vae
        self.name = name or type(pipe).__name__
        self.image_to_video = hasattr(pipe, "encode_image")
        ratio = getattr(pipe.config, "boundary_ratio", None)
        if ratio is not None:
            self.boundary_timestep = ratio * pipe.scheduler.config.num_train_timesteps

    @property
    def _reference_transformer(self):
        return self.transformer if self.transformer is not None else self.transformer_2

    @property
    def dtype(self) -> torch.dtype:
        return self._reference_transformer.dtype

    def make_scheduler(self, shift: float | None = None):
        config = dict(self.pipe.scheduler.config)
        if shift is not None:
            key = "shift" if "shift" in config else "flow_shift"
            if key not in config:
                raise InputError(f"scheduler {type(self.pipe.scheduler).__name__} has no flow shift to override")
            config[key] = shift
        return type(self.pipe.scheduler).from_config(config)

    def _check_geometry(self, height: int, width: int, num_frames: int):
        pipe = self.pipe
        ph, pw = self._reference_transformer.config.patch_size[1:]
        mh, mw = pipe.vae_scale_factor_spatial * ph, pipe.vae_scale_factor_spatial * pw
        if height % mh or width % mw:
            raise InputError(f"height x width {height}x{width} must be multiples of {mh}x{mw} for this model")
        if num_frames % pipe.vae_scale_factor_temporal != 1:
            raise InputError(
                f"num_frames {num_frames} is invalid: num_frames - 1 must be divisible by "
                f"{pipe.vae_scale_factor_temporal} (e.g. 33, 81)"
            )

    @torch.no_grad()  # as the pipeline encodes: no graph, and the kernels it takes
    def prepare(
        self,
        *,
        prompt: str | None = None,
        negative_prompt: str | None = None,
        prompt_embeds: torch.Tensor | None = None,
        negative_prompt_embeds: torch.Tensor | None = None,
        image=None,
        height: int = 480,
        width: int = 832,
        num_frames: int = 81,
        guidance_scale: float = 5.0,
        guidance_scale_2: float | None = None,
        seeds: int | list[int] = 0,
        batch_size: int | None = None,
        max_sequence_length: int = 512,
    ) -> LoopInputs:
        """Encode the prompt (and image), draw x_T from ``seeds``, as the pipeline would."""
        pipe = self.pipe
        self.check_text_encoders(prompt if prompt_embeds is None else None)
        self._check_geometry(height, width, num_frames)
        if self.image_to_video and image is None:
            raise InputError(f"{self.name} is an image-to-video model: give an image")
        if not self.image_to_video and image is not None:
            raise InputError(f"{self.name} is a text-to-video model: it takes no image")
        if batch_size is None:
            batch_size = 1 if isinstance(seeds, int) else len(seeds)
        generator = generators_for(seeds, batch_size)
        seed_list = [int(g.initial_seed()) for g in generator]
        do_guidance = guidance_scale > 1.0
        device = self.device
        cond, uncond = pipe.encode_prompt(
            prompt=prompt,
            negative_prompt=negative_prompt,
            do_classifier_free_guidance=do_guidance,
            num_videos_per_prompt=batch_size,
            prompt_embeds=prompt_embeds,
            negative_prompt_embeds=negative_prompt_embeds,
            max_sequence_length=max_sequence_length,
            device=device,
        )
        cond_kwargs = {"encoder_hidden_states": repeat_to_batch(cond.to(self.dtype), batch_size)}
        uncond_kwargs = {"encoder_hidden_states": repeat_to_batch(uncond.to(self.dtype), batch_size)} \
            if do_guidance else None
        latent_condition = None
        extras = {}
        if self.image_to_video:
            if self.transformer is not None and self.transformer.config.image_dim is not None:
                image_embeds = pipe.encode_image(image, device).repeat(batch_size, 1, 1).to(self.dtype)
                cond_kwargs["encoder_hidden_states_image"] = image_embeds
                if uncond_kwargs is not None:
                    uncond_kwargs["encoder_hidden_states_image"] = image_embeds
            pixels = pipe.video_processor.preprocess(image, height=height, width=width).to(device, dtype=torch.float32)
            prepared = pipe.prepare_latents(
                pixels, batch_size, pipe.vae.config.z_dim, height, width, num_frames,
                torch.float32, device, generator, None, None,
            )
            latents, latent_condition = prepared[:2]
            if self.expand_timesteps:
                extras["first_frame_mask"] = prepared[2]
        else:
            latents = pipe.prepare_latents(
                batch_size, self._reference_transformer.config.in_channels, height, width, num_frames,
                torch.float32, device, generator, None,
            )
        if self.boundary_timestep is not None and guidance_scale_2 is None:
            guidance_scale_2 = guidance_scale
        return LoopInputs(
            latents=latents,
            cond=cond_kwargs,
            uncond=uncond_kwargs,
            latent_condition=latent_condition,
            guidance_scale=guidance_scale,
            guidance_scale_2=guidance_scale_2,
            seeds=seed_list,
            extras=extras,
        )

    def _first_frame_mask(self, x_t: torch.Tensor, inputs: LoopInputs) -> torch.Tensor:
        """1 where the loop denoises, 0 on the image's latent frame (ones for text-to-video)."""
        mask = inputs.extras.get("first_frame_mask")
        return torch.ones(x_t.shape, dtype=torch.float32, device=x_t.device) if mask is None else mask

    def transformer_input(self, x_t: torch.Tensor, inputs: LoopInputs) -> torch.Tensor:
        if self.expand_timesteps and inputs.latent_condition is not None:
            mask = self._first_frame_mask(x_t, inputs)
            return ((1 - mask) * inputs.latent_condition + mask * x_t).to(self.dtype)
        return super().transformer_input(x_t, inputs)

    def call_transformer(self, expert: str, x_t, timestep, inputs: LoopInputs, kwargs: dict) -> torch.Tensor:
        if not self.expand_timesteps:
            return super().call_transformer(expert, x_t, timestep, inputs, kwargs)
        # One timestep per token, as the pipeline computes it (its ``::2`` is the spatial patch).
        mask = self._first_frame_mask(x_t, inputs)
        per_token = (mask[0][0][:, ::2, ::2] * timestep).flatten()
        return self.experts[expert](
            hidden_states=self.transformer_input(x_t, inputs),
            timestep=per_token.unsqueeze(0).expand(x_t.shape[0], -1),
            return_dict=False,
            **kwargs,
        )[0]

    def finish(self, latents: torch.Tensor, inputs: LoopInputs) -> torch.Tensor:
        if self.expand_timesteps and inputs.latent_condition is not None:
            mask = self._first_frame_mask(latents, inputs)
            return (1 - mask) * inputs.latent_condition + mask * latents
        return latents

    @torch.no_grad()
    def decode_float(self, latents: torch.Tensor) -> np.ndarray:
        """Decode latents with the VAE exactly as the pipeline does: float video in [0, 1]."""
        vae = self.vae
        latents = latents.to(vae.device, dtype=vae.dtype)
        mean = torch.tensor(vae.config.latents_mean).view(1, vae.config.z_dim, 1, 1, 1).to(latents)
        inv_std = 1.0 / torch.tensor(vae.config.latents_std).view(1, vae.config.z_dim, 1, 1, 1).to(latents)
        video = vae.decode(latents / inv_std + mean, return_dict=False)[0]
        return self.pipe.video_processor.postprocess_video(video, output_type="np")

    def decode(self, latents: torch.Tensor) -> np.ndarray:
        return (np.clip(self.decode_float(latents), 0.0, 1.0) * 255.0).round().astype(np.uint8)
