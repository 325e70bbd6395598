"""Session-wide tiny Wan models for the capture tests."""

from __future__ import annotations

import pytest

from tiny_wan import tiny_model


@pytest.fixture(scope="session")
def wan21():
    return tiny_model("t2v")


@pytest.fixture(scope="session")
def wan22():
    return tiny_model("wan22")
