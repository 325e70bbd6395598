"""The runnable examples in the docstrings of interp.tasks run and print what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["interp.tasks", "interp.tasks.maze", "interp.tasks.render", "interp.tasks.score",
           "interp.tasks.vbvr", "interp.tasks.video_io", "interp.tasks.interface", "interp.tasks.input_pairs",
           "interp.tasks.maze_task", "interp.tasks.maze_answers", "interp.tasks.maze_trajectories"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
