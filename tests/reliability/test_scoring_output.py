"""Judging a model's output is not checking a user's input: a damaged video is a failing score."""

from __future__ import annotations

import numpy as np
import pytest

from interp.errors import InputError
from interp.tasks import generate_maze, ground_truth_video
from interp.tasks.score import score_output, score_video


@pytest.mark.parametrize("damage", [
    lambda v: np.zeros_like(v),                                         # blanked by an intervention
    lambda v: np.random.default_rng(0).integers(0, 256, v.shape, dtype=np.uint8),  # noise
    lambda v: np.full(v.shape, np.nan, np.float32),                     # NaNs from a broken run
])
def test_a_damaged_generated_video_is_a_failing_score_with_its_reason(damage):
    maze = generate_maze(5, seed=0)
    video = damage(ground_truth_video(maze, 4))
    score = score_output(video, maze)
    assert score.exact is False and score.valid_route is False and score.vbvr_score == 0.0
    assert score.failure


def test_a_good_generated_video_scores_as_before():
    maze = generate_maze(5, seed=0)
    video = ground_truth_video(maze, 4)
    assert score_output(video, maze) == score_video(video, maze)
    assert score_output(video, maze).failure is None


def test_a_users_video_of_another_maze_is_still_refused():
    maze = generate_maze(5, seed=0)
    with pytest.raises(InputError, match="does not show this maze"):
        score_video(np.zeros_like(ground_truth_video(maze, 4)), maze)
