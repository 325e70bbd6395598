"""experiments/seed_ensemble.py on the walker: a run is right when its walk is exact (the walk scorer), its vote
is its last frame's trail and agent; the command line sets the preset's groups, mazes per group and seeds."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from interp.errors import InputError
from interp.organism.walk_frames import AGENT, PATH, decode_walk_labels
from interp.tasks import generate_maze
from interp.tasks.walk import walk_for_maze, walk_video
from interp.tasks.walk_score import WalkScorer

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


@pytest.fixture
def script(monkeypatch):
    monkeypatch.syspath_prepend(str(EXPERIMENTS))
    return importlib.import_module("seed_ensemble")


def test_a_walk_is_right_only_when_walked_to_the_prompts_target_and_votes_on_its_trail(script):
    maze = generate_maze(5, seed=3)
    walk = walk_for_maze(maze)
    to_goal, to_key = walk_video(walk, "goal", 16), walk_video(walk, "key", 16)
    right, answer = script._score_one((to_goal, maze, WalkScorer(prompt="goal")))
    last = decode_walk_labels(to_goal[-1], maze.units)[0]
    assert right and answer == np.packbits((last == PATH) | (last == AGENT)).tobytes()
    wrong, other = script._score_one((to_key, maze, WalkScorer(prompt="goal")))
    assert not wrong and other != answer
    held = to_goal.copy()
    held[1:] = held[0]                                   # the agent never leaves the start: no route drawn
    assert not script._score_one((held, maze, WalkScorer(prompt="goal")))[0]


def test_the_command_line_sets_groups_mazes_and_seeds(script):
    args = SimpleNamespace(preset="gpu", group_names=["5x5", "7x7"], count=12, kmax=3, ks=[3], screen_n=4)
    cfg = script.configured(args)
    assert cfg["groups"] == [("5x5", 5, None, 12), ("7x7", 7, None, 12)]
    assert (cfg["kmax"], cfg["ks"], cfg["screen_n"]) == (3, [3], 4)
    with pytest.raises(InputError, match="kmax"):
        script.configured(SimpleNamespace(**{**vars(args), "ks": [5]}))
