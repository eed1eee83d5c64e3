"""The public estimators' docstrings, as numpydoc and Sphinx read them."""

import inspect
import re

import pytest

from sklstm import LSTMClassifier, LSTMRegressor, SequenceWindower


@pytest.mark.parametrize("cls", [LSTMClassifier, LSTMRegressor, SequenceWindower])
def test_sections_start_at_the_left_margin(cls):
    # numpydoc finds a section only where its title and underline start at the
    # margin of the cleaned docstring; a body indented past the filled-in
    # sections leaves them as block quotes, which the docs build rejects.
    lines = inspect.cleandoc(cls.__doc__).splitlines()
    underlines = [i for i, line in enumerate(lines) if re.fullmatch(r"\s*-{3,}", line)]
    assert underlines, "no numpydoc section found"
    for i in underlines:
        title, underline = lines[i - 1], lines[i]
        assert title == title.lstrip() and underline == underline.lstrip(), (
            f"section {title.strip()!r} of {cls.__name__} is indented"
        )
        assert len(underline) == len(title), title
        # The section's first entry ("name : type", a reference, a doctest)
        # starts at the margin too.
        first = next(line for line in lines[i + 1 :] if line.strip())
        assert first == first.lstrip(), (
            f"the first entry of {title.strip()!r} in {cls.__name__} is indented"
        )
