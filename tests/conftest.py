"""Fixtures shared by the whole suite."""

import pytest


@pytest.fixture
def one_torch_thread():
    """Run tiny models on one torch thread: fastest for them, and steady on a busy 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
