"""Store tests run their tiny models on one torch thread (fastest, and steady on a busy machine)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _single_thread(one_torch_thread):
    yield
