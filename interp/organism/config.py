"""The organism's own settings: how mazes become pixels and how the model is sampled."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from interp.errors import InputError, check_known_keys

#: Channel layout of the condition video given to the transformer next to the noisy video.
CONDITION_LAYOUT = "rgb_first_frame_broadcast(3)+first_frame_mask(1)"


@dataclass
class OrganismConfig:
    """Everything besides the transformer that a user needs to run the organism.

    Attributes:
        px_per_unit: Pixels per maze grid unit; with the patch (1, 2, 2) one token is one unit.
        num_frames: Frames per video (frame 0 is the bare maze, the last shows the whole route).
        palette: Name of the colour palette in :data:`interp.tasks.render.PALETTES`.
        palette_colors: The palette's RGB colours, kept so the checkpoint is self-describing.
        text_tokens: Tokens per task prompt embedding.
        task_names: Row names of the prompt table, in order.
        shift: Flow shift of the sampler (and of the training noise distribution).
        num_inference_steps: Default number of denoising steps.
        condition_layout: Channel layout of :meth:`MazeOrganism.condition` output.
        sizes_trained: Maze sizes (cells per side) seen in training.
        extra_openings: Fraction of interior walls the maze generator removed in training data.
        name: Short name of the checkpoint.

    Example:
        >>> cfg = OrganismConfig(sizes_trained=[5, 7])
        >>> OrganismConfig.from_dict(cfg.to_dict()) == cfg
        True
    """

    px_per_unit: int = 2
    num_frames: int = 4
    palette: str = "default"
    palette_colors: dict[str, list[int]] = field(default_factory=dict)
    text_tokens: int = 4
    task_names: list[str] = field(default_factory=lambda: ["maze"])
    shift: float = 3.0
    num_inference_steps: int = 20
    condition_layout: str = CONDITION_LAYOUT
    sizes_trained: list[int] = field(default_factory=list)
    extra_openings: float = 0.1
    name: str = "maze-wan-tiny"

    @property
    def condition_channels(self) -> int:
        """Channels of the condition video (RGB of the first frame plus one mask channel)."""
        return 4

    def to_dict(self) -> dict:
        """A JSON-safe dict; :meth:`from_dict` inverts it."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> OrganismConfig:
        """Build from :meth:`to_dict` output; unknown keys or mistyped values are an :class:`InputError`."""
        from interp.validate import check_schema, organism_config_schema

        if not isinstance(data, dict):
            raise InputError(f"an organism config is a JSON object, not {type(data).__name__}")
        check_known_keys("organism config", data, cls)
        check_schema(data, organism_config_schema(), "organism config")
        return cls(**data)

    def save(self, path: str | Path) -> None:
        """Write the config as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> OrganismConfig:
        """Read a config written by :meth:`save`."""
        from interp.validate import read_json

        data = read_json(path, "organism config")
        try:
            return cls.from_dict(data)
        except InputError as err:
            raise InputError(f"{path}: {err}") from None
