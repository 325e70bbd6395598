"""Tiny models for the ensemble tests: a random organism and a random Wan pipeline with guidance."""

from __future__ import annotations

import numpy as np
import pytest

from interp.models.tiny import tiny_wan, tiny_wan_inputs
from interp.organism.tiny import tiny_organism
from interp.tasks import generate_maze, render_maze

STEPS = 5


@pytest.fixture(scope="session")
def organism():
    return tiny_organism()[0]


def maze_inputs(model, seeds, maze_seeds=None):
    """Inputs of 5x5 mazes, one row per seed (``maze_seeds``: the maze of each row, default maze 0)."""
    maze_seeds = maze_seeds or [0] * len(seeds)
    frames = np.stack([render_maze(generate_maze(5, seed=m), upto=0, px_per_unit=2) for m in maze_seeds])
    return model.prepare(first_frame=frames, seeds=list(seeds))


@pytest.fixture(scope="session")
def wan():
    return tiny_wan("t2v")


def wan_inputs(model, seeds):
    return tiny_wan_inputs(model, guidance=5.0, seeds=tuple(seeds))


@pytest.fixture(autouse=True)
def _single_thread(one_torch_thread):
    yield
