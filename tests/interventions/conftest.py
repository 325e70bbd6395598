"""Tiny models of the real classes (random Wan2.1 / Wan2.2 pipelines, a small random organism)."""

from __future__ import annotations

import pytest

from interp.models.tiny import tiny_wan
from interp.organism.tiny import tiny_organism


@pytest.fixture(scope="session")
def wan21():
    return tiny_wan("t2v")


@pytest.fixture(scope="session")
def wan22():
    return tiny_wan("wan22")


@pytest.fixture(scope="session")
def organism_pair():
    """The organism and inputs of two different mazes (clean, corrupt) with one noise seed."""
    model, clean = tiny_organism(maze_seeds=(0,), seeds=(7,))
    _, corrupt = tiny_organism(maze_seeds=(1,), seeds=(7,))
    return model, clean, corrupt


@pytest.fixture(autouse=True)
def _single_thread(one_torch_thread):
    yield
