"""The runnable examples in the docstrings of interp.tasks run and print what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["interp.tasks", "interp.tasks.maze", "interp.tasks.render", "interp.tasks.score",
           "interp.tasks.vbvr", "interp.tasks.video_io"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
