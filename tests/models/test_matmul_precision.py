"""The float32 matrix-product precision switch: set inside, the process's own setting after."""

import pytest
import torch

from interp.errors import InputError
from interp.models.speed import MATMUL_PRECISIONS, matmul_precision


@pytest.mark.parametrize("name", MATMUL_PRECISIONS)
def test_the_precision_holds_inside_and_the_old_one_comes_back(name):
    before = torch.get_float32_matmul_precision()
    with matmul_precision(name):
        assert torch.get_float32_matmul_precision() == name
    assert torch.get_float32_matmul_precision() == before


def test_the_old_precision_comes_back_after_an_error():
    before = torch.get_float32_matmul_precision()
    with pytest.raises(RuntimeError), matmul_precision("medium"):
        raise RuntimeError("inside")
    assert torch.get_float32_matmul_precision() == before


def test_an_unknown_precision_is_refused_with_the_valid_ones():
    with pytest.raises(InputError, match="highest, high, medium"), matmul_precision("tf32"):
        pass
