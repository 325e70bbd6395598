"""CogVideoX (text-to-video) through its diffusers pipeline.

CogVideoX differs from the flow-matching families in three ways, each declared here: guidance
runs both branches in one batched call (uncond first); the scheduler is a DDIM on a discrete
noise schedule whose model predicts ``v`` (or epsilon), so x0_hat = sqrt(abar) x_t - sqrt(1 - abar) v
and the noise level is sqrt(1 - abar); and its latents are ``[B, F, C, H, W]``, which the adapter
turns into the loop's ``[B, C, F, H, W]`` around each call (the DDIM step is elementwise, so
the result is bitwise the pipeline's). Its blocks' feed-forward runs on the joint text-video
sequence and is not a site; the self-attention output (video part) is ``attn1.out``.

``CogVideoXDPMScheduler`` (the default of CogVideoX-5B and 1.5) draws fresh noise inside every
step from the pipeline's generator; a run is then a function of the generator's state, not of
the inputs, so it is refused: load such a folder and give ``model.pipe`` a
``CogVideoXDDIMScheduler`` built from its config.

Example:
    >>> from diffusers import CogVideoXPipeline                                         # doctest: +SKIP
    >>> model = CogVideoXModel(CogVideoXPipeline.from_pretrained("/models/CogVideoX-2b"))  # doctest: +SKIP
    >>> inputs = model.prepare(prompt="a maze", height=480, width=720, num_frames=49)     # doctest: +SKIP
    >>> result = model(inputs, num_steps=50)                                            # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import torch

from interp.errors import InputError
from interp.models.base import ArchitectureSpec, LoopInputs, VideoModel, generators_for, repeat_to_batch

COGVIDEOX_SPEC = ArchitectureSpec(
    family="cogvideox",
    block_lists=("transformer_blocks",),
    block_sites={"attn1": "attn1"},
    guidance="batched",
)


class CogVideoXModel(VideoModel):
    """Adapter for ``CogVideoXPipeline`` with a ``CogVideoXDDIMScheduler``."""

    spec = COGVIDEOX_SPEC
    flow_matching = False
    prompt_length_config = "max_text_seq_length"

    def __init__(self, pipe, name: str | None = None):
        super().__init__()
        scheduler = type(pipe.scheduler).__name__
        if scheduler != "CogVideoXDDIMScheduler":
            raise InputError(f"CogVideoX with {scheduler} is not supported: it draws new noise inside every step, "
                             "so a run cannot be replayed from its inputs; use CogVideoXDDIMScheduler")
        self.pipe = pipe
        self.transformer = pipe.transformer
        self.vae = pipe.vae
        self.name = name or type(pipe).__name__

    @property
    def patch_size(self) -> tuple[int, int, int]:
        config = self.transformer.config
        return int(config.patch_size_t or 1), int(config.patch_size), int(config.patch_size)

    def make_scheduler(self, shift: float | None = None):
        if shift is not None:
            raise InputError("CogVideoX's DDIM schedule has no flow shift to override")
        return type(self.pipe.scheduler).from_config(self.pipe.scheduler.config)

    def _alpha_bar(self, scheduler, timestep) -> torch.Tensor:
        return scheduler.alphas_cumprod[int(timestep)]

    def noise_levels(self, scheduler) -> torch.Tensor:
        levels = [(1 - self._alpha_bar(scheduler, t)) ** 0.5 for t in scheduler.timesteps]
        return torch.stack([*levels, torch.zeros(())]).float()

    def x0_coefficients(self, scheduler, step: int, timestep) -> tuple[float, float]:
        abar = float(self._alpha_bar(scheduler, timestep))
        if scheduler.config.prediction_type == "v_prediction":
            return abar ** 0.5, (1 - abar) ** 0.5
        if scheduler.config.prediction_type == "epsilon":
            return 1 / abar ** 0.5, ((1 - abar) / abar) ** 0.5
        raise InputError(f"prediction type {scheduler.config.prediction_type!r} is not supported: "
                         "valid are v_prediction, epsilon")

    def step_latents(self, scheduler, step: int, timestep, prediction: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        return scheduler.step(prediction, timestep, x_t, eta=0.0, return_dict=False)[0].to(self.dtype)

    @torch.no_grad()  # as the pipeline encodes: no graph, and the kernels it takes
    def prepare(
        self,
        *,
        prompt: str | None = None,
        negative_prompt: str | None = None,
        prompt_embeds: torch.Tensor | None = None,
        negative_prompt_embeds: torch.Tensor | None = None,
        height: int = 480,
        width: int = 720,
        num_frames: int = 49,
        guidance_scale: float = 6.0,
        seeds: int | list[int] = 0,
        batch_size: int | None = None,
        max_sequence_length: int | None = None,
    ) -> LoopInputs:
        """Encode the prompts and draw x_T from ``seeds`` as the pipeline would; prompts are encoded
        at the transformer's ``max_text_seq_length`` (226 in every released checkpoint) unless
        ``max_sequence_length`` says otherwise."""
        pipe = self.pipe
        self.check_text_encoders(prompt if prompt_embeds is None else None)
        max_sequence_length = self.prompt_length(max_sequence_length, 226)
        scale = pipe.vae_scale_factor_spatial * self.transformer.config.patch_size
        if height % scale or width % scale:
            raise InputError(f"height x width {height}x{width} must be multiples of {scale} for this model")
        if batch_size is None:
            batch_size = 1 if isinstance(seeds, int) else len(seeds)
        generator = generators_for(seeds, batch_size)
        device, dtype = self.device, self.dtype
        do_guidance = guidance_scale > 1.0
        embeds, negative = pipe.encode_prompt(
            prompt, negative_prompt, do_guidance, num_videos_per_prompt=1, prompt_embeds=prompt_embeds,
            negative_prompt_embeds=negative_prompt_embeds, max_sequence_length=max_sequence_length, device=device)
        self._check_text_length(embeds)
        latent_frames = (num_frames - 1) // pipe.vae_scale_factor_temporal + 1
        patch_t = self.transformer.config.patch_size_t
        extra = 0 if patch_t is None or latent_frames % patch_t == 0 else patch_t - latent_frames % patch_t
        latents = pipe.prepare_latents(batch_size, self.transformer.config.in_channels,
                                       num_frames + extra * pipe.vae_scale_factor_temporal, height, width,
                                       embeds.dtype, device, generator, None)
        rotary = (pipe._prepare_rotary_positional_embeddings(height, width, latents.size(1), device)
                  if self.transformer.config.use_rotary_positional_embeddings else None)
        return LoopInputs(
            latents=latents.permute(0, 2, 1, 3, 4).contiguous(),
            cond={"encoder_hidden_states": repeat_to_batch(embeds.to(dtype), batch_size)},
            uncond={"encoder_hidden_states": repeat_to_batch(negative.to(dtype), batch_size)} if do_guidance else None,
            guidance_scale=guidance_scale,
            seeds=[int(g.initial_seed()) for g in generator],
            extras={"image_rotary_emb": rotary, "additional_frames": extra},
        )

    def _check_text_length(self, embeds: torch.Tensor) -> None:
        # Without rotary embeddings, the patch embedding adds positions laid out for exactly
        # max_text_seq_length text tokens.
        config = self.transformer.config
        if not config.use_rotary_positional_embeddings and embeds.shape[1] != config.max_text_seq_length:
            raise InputError(f"prompt embeddings of {embeds.shape[1]} tokens: this transformer reads "
                             f"{config.max_text_seq_length} (its max_text_seq_length)")

    def pipeline_latents(self, latents: torch.Tensor) -> torch.Tensor:
        return latents.permute(0, 2, 1, 3, 4)

    def call_transformer(self, expert: str, x_t, timestep, inputs: LoopInputs, kwargs: dict) -> torch.Tensor:
        # The pipeline calls scheduler.scale_model_input here, the identity for CogVideoX's schedulers.
        out = self.transformer(hidden_states=x_t.permute(0, 2, 1, 3, 4).to(self.dtype),
                               timestep=timestep.expand(x_t.shape[0]),
                               image_rotary_emb=inputs.extras["image_rotary_emb"], return_dict=False, **kwargs)[0]
        return out.float().permute(0, 2, 1, 3, 4)

    @torch.no_grad()
    def decode_float(self, latents: torch.Tensor) -> np.ndarray:
        """Decode latents with the VAE as the pipeline does: float video in [0, 1] (CogVideoX1.5 keeps its padding frames)."""
        frames = self.pipe.decode_latents(latents.permute(0, 2, 1, 3, 4).to(self.vae.dtype))
        return self.pipe.video_processor.postprocess_video(video=frames, output_type="np")
