"""The docstring examples of the tiny zoo, its text encoders and the capability table run and print what they claim."""

import doctest

import pytest

import interp.models.capabilities
import interp.models.tiny_text
import interp.models.tiny_zoo


@pytest.mark.parametrize("module", [interp.models.tiny_zoo, interp.models.tiny_text, interp.models.capabilities])
def test_docstring_example(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
