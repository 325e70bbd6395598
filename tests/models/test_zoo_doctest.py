"""The tiny zoo's docstring example runs and prints what it claims."""

import doctest

import interp.models.tiny_zoo


def test_docstring_example():
    result = doctest.testmod(interp.models.tiny_zoo, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
