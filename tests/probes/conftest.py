"""Shared fixtures: small planted trace stores written through the store's own writer."""

from __future__ import annotations

import pytest

from probes.synthetic import write_planted_store


@pytest.fixture(scope="session")
def planted(tmp_path_factory):
    """12 mazes (4x4 cells), 3 frames, width 16, layers 0-2, steps 0-1: wall at layer 0, route at 1."""
    path = tmp_path_factory.mktemp("planted") / "trace.h5"
    mazes = write_planted_store(path, n_samples=12, size=4, frames=3, width=16, layers=(0, 1, 2), steps=(0, 1))
    return path, mazes


@pytest.fixture(scope="session")
def planted_control(tmp_path_factory):
    """The same layout with another seed: a stand-in trace of a different model."""
    path = tmp_path_factory.mktemp("control") / "trace.h5"
    write_planted_store(path, n_samples=12, size=4, frames=3, width=16, layers=(0, 1, 2), steps=(0, 1), seed=1)
    return path
