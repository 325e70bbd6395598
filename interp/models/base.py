"""What every model adapter provides to the sampling loop, capture and interventions.

An adapter is a :class:`VideoModel`: an ``nn.Module`` whose children are the model's expert
transformers under the names the diffusers pipeline uses (``transformer``, ``transformer_2``),
so ``model.transformer.blocks[3]`` means the same thing as in diffusers, and wrapping the
adapter with ``nnsight.NNsight`` exposes every block. Calling the adapter runs the whole
denoising loop (``model(inputs, num_steps=...)`` is :func:`interp.sampling.denoise`).

What differs between families is declared once in an :class:`ArchitectureSpec`; the code that
differs (preparing latents and conditioning, decoding to pixels) lives in one file per family.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from interp.errors import InputError, check_choice
from interp.models.inputs import LoopInputs, cat_inputs, generators_for, repeat_to_batch  # noqa: F401
from interp.sampling import denoise, host_sigmas

BRANCHES = ("cond", "uncond")
GUIDANCE_LAYOUTS = ("separate", "batched")


@dataclass(frozen=True)
class ArchitectureSpec:
    """Declarative facts about one family of video DiT.

    Attributes:
        family: short name, e.g. ``"wan"``.
        block_lists: attribute paths of the ``ModuleList`` s that hold the blocks, in run order
            (HunyuanVideo would list ``transformer_blocks`` then ``single_transformer_blocks``).
        block_sites: site name inside a block -> submodule path, e.g. ``{"attn1": "attn1"}``.
            Only sub-sites whose output holds the video tokens alone belong here (a joint
            text-video feed-forward does not).
        expert_names: attribute names of the expert transformers, high-noise expert first.
        guidance: ``"separate"``: one transformer call per branch, cond first (Wan, HunyuanVideo);
            ``"batched"``: one call whose batch is ``[uncond; cond]`` (CogVideoX, LTX). Hooks see
            the batched call's label with both branches and treat each half as its branch.
        single_stream: the blocks pass one token stream ``[B, T, D]`` from block to block (their
            first argument and their output; text enters by cross-attention only), and the latents
            reach them only through the patch embedding. Then a block's saved input is all a
            forward needs to resume at that block, and a residual patch on every token fixes every
            later block's input (Wan; not the two-stream CogVideoX, HunyuanVideo or Mochi).
    """

    family: str
    block_lists: tuple[str, ...] = ("blocks",)
    block_sites: dict[str, str] = field(default_factory=lambda: {"attn1": "attn1", "attn2": "attn2", "ffn": "ffn"})
    expert_names: tuple[str, ...] = ("transformer",)
    guidance: str = "separate"
    single_stream: bool = False

    def __post_init__(self):
        check_choice("guidance layout", self.guidance, GUIDANCE_LAYOUTS)

    @property
    def site_kinds(self) -> tuple[str, ...]:
        """The block site kinds this family has, in run order."""
        subs = tuple(f"{name}.out" for name in self.block_sites)
        return ("resid_pre", *(k for k in ("attn1.out", "attn2.out", "ffn.out") if k in subs), "resid_post")


@dataclass(frozen=True)
class CallLabel:
    """Which denoising step, guidance branch (``cond`` or ``uncond``) and expert a transformer call belongs to.

    A batched guidance call runs several branches at once: ``branch`` is then ``None`` and
    ``branches`` names the equal batch chunks in order (``("uncond", "cond")``).
    """

    step: int
    branch: str | None
    expert: str
    branches: tuple[str, ...] = ()

    @property
    def chunks(self) -> tuple[str, ...]:
        """The branch of each equal chunk of the call's batch, in order."""
        return self.branches or (self.branch,)


