"""The bundled model organism: a small Wan video DiT that solves mazes in pixel space."""

from interp.organism.config import OrganismConfig
from interp.organism.model import DEFAULT_ORGANISM, MazeOrganism, build_organism, default_transformer_config

__all__ = ["DEFAULT_ORGANISM", "MazeOrganism", "OrganismConfig", "build_organism", "default_transformer_config"]
