"""The walking organism: two pixel-space Wan experts, a prompt table and classifier-free guidance.

Like Wan2.2-A14B it holds two ``WanTransformer3DModel`` experts: ``transformer`` runs while the
noise level is high (timestep at or above ``1000 * boundary``) and ``transformer_2`` below. The
input is laid out as in :class:`interp.organism.MazeOrganism` (3 noisy RGB channels, the first
frame repeated over all frames, a mask on frame 0); the patch spans 4 frames in time, so a
16-frame video is 4 token frames. The task prompt is a row of a learned table: row 0 is the empty
prompt (the unconditional branch of guidance), the other rows name the target of the walk.

Example:
    >>> from interp.organism.walk_model import WalkOrganism
    >>> walker = WalkOrganism.from_pretrained()        # data/organisms/maze-walk-tiny  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from diffusers import WanTransformer3DModel
from safetensors.torch import load_file, save_file

from interp.errors import InputError, check_choice, check_known_keys
from interp.organism.model import MazeOrganism

WALK_NAME = "maze-walk-tiny"
WALK_ORGANISM: Path = Path(__file__).resolve().parents[2] / "data" / "organisms" / WALK_NAME
EXPERTS = ("transformer", "transformer_2")
CONFIG_FILE = "walker.json"
PROMPT_TABLE_FILE = "prompt_table.safetensors"


@dataclass
class WalkConfig:
    """Everything besides the two transformers that a user needs to run the walker.

    Attributes:
        prompts: rows of the prompt table; ``""`` (row 0) is the unconditional prompt.
        prompt_texts: what each prompt asks for, in words.
        boundary: noise level (sigma) at and above which the high-noise expert runs.
        guidance_scale: default classifier-free guidance scale.
        hold: final frames that hold the complete route.
        palette: the maze palette the walk palette extends (``interp.tasks.walk.WALK_PALETTE``).
        units_per_frame: route units the agent walks per frame (more where a route is too long).

    Example:
        >>> WalkConfig.from_dict(WalkConfig().to_dict()) == WalkConfig()
        True
    """

    px_per_unit: int = 2
    num_frames: int = 16
    hold: int = 2
    units_per_frame: int = 4
    text_tokens: int = 4
    prompts: list[str] = field(default_factory=lambda: ["", "goal", "key"])
    prompt_texts: dict[str, str] = field(default_factory=lambda: {
        "": "(empty prompt)",
        "goal": "walk the shortest route from the start to the red goal",
        "key": "walk the shortest route from the start to the yellow key",
    })
    shift: float = 3.0
    num_inference_steps: int = 20
    boundary: float = 0.875
    guidance_scale: float = 2.0
    sizes_trained: list[int] = field(default_factory=list)
    extra_openings: float = 0.1
    palette: str = "default"
    name: str = WALK_NAME

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> WalkConfig:
        if not isinstance(data, dict):
            raise InputError(f"a walker config is a JSON object, not {type(data).__name__}")
        check_known_keys("walker config", data, cls)
        return cls(**data)


def walk_transformer_config(**overrides) -> dict:
    """The shipped experts' shape (each); keyword arguments override entries.

    Example:
        >>> walk_transformer_config(num_layers=2)["patch_size"]
        (4, 2, 2)
    """
    cfg = dict(patch_size=(4, 2, 2), num_attention_heads=4, attention_head_dim=64, in_channels=7, out_channels=3,
               text_dim=32, freq_dim=64, ffn_dim=768, num_layers=10, cross_attn_norm=True,
               qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=64)
    cfg.update(overrides)
    return cfg


class WalkOrganism(torch.nn.Module):
    """Two Wan experts, the prompt table and the config, kept together."""

    def __init__(self, transformer: WanTransformer3DModel, transformer_2: WanTransformer3DModel,
                 prompt_table: torch.Tensor, config: WalkConfig):
        super().__init__()
        expected = (len(config.prompts), config.text_tokens, transformer.config.text_dim)
        if tuple(prompt_table.shape) != expected:
            raise InputError(f"prompt table shape {tuple(prompt_table.shape)} does not match {expected}")
        if "" not in config.prompts:
            raise InputError(f"the prompts {config.prompts} need the empty prompt '' for guidance")
        self.transformer = transformer
        self.transformer_2 = transformer_2
        self.prompt_table = torch.nn.Parameter(prompt_table)
        self.config = config

    def expert(self, name: str) -> WanTransformer3DModel:
        check_choice("expert", name, EXPERTS)
        return getattr(self, name)

    def expert_for_sigma(self, sigma: float) -> str:
        """``transformer`` at or above the boundary, else ``transformer_2`` (Wan2.2's rule on ``1000 * sigma``)."""
        return EXPERTS[0] if 1000.0 * float(sigma) >= 1000.0 * self.config.boundary else EXPERTS[1]

    # the condition and pixel conversions are the maze organism's
    condition = MazeOrganism.condition
    frames_to_model = staticmethod(MazeOrganism.frames_to_model)
    model_to_frames = staticmethod(MazeOrganism.model_to_frames)

    def prompt_embeds(self, batch_size: int, prompt: str = "goal") -> torch.Tensor:
        """The prompt's table row repeated over the batch: ``[B, text_tokens, text_dim]``."""
        check_choice("prompt", prompt, self.config.prompts)
        row = self.prompt_table[self.config.prompts.index(prompt)]
        return row.unsqueeze(0).expand(batch_size, -1, -1)

    def prompt_rows(self, ids: torch.Tensor) -> torch.Tensor:
        """Table rows for a batch of prompt indices: ``[B, text_tokens, text_dim]``."""
        return self.prompt_table[ids]

    # -- files ----------------------------------------------------------------------------------
    def save_pretrained(self, path: str | Path, dtype: torch.dtype = torch.bfloat16) -> None:
        """Write ``transformer/``, ``transformer_2/`` (diffusers format, ``dtype``), the table and the config."""
        from diffusers.utils import logging as dlogging

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        level = dlogging.get_verbosity()
        dlogging.set_verbosity_error()
        try:
            for name in EXPERTS:
                copy.deepcopy(self.expert(name)).to("cpu", dtype).save_pretrained(path / name, safe_serialization=True)
        finally:
            dlogging.set_verbosity(level)
        save_file({"prompt_table": self.prompt_table.detach().to("cpu", dtype).contiguous()},
                  str(path / PROMPT_TABLE_FILE))
        (path / CONFIG_FILE).write_text(json.dumps(self.config.to_dict(), indent=2) + "\n")

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, device="cpu", dtype=torch.float32) -> WalkOrganism:
        """Load a folder written by :meth:`save_pretrained` (safetensors only)."""
        path = Path(path) if path is not None else WALK_ORGANISM
        missing = [n for n in (*EXPERTS, PROMPT_TABLE_FILE, CONFIG_FILE) if not (path / n).exists()]
        if missing:
            raise InputError(f"{path} is not a walker folder: missing {', '.join(missing)}")
        config = WalkConfig.from_dict(json.loads((path / CONFIG_FILE).read_text()))
        experts = [WanTransformer3DModel.from_pretrained(path / n, torch_dtype=dtype, use_safetensors=True)
                   for n in EXPERTS]
        table = load_file(str(path / PROMPT_TABLE_FILE))["prompt_table"].to(dtype)
        return cls(*experts, table, config).to(device).eval()


def build_walker(config: WalkConfig, transformer_config: dict, seed: int) -> WalkOrganism:
    """A fresh walker whose two experts start as the same weights (deterministic in ``seed``)."""
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        first = WanTransformer3DModel(**transformer_config)
        table = torch.randn(len(config.prompts), config.text_tokens, first.config.text_dim)
    finally:
        torch.random.set_rng_state(state)
    return WalkOrganism(first, copy.deepcopy(first), table, config)
