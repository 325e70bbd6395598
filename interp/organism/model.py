"""The maze organism: a small pixel-space ``WanTransformer3DModel`` conditioned like Wan I2V.

The transformer is diffusers' own Wan class, so every tool written for Wan works on it. Its
input is ``torch.cat([x_t, condition], dim=1)``: 3 noisy RGB channels followed by the
condition video of :meth:`MazeOrganism.condition` (the first frame repeated over all frames
plus a mask that marks frame 0). The task prompt is a learned table row passed as
``encoder_hidden_states``.

Conventions (diffusers' ``FlowMatchEulerDiscreteScheduler``): ``x_t = (1 - s) x0 + s eps``,
the transformer gets ``timestep = 1000 * s`` and predicts ``v = eps - x0``, so
``x0_hat = x_t - s v``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from diffusers import WanTransformer3DModel
from safetensors.torch import load_file, save_file

from interp.errors import InputError, check_choice
from interp.organism.config import OrganismConfig

DEFAULT_NAME = "maze-wan-tiny"
#: The shipped checkpoint folder.
DEFAULT_ORGANISM: Path = Path(__file__).resolve().parents[2] / "data" / "organisms" / DEFAULT_NAME

TRANSFORMER_FOLDER = "transformer"
PROMPT_TABLE_FILE = "prompt_table.safetensors"
CONFIG_FILE = "organism.json"

__all__ = [
    "DEFAULT_ORGANISM",
    "MazeOrganism",
    "OrganismConfig",
    "build_organism",
    "default_transformer_config",
]


def default_transformer_config(**overrides) -> dict:
    """The shipped organism's transformer shape; keyword arguments override entries.

    Example:
        >>> default_transformer_config(num_layers=2)["num_layers"]
        2
    """
    cfg = dict(
        patch_size=(1, 2, 2),
        num_attention_heads=4,
        attention_head_dim=64,
        in_channels=3 + 4,
        out_channels=3,
        text_dim=32,
        freq_dim=64,
        ffn_dim=1024,
        num_layers=12,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        eps=1e-6,
        rope_max_seq_len=64,
    )
    cfg.update(overrides)
    return cfg


class MazeOrganism(torch.nn.Module):
    """A Wan transformer, a task prompt table and the organism config, kept together.

    Example:
        >>> import torch
        >>> from interp.organism import MazeOrganism, OrganismConfig, build_organism
        >>> from interp.organism.model import default_transformer_config
        >>> tcfg = default_transformer_config(num_layers=1, num_attention_heads=2, attention_head_dim=12,
        ...                                    ffn_dim=16, freq_dim=16)
        >>> org = build_organism(OrganismConfig(), tcfg, seed=0)
        >>> first = torch.zeros(2, 3, 22, 22)
        >>> cond = org.condition(first)
        >>> tuple(cond.shape)
        (2, 4, 4, 22, 22)
        >>> v = org.velocity(torch.randn(2, 3, 4, 22, 22), 500.0, cond, org.prompt_embeds(2))
        >>> tuple(v.shape)
        (2, 3, 4, 22, 22)
    """

    def __init__(self, transformer: WanTransformer3DModel, prompt_table: torch.Tensor, config: OrganismConfig):
        super().__init__()
        expected = (len(config.task_names), config.text_tokens, transformer.config.text_dim)
        if tuple(prompt_table.shape) != expected:
            raise InputError(f"prompt table shape {tuple(prompt_table.shape)} does not match {expected}")
        if transformer.config.in_channels != 3 + config.condition_channels:
            raise InputError(
                f"transformer in_channels {transformer.config.in_channels} != 3 noisy + "
                f"{config.condition_channels} condition channels"
            )
        self.transformer = transformer
        self.prompt_table = torch.nn.Parameter(prompt_table)
        self.config = config

    # -- inputs ---------------------------------------------------------------------------------
    def condition(self, first_frame: torch.Tensor, num_frames: int | None = None) -> torch.Tensor:
        """Condition video for a batch of first frames.

        Args:
            first_frame: ``[B, 3, H, W]`` in ``[-1, 1]``.
            num_frames: Frames of the video to generate (default ``config.num_frames``).

        Returns:
            ``[B, 4, F, H, W]``: channels 0-2 the first frame repeated over every frame (so every
            frame's tokens see the maze directly), channel 3 is 1 on frame 0 and 0 elsewhere.
        """
        if first_frame.ndim != 4 or first_frame.shape[1] != 3:
            raise InputError(f"first_frame must be [B, 3, H, W], got {tuple(first_frame.shape)}")
        frames = num_frames or self.config.num_frames
        if frames < 2:
            raise InputError(f"num_frames {frames} is out of range: choose 2 or more")
        b, _, h, w = first_frame.shape
        ph, pw = self.transformer.config.patch_size[1:]
        if h % ph or w % pw:
            raise InputError(f"frame size {h}x{w} is not divisible by the patch size {ph}x{pw}")
        rgb = first_frame.unsqueeze(2).expand(b, 3, frames, h, w)
        mask = torch.zeros(b, 1, frames, h, w, dtype=first_frame.dtype, device=first_frame.device)
        mask[:, :, 0] = 1.0
        return torch.cat([rgb, mask], dim=1)

    def prompt_embeds(self, batch_size: int, task: str = "maze") -> torch.Tensor:
        """The task's prompt embedding repeated over the batch: ``[B, text_tokens, text_dim]``."""
        check_choice("task", task, self.config.task_names)
        row = self.prompt_table[self.config.task_names.index(task)]
        return row.unsqueeze(0).expand(batch_size, -1, -1)

    # -- one transformer call ------------------------------------------------------------------
    def velocity(
        self, x_t: torch.Tensor, timestep: torch.Tensor | float, condition: torch.Tensor, prompt_embeds: torch.Tensor
    ) -> torch.Tensor:
        """Predicted velocity ``eps - x0`` for ``x_t`` at ``timestep = 1000 * sigma``.

        Args:
            x_t: ``[B, 3, F, H, W]`` noisy video.
            timestep: Scalar or ``[B]``, in ``[0, 1000]``.
            condition: ``[B, 4, F, H, W]`` from :meth:`condition`.
            prompt_embeds: ``[B, T, text_dim]`` from :meth:`prompt_embeds`.
        """
        if x_t.shape[0] != condition.shape[0] or x_t.shape[2:] != condition.shape[2:]:
            raise InputError(f"x_t {tuple(x_t.shape)} and condition {tuple(condition.shape)} do not match")
        dtype = self.transformer.dtype
        t = torch.as_tensor(timestep, device=x_t.device, dtype=torch.float32)
        if t.ndim == 0:
            t = t.expand(x_t.shape[0])
        hidden = torch.cat([x_t, condition], dim=1).to(dtype)
        out = self.transformer(
            hidden_states=hidden, timestep=t, encoder_hidden_states=prompt_embeds.to(dtype), return_dict=False
        )[0]
        return out.to(x_t.dtype)

    def forward(self, x_t, timestep, condition, prompt_embeds):  # noqa: D102 - alias of velocity
        return self.velocity(x_t, timestep, condition, prompt_embeds)

    # -- pixels ---------------------------------------------------------------------------------
    @staticmethod
    def frames_to_model(frames_uint8) -> torch.Tensor:
        """uint8 pixels, channels last, to float in ``[-1, 1]``, channels first.

        ``[B, F, H, W, 3] -> [B, 3, F, H, W]``; ``[B, H, W, 3] -> [B, 3, H, W]``;
        ``[H, W, 3] -> [3, H, W]``. Accepts numpy arrays or tensors.

        Example:
            >>> import numpy as np
            >>> MazeOrganism.frames_to_model(np.full((1, 2, 4, 4, 3), 255, np.uint8)).shape
            torch.Size([1, 3, 2, 4, 4])
        """
        x = torch.as_tensor(frames_uint8)
        if x.dtype != torch.uint8:
            raise InputError(f"frames must be uint8, got {x.dtype}")
        if x.ndim not in (3, 4, 5) or x.shape[-1] != 3:
            raise InputError(f"frames must be [..., H, W, 3] with 3 to 5 dims, got {tuple(x.shape)}")
        x = x.float().div(127.5).sub(1.0)
        if x.ndim == 5:
            return x.permute(0, 4, 1, 2, 3).contiguous()
        return x.movedim(-1, -3).contiguous()

    @staticmethod
    def model_to_frames(x: torch.Tensor) -> torch.Tensor:
        """``[B, 3, F, H, W]`` in ``[-1, 1]`` to uint8 ``[B, F, H, W, 3]`` (values are clipped)."""
        if x.ndim != 5 or x.shape[1] != 3:
            raise InputError(f"x must be [B, 3, F, H, W], got {tuple(x.shape)}")
        y = (x.detach().float().clamp(-1, 1) + 1.0) * 127.5
        return y.round().to(torch.uint8).permute(0, 2, 3, 4, 1).contiguous()

    # -- files ----------------------------------------------------------------------------------
    def save_pretrained(self, path: str | Path, dtype: torch.dtype | None = torch.bfloat16) -> None:
        """Write ``transformer/`` (diffusers format), the prompt table and ``organism.json``.

        Weights are stored as ``dtype`` (bfloat16 by default, halving the size).
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        transformer = self.transformer
        if dtype is not None and transformer.dtype != dtype:
            import copy

            from diffusers.utils import logging as dlogging

            level = dlogging.get_verbosity()
            dlogging.set_verbosity_error()  # a storage cast; loading restores float32 where asked
            try:
                transformer = copy.deepcopy(transformer).to(dtype)
            finally:
                dlogging.set_verbosity(level)
        transformer.save_pretrained(path / TRANSFORMER_FOLDER, safe_serialization=True)
        table = self.prompt_table.detach().to("cpu", dtype or self.prompt_table.dtype).contiguous()
        save_file({"prompt_table": table}, str(path / PROMPT_TABLE_FILE))
        self.config.save(path / CONFIG_FILE)

    @classmethod
    def from_pretrained(
        cls, path: str | Path | None = None, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32
    ) -> MazeOrganism:
        """Load a folder written by :meth:`save_pretrained` (safetensors only, no pickle).

        Example:
            >>> org = MazeOrganism.from_pretrained()  # the shipped checkpoint
            >>> org.config.px_per_unit
            2
        """
        path = Path(path) if path is not None else DEFAULT_ORGANISM
        missing = [n for n in (TRANSFORMER_FOLDER, PROMPT_TABLE_FILE, CONFIG_FILE) if not (path / n).exists()]
        if missing:
            raise InputError(f"{path} is not an organism folder: missing {', '.join(missing)}")
        config = OrganismConfig.load(path / CONFIG_FILE)
        transformer = WanTransformer3DModel.from_pretrained(
            path / TRANSFORMER_FOLDER, torch_dtype=dtype, use_safetensors=True
        )
        table = load_file(str(path / PROMPT_TABLE_FILE))["prompt_table"].to(dtype)
        return cls(transformer, table, config).to(device).eval()


def build_organism(config: OrganismConfig, transformer_config: dict, seed: int) -> MazeOrganism:
    """A freshly initialised organism (deterministic in ``seed``).

    Example:
        >>> from interp.organism.model import default_transformer_config
        >>> a = build_organism(OrganismConfig(), default_transformer_config(num_layers=1), seed=0)
        >>> b = build_organism(OrganismConfig(), default_transformer_config(num_layers=1), seed=0)
        >>> all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
        True
    """
    tcfg = dict(transformer_config)
    if tcfg.get("in_channels", 3 + config.condition_channels) != 3 + config.condition_channels:
        raise InputError(f"in_channels must be {3 + config.condition_channels}, got {tcfg['in_channels']}")
    tcfg["in_channels"] = 3 + config.condition_channels
    tcfg.setdefault("out_channels", 3)
    gen_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        transformer = WanTransformer3DModel(**tcfg)
        table = torch.randn(len(config.task_names), config.text_tokens, transformer.config.text_dim)
    finally:
        torch.random.set_rng_state(gen_state)
    return MazeOrganism(transformer, table, config)
