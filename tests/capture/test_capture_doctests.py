"""The runnable examples in the docstrings of capture, store and viz run and print what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["interp.capture", "interp.capture.spec", "interp.tokens", "interp.capture.sink",
           "interp.store.writer", "interp.viz.steps_grid"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
