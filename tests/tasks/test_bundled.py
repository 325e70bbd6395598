"""The sample tasks in data/tasks are what the current generator makes, and score perfectly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from interp.tasks import generate_maze, ground_truth_video
from interp.tasks.score import score_video
from interp.tasks.vbvr import load_task

FOLDERS = sorted((Path(__file__).resolve().parents[2] / "data" / "tasks").glob("maze*_s*"))


def test_samples_are_bundled():
    assert len(FOLDERS) >= 3


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_sample_matches_generator_and_scores_perfectly(folder):
    task = load_task(folder)
    meta = task.metadata
    maze = task.maze
    assert maze == generate_maze(maze.size, maze.seed, extra_openings=maze.extra_openings)
    video = ground_truth_video(maze, meta["num_frames"], palette=meta["palette"], px_per_unit=meta["px_per_unit"])
    assert np.array_equal(task.ground_truth, video)
    assert score_video(task.ground_truth, maze).exact
