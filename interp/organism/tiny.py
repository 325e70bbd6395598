"""A small random maze organism for tests and examples: the real adapter and transformer class, two layers."""

from __future__ import annotations

import numpy as np

from interp.models.maze_organism import OrganismModel
from interp.organism.config import OrganismConfig
from interp.organism.model import build_organism, default_transformer_config
from interp.tasks import generate_maze, render_maze


def tiny_organism(maze_seeds=(0,), seeds=(7,)):
    """A small random maze organism (the real adapter and transformer class) and inputs of 5x5 mazes."""
    tcfg = default_transformer_config(num_layers=2, num_attention_heads=2, attention_head_dim=12, ffn_dim=32,
                                      freq_dim=16)
    model = OrganismModel(build_organism(OrganismConfig(num_frames=4), tcfg, seed=0)).eval()
    frames = np.stack([render_maze(generate_maze(5, seed=s), upto=0, px_per_unit=2) for s in maze_seeds])
    return model, model.prepare(first_frame=frames, seeds=list(seeds))
