"""The early-stopping split rule: the last ``ceil(fraction * n)`` rows, and
the fraction that holds out a given number of them."""

import numpy as np
import pytest

from sklstm._validation_split import (
    fraction_holding_out,
    n_held_out,
    split_last_fraction,
)


@pytest.mark.parametrize("n_samples", [3, 10, 99, 8760, 35_063])
def test_the_fraction_holding_out_n_rows_holds_out_exactly_n(n_samples):
    for n_validation in range(1, n_samples, max(1, n_samples // 97)):
        fraction = fraction_holding_out(n_validation, n_samples)
        assert 0 < fraction < 1
        assert n_held_out(n_samples, fraction) == n_validation


def test_the_held_out_rows_are_the_last_ceil_fraction():
    assert n_held_out(100, 0.1) == 10
    assert n_held_out(101, 0.1) == 11
    n_train = split_last_fraction(101, 0.1, np.ones(101))
    assert n_train == 90


@pytest.mark.parametrize(
    "n_samples, fraction, match",
    [(10, 0.1, "1 for validation"), (3, 0.9, "0 for training")],
)
def test_parts_too_small_are_refused(n_samples, fraction, match):
    with pytest.raises(ValueError, match=match):
        split_last_fraction(n_samples, fraction, np.ones(n_samples))


def test_a_part_of_zero_weights_is_refused():
    weights = np.ones(20)
    weights[-2:] = 0
    with pytest.raises(ValueError, match="validation part"):
        split_last_fraction(20, 0.1, weights)
