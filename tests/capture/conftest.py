"""Session-wide tiny models for the capture tests."""

from __future__ import annotations

import pytest

from tiny_wan import tiny_model, tiny_organism


@pytest.fixture(scope="session")
def wan21():
    return tiny_model("t2v")


@pytest.fixture(scope="session")
def wan22():
    return tiny_model("wan22")


@pytest.fixture(scope="session")
def organism():
    return tiny_organism()


@pytest.fixture(autouse=True)
def _single_thread(one_torch_thread):
    yield
