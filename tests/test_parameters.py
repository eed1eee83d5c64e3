"""The shared parameters: their constraints, as every estimator takes them,
and the checks that read values together or against the data."""

import numpy as np
import pytest

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm._parameters import (
    SHARED_CONSTRAINTS,
    check_hidden_sizes,
    check_skip_steps,
    flat_layout,
)


@pytest.mark.parametrize("estimator", [LSTMRegressor, LSTMClassifier])
def test_every_estimator_takes_every_shared_parameter(estimator):
    assert set(SHARED_CONSTRAINTS) <= set(estimator().get_params())
    for name, constraints in SHARED_CONSTRAINTS.items():
        assert estimator._parameter_constraints[name] is constraints


@pytest.mark.parametrize(
    "name, value",
    [
        ("validation_fraction", 1.0),
        ("learning_rate_init", 0.0),
        ("dropout", 1.0),
        ("momentum", 1.5),
        ("solver", "lbfgs"),
        ("n_threads", 0),
        ("dtype", "float16"),
    ],
)
def test_values_outside_the_constraints_are_refused_at_fit(name, value):
    X, y = np.zeros((4, 2, 1)), np.arange(4.0)
    with pytest.raises(ValueError, match=name):  # InvalidParameterError
        LSTMRegressor(**{name: value}).fit(X, y)


@pytest.mark.parametrize(
    "sizes, expected", [(3, (3,)), ((4, 2), (4, 2)), (np.array([5]), (5,))]
)
def test_hidden_sizes_become_a_tuple_of_ints(sizes, expected):
    checked = check_hidden_sizes(sizes)
    assert checked == expected
    assert all(type(size) is int for size in checked)


@pytest.mark.parametrize("sizes", [(), (4, 0), (2.5,), [[2, 3]], "8"])
def test_hidden_sizes_refuse_what_is_not_positive_ints(sizes):
    with pytest.raises(ValueError, match="positive int"):
        check_hidden_sizes(sizes)


def test_skip_steps_fit_in_the_sequences():
    check_skip_steps(5, 5, "fit")
    with pytest.raises(ValueError, match=r"skip_steps=6 .* to predict have 5"):
        check_skip_steps(5, 6, "predict")


def test_the_flat_layout_needs_n_timesteps_for_a_non_default_order():
    model = LSTMRegressor(n_timesteps=3, step_order="newest_first")
    assert flat_layout(model) == {
        "n_timesteps": 3,
        "step_order": "newest_first",
        "column_grouping": "by_step",
    }
    with pytest.raises(ValueError, match="n_timesteps=None"):
        flat_layout(LSTMRegressor(column_grouping="by_feature"))
