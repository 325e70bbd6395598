"""Aggregates of Chain-of-Steps metrics: known shares, intervals and n; runnable docstrings."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest
from hand_videos import ROUND, TOP, frames, hand_maze, inner, steps

from interp.errors import InputError
from interp.metrics.cos import cos_metrics
from interp.metrics.cos_aggregate import aggregate, aggregate_by_size, bootstrap_mean, wilson
from interp.tasks import generate_maze, ground_truth_video

MAZE = hand_maze()
BOTH, ONE, BARE = frames(MAZE, {**inner(TOP), **inner(ROUND)}), frames(MAZE, inner(TOP)), frames(MAZE, {})


def test_wilson_matches_known_values():
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    assert wilson(10, 10)[1] == pytest.approx(1.0) and wilson(0, 10)[0] == pytest.approx(0.0)


def test_bootstrap_interval_contains_the_mean():
    mean, low, high = bootstrap_mean(np.arange(20.0))
    assert mean == 9.5 and low < mean < high
    assert bootstrap_mean(np.arange(20.0)) == bootstrap_mean(np.arange(20.0))      # fixed seed


def test_aggregate_of_known_samples():
    explores = cos_metrics(steps(BOTH, BOTH, ONE), MAZE)
    direct = cos_metrics(steps(BARE, ONE, ONE), MAZE)
    wrong = cos_metrics(steps(ONE, BOTH, BOTH), MAZE)
    result = aggregate([explores, direct, wrong])
    assert result["n"] == 3 and result["steps"] == [0, 1, 2]
    per_step = result["per_step"]
    assert per_step["candidates"]["mean"] == pytest.approx([1.0, 5 / 3, 4 / 3], abs=1e-6)     # 2+0+1, 2+1+2, 1+1+2
    assert per_step["answer_correct"]["mean"] == pytest.approx([1 / 3, 1 / 3, 2 / 3], abs=1e-6)
    assert per_step["self_correction"]["mean"] == pytest.approx([1 / 3, 1 / 3, 0.0], abs=1e-6)
    assert per_step["answer_correct"]["n"] == 3
    low, high = wilson(1, 3)
    assert per_step["answer_correct"]["ci95_low"][0] == pytest.approx(low, abs=1e-6)
    assert per_step["answer_correct"]["ci95_high"][0] == pytest.approx(high, abs=1e-6)
    per_sample = result["per_sample"]
    assert per_sample["final_correct"]["mean"] == pytest.approx(2 / 3, abs=1e-6)
    assert per_sample["self_corrected"]["mean"] == pytest.approx(1 / 3, abs=1e-6)
    assert per_sample["commitment_step"]["mean"] == pytest.approx((2 + 1 + 1) / 3, abs=1e-6)
    assert per_sample["action_step"]["n"] == 2 and per_sample["action_step"]["mean"] == 1.5
    assert per_sample["perception_before_action"]["n"] == 2          # scaffold right from step 0
    assert per_sample["perception_before_action"]["mean"] == 1.0


def test_aggregate_by_size_and_refusals():
    other = generate_maze(5, seed=0)
    video = ground_truth_video(other, 3, px_per_unit=3)
    small = cos_metrics(steps(BOTH, ONE), MAZE)
    large = cos_metrics(np.stack([video, video]), other)
    groups = aggregate_by_size([large, small, small])
    assert list(groups) == [4, 5] and groups[4]["n"] == 2 and groups[5]["n"] == 1
    with pytest.raises(InputError, match="at least one"):
        aggregate([])
    with pytest.raises(InputError, match="different steps"):
        aggregate([small, cos_metrics(steps(BOTH, ONE), MAZE, steps=[0, 5])])


@pytest.mark.parametrize("name", ["interp.tasks.route_colour", "interp.metrics.cos", "interp.metrics.cos_aggregate",
                                  "interp.metrics.cos_figure", "interp.tasks.pairs", "interp.tasks.patch_metrics"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
