"""Fixtures of the reliability suite: run ``cos`` in-process, copy a task a test may damage."""

from __future__ import annotations

import shutil

import pytest
from reliability_helpers import TASK

from interp.cli.main import main


@pytest.fixture(autouse=True)
def _single_thread(one_torch_thread):
    yield


@pytest.fixture
def cos(capsys):
    """``cos(*argv)`` -> ``(exit code, stdout, stderr)``, run in-process."""

    def run(*argv):
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def task(tmp_path):
    """A copy of a bundled task folder that a test may damage."""
    folder = tmp_path / "tasks" / "maze5_s0"
    shutil.copytree(TASK, folder)
    return folder