class VideoModel(nn.Module):
    """Base adapter. Subclasses set :attr:`spec` and implement ``prepare``, ``decode``, ``make_scheduler``.

    The loop calls :meth:`predict` once per step; it labels each transformer call in
    :attr:`current_call` while the call runs, so hooks can tell (step, branch, expert) without
    counting calls.
    """

    spec: ClassVar[ArchitectureSpec]
    name: str = "model"
    #: Whether ``prepare`` takes a first frame (``image=``); image-to-video adapters set it.
    image_to_video: bool = False
    #: The diffusers pipelines whose adapter takes a first frame (``image_to_video`` is then set).
    image_pipelines: ClassVar[tuple[str, ...]] = ()
    #: Whether x_t = (1 - sigma) x0 + sigma noise along the run (flow matching), which re-noising
    #: edits assume; a family that samples otherwise (CogVideoX's DDIM) sets it False.
    flow_matching: bool = True
    #: The transformer's config entry that gives the prompt length (in tokens) it reads, where it
    #: fixes one (CogVideoX's text positions: ``max_text_seq_length``); ``prepare`` then encodes
    #: prompts at that length unless told otherwise. ``None``: the pipeline's default length.
    prompt_length_config: ClassVar[str | None] = None
    #: The pipeline components that turn a prompt into embeddings (a folder saved without them
    #: takes prompt embeddings only).
    text_encoder_names: ClassVar[tuple[str, ...]] = ("text_encoder",)

    def __init__(self):
        super().__init__()
        self.current_call: CallLabel | None = None
        self.boundary_timestep: float | None = None

    # --- structure ---------------------------------------------------------------------------
    @property
    def experts(self) -> dict[str, nn.Module]:
        return {n: getattr(self, n) for n in self.spec.expert_names if getattr(self, n, None) is not None}

    def blocks(self, expert: str | None = None) -> nn.ModuleList:
        expert = expert or next(iter(self.experts))
        check_choice("expert", expert, list(self.experts))
        module = self.experts[expert]
        blocks = []
        for path in self.spec.block_lists:
            blocks.extend(module.get_submodule(path))
        return nn.ModuleList(blocks) if len(self.spec.block_lists) > 1 else module.get_submodule(self.spec.block_lists[0])

    def site_module(self, site, expert: str | None = None) -> nn.Module:
        """The module whose output (or, for ``resid_pre``, input) is block site ``site`` of ``expert``.

        ``resid_pre`` and ``resid_post`` are the block itself; ``<name>.out`` is the block's
        submodule that :attr:`ArchitectureSpec.block_sites` lists under ``<name>``.
        """
        from interp.sites import Site

        site = Site.parse(site).check(self.num_layers)
        if not site.is_block:
            raise InputError(f"{site} is a loop site: it has no module")
        if site.kind not in self.spec.site_kinds:
            raise InputError(f"site {site} does not exist in {self.spec.family} models: their block sites are "
                             f"{', '.join(self.spec.site_kinds)}")
        block = self.blocks(expert)[site.layer]
        if site.kind in ("resid_pre", "resid_post"):
            return block
        return block.get_submodule(self.spec.block_sites[site.kind.removesuffix(".out")])

    @property
    def num_layers(self) -> int:
        return len(self.blocks())

    @property
    def patch_size(self) -> tuple[int, int, int]:
        return tuple(next(iter(self.experts.values())).config.patch_size)

    @property
    def pixels_per_token(self) -> tuple[int, int]:
        """Video pixels per token along height and width (the patch times any VAE downscale)."""
        _, ph, pw = self.patch_size
        scale = int(getattr(getattr(self, "pipe", None), "vae_scale_factor_spatial", 1) or 1)
        return ph * scale, pw * scale

    @property
    def dtype(self) -> torch.dtype:
        return next(iter(self.experts.values())).dtype

    @property
    def device(self) -> torch.device:
        return next(iter(self.experts.values())).device

    def token_grid(self, latent_shape) -> tuple[int, int, int]:
        """Tokens per axis (frames, height, width) for latents of shape ``[B, C, F, H, W]``.

        Tokens are ordered frame-major, then height, then width, as Wan's patch embedding flattens them.
        """
        pt, ph, pw = self.patch_size
        f, h, w = latent_shape[-3:]
        if f % pt or h % ph or w % pw:
            raise InputError(f"latent grid {(f, h, w)} is not divisible by the patch size {(pt, ph, pw)}")
        return f // pt, h // ph, w // pw

    def token_coords(self, latent_shape) -> np.ndarray:
        """``[T, 3]`` int array of (frame, h, w) for every token, in sequence order."""
        f, h, w = self.token_grid(latent_shape)
        grid = np.stack(np.meshgrid(np.arange(f), np.arange(h), np.arange(w), indexing="ij"), axis=-1)
        return grid.reshape(-1, 3).astype(np.int32)

    # --- conditioning ------------------------------------------------------------------------
    def prompt_length(self, requested: int | None, default: int) -> int:
        """The length to encode prompts at: ``requested``, else the length the transformer's config
        declares under :attr:`prompt_length_config`, else the pipeline's ``default``."""
        if requested is not None:
            return int(requested)
        config = next(iter(self.experts.values())).config
        declared = None if self.prompt_length_config is None else config.get(self.prompt_length_config)
        return default if declared is None else int(declared)

    def check_text_encoders(self, *texts) -> None:
        """Refuse text prompts (``texts`` not ``None``) when the pipeline has no text encoder."""
        if all(t is None for t in texts):
            return
        pipe = getattr(self, "pipe", None)
        missing = [n for n in self.text_encoder_names if getattr(pipe, n, None) is None]
        if missing:
            raise InputError(f"{self.name} has no {' or '.join(missing)}: it takes prompt embeddings, not text "
                             "prompts (load a folder saved with its text encoders)")

    # --- the schedule ------------------------------------------------------------------------
    def set_timesteps(self, scheduler, num_steps: int, inputs: LoopInputs | None = None) -> None:
        """Set ``scheduler``'s timesteps as the family's pipeline does (some depend on the latent size)."""
        scheduler.set_timesteps(num_steps, device=self.device)

    def noise_levels(self, scheduler) -> torch.Tensor:
        """Noise level sigma of every step's x_t, and 0 after the last (``num_steps + 1`` values).

        Flow matching: the scheduler's sigmas, measured from where they end (Mochi's scheduler
        inverts them: they rise from 0 to 1 there).
        """
        return (scheduler.sigmas - scheduler.sigmas[-1]).abs()

    def x0_coefficients(self, scheduler, step: int, timestep) -> tuple[float, float]:
        """``(a, b)`` with x0_hat = a * x_t - b * prediction at ``step``.

        Flow matching: the Euler step x + (s_next - s) v taken to the schedule's end,
        ``(1, s - s_end)``, i.e. ``(1, sigma)``; a family that predicts something else
        (CogVideoX's v-prediction) overrides this.
        """
        sigmas = host_sigmas(scheduler)  # a read of the device's sigmas would make the host wait
        return 1.0, float(sigmas[step]) - float(sigmas[-1])

    def step_latents(self, scheduler, step: int, timestep, prediction: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        """x_t of the next step from the guided prediction, with the pipeline's scheduler call."""
        return scheduler.step(prediction, timestep, x_t, return_dict=False)[0]

    def pipeline_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """The loop's ``[B, C, F, H, W]`` latents in the layout of the pipeline's ``output_type="latent"``."""
        return latents

    def finish(self, latents: torch.Tensor, inputs: LoopInputs) -> torch.Tensor:
        """The final latents from the loop's last state (a family may fix conditioned frames)."""
        return latents

    # --- the denoising step ------------------------------------------------------------------
    def expert_for(self, timestep: torch.Tensor | float) -> str:
        """The expert that runs at ``timestep`` (Wan2.2 switches below the boundary)."""
        names = list(self.experts)
        if self.boundary_timestep is None or len(names) == 1 or float(timestep) >= self.boundary_timestep:
            return names[0]
        return names[1]

    def guidance_scale_for(self, expert: str, inputs: LoopInputs) -> float:
        if expert == self.spec.expert_names[0] or inputs.guidance_scale_2 is None:
            return inputs.guidance_scale
        return inputs.guidance_scale_2

    def guide(self, expert: str, inputs: LoopInputs, v_cond: torch.Tensor, v_uncond: torch.Tensor | None):
        """The guided prediction (classifier-free guidance, as the pipelines write it)."""
        if v_uncond is None:
            return v_cond
        return v_uncond + self.guidance_scale_for(expert, inputs) * (v_cond - v_uncond)

    def transformer_input(self, x_t: torch.Tensor, inputs: LoopInputs) -> torch.Tensor:
        x = x_t if inputs.latent_condition is None else torch.cat([x_t, inputs.latent_condition], dim=1)
        return x.to(self.dtype)

    def call_transformer(self, expert: str, x_t, timestep, inputs: LoopInputs, kwargs: dict) -> torch.Tensor:
        """One transformer call on latents ``x_t`` (``[B, C, F, H, W]``); returns the prediction in the same layout."""
        batch = x_t.shape[0]
        return self.experts[expert](
            hidden_states=self.transformer_input(x_t, inputs),
            timestep=timestep.expand(batch),
            return_dict=False,
            **kwargs,
        )[0]

    def predict(self, step: int, timestep, x_t, inputs: LoopInputs):
        """Predictions of one step: ``(expert, v_cond, v_uncond or None)``, labelling each call.

        With ``spec.guidance == "batched"`` both branches run in one call on ``[x_t; x_t]``
        with the conditioning ``[uncond; cond]``, as CogVideoX and LTX do.
        """
        expert = self.expert_for(timestep)
        try:
            if inputs.do_guidance and self.spec.guidance == "batched":
                self.current_call = CallLabel(step, None, expert, branches=("uncond", "cond"))
                both = {k: torch.cat([inputs.uncond[k], v]) if isinstance(v, torch.Tensor) else v
                        for k, v in inputs.cond.items()}
                out = self.call_transformer(expert, torch.cat([x_t] * 2), timestep, inputs, both)
                v_uncond, v_cond = out.chunk(2)
                return expert, v_cond, v_uncond
            self.current_call = CallLabel(step, "cond", expert)
            v_cond = self.call_transformer(expert, x_t, timestep, inputs, inputs.cond)
            v_uncond = None
            if inputs.do_guidance:
                self.current_call = CallLabel(step, "uncond", expert)
                v_uncond = self.call_transformer(expert, x_t, timestep, inputs, inputs.uncond)
        finally:
            self.current_call = None
        return expert, v_cond, v_uncond

    def forward(self, inputs: LoopInputs, **sampling_options):
        """Run the whole denoising loop, unedited (what ``nnsight.NNsight`` wraps; to edit or
        observe a run, use :func:`interp.interventions.run`)."""
        return denoise(self, inputs, **sampling_options)

    # --- family-specific ---------------------------------------------------------------------
    def prepare(self, **kwargs) -> LoopInputs:  # pragma: no cover - abstract
        raise NotImplementedError

    def decode(self, latents: torch.Tensor) -> np.ndarray:
        """Latents ``[B, C, F, H, W]`` -> uint8 video ``[B, F', H', W', 3]``."""
        return (np.clip(self.decode_float(latents), 0.0, 1.0) * 255.0).round().astype(np.uint8)

    def decode_float(self, latents: torch.Tensor) -> np.ndarray:  # pragma: no cover - abstract
        """Latents -> float video ``[B, F', H', W', 3]`` in [0, 1], as the family's pipeline decodes."""
        raise NotImplementedError

    def make_scheduler(self, shift: float | None = None):  # pragma: no cover - abstract
        raise NotImplementedError

    # --- provenance --------------------------------------------------------------------------
    def fingerprint(self) -> str:
        """A short hash of the configs and of a sample of every weight tensor.

        Reading a few values per tensor keeps this fast on a 14B model, while any retraining,
        fine-tune or LoRA merge changes it.
        """
        digest = hashlib.sha256()
        for name, module in self.experts.items():
            digest.update(name.encode())
            config = {k: v for k, v in module.config.items() if not k.startswith("_")}  # "_" keys vary by process
            digest.update(json.dumps(config, sort_keys=True, default=str).encode())
            for pname, p in module.state_dict().items():
                flat = p.detach().reshape(-1)
                probe = torch.cat([flat[:16], flat[-16:], flat[:: max(1, flat.numel() // 16)][:16]])
                digest.update(pname.encode())
                digest.update(str(tuple(p.shape)).encode())
                digest.update(probe.float().cpu().numpy().tobytes())
        return digest.hexdigest()[:16]
