"""Property tests of LSTMRegressor: random shapes and NaN/inf positions give
either a correct result (checked against the plain reference loop) or a
ValueError that names the problem and the fix, never another exception."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from sklstm import LSTMRegressor

from ._reference import reference_network_output

# What a clear error about bad input values must mention.
VALUE_ERROR_WORDS = ("NaN", "infinity", "inf")


@st.composite
def sequences(draw):
    """Small random sequences and targets, sometimes with a NaN or an inf."""
    n_samples = draw(st.integers(1, 12))
    steps = draw(st.integers(1, 6))
    n_features = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, steps, n_features))
    y = rng.standard_normal(n_samples)
    bad = draw(st.sampled_from([None, np.nan, np.inf, -np.inf]))
    where = draw(st.sampled_from(["X", "y"]))
    padding = False
    if bad is not None:
        if where == "X":
            index = tuple(draw(st.integers(0, size - 1)) for size in X.shape)
            X[index] = bad
            # A whole last step of NaN after a real one pads a shorter
            # sequence: valid input, not a bad value.
            padding = np.isnan(bad) and n_features == 1 and index[1] == steps - 1 > 0
        else:
            y[draw(st.integers(0, n_samples - 1))] = bad
    return X, y, bad is not None and not padding


@settings(max_examples=40, deadline=None)
@given(
    sequences(),
    st.sampled_from([(2,), (3, 2)]),
    st.sampled_from(["float32", "float64"]),
)
def test_fit_and_predict_are_right_or_say_what_is_wrong(data, sizes, dtype):
    X, y, has_bad_value = data
    model = LSTMRegressor(
        hidden_layer_sizes=sizes, max_iter=2, random_state=0, dtype=dtype
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
    except ValueError as error:
        assert has_bad_value
        assert any(word in str(error) for word in VALUE_ERROR_WORDS), error
        return
    assert not has_bad_value
    predictions = model.predict(X)
    assert predictions.shape == (len(X),)
    # Each sequence up to its padding (whole NaN steps at the end), if any.
    lengths = (~np.isnan(X).all(axis=2)).sum(axis=1)
    outputs = np.array(
        [
            reference_network_output(
                model.layers_, model.head_weight_, model.head_bias_, X[i : i + 1, :n]
            )[0, 0]
            for i, n in enumerate(lengths)
        ]
    )
    expected = outputs * model.target_scale_[0] + model.target_mean_[0]
    atol = 1e-10 if dtype == "float64" else 1e-4 * max(1.0, model.target_scale_[0])
    np.testing.assert_allclose(predictions, expected, rtol=0, atol=atol)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 8),
    st.integers(1, 5),
    st.sampled_from([np.nan, np.inf, -np.inf]),
    st.data(),
)
def test_predict_on_bad_values_raises_a_clear_value_error(steps, n_rows, bad, data):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 4, 2))
    model = LSTMRegressor(hidden_layer_sizes=2, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, X[:, -1, 0])
    X_new = rng.standard_normal((n_rows, steps, 2))
    index = tuple(data.draw(st.integers(0, size - 1)) for size in X_new.shape)
    X_new[index] = bad
    with pytest.raises(ValueError) as error:
        model.predict(X_new)
    assert any(word in str(error.value) for word in VALUE_ERROR_WORDS)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3))
def test_wrong_shapes_raise_a_value_error_that_says_how_to_fix_them(
    n_samples, steps, n_features
):
    rng = np.random.default_rng(1)
    model = LSTMRegressor(hidden_layer_sizes=2, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(rng.standard_normal((10, 3, 2)), rng.standard_normal(10))
    wrong_features = rng.standard_normal((n_samples, steps, n_features + 2))
    with pytest.raises(ValueError, match="features"):
        model.predict(wrong_features)
    four_d = rng.standard_normal((n_samples, steps, n_features, 2))
    with pytest.raises(ValueError, match="Reshape it to 3-D"):
        model.fit(four_d, rng.standard_normal(n_samples))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        model.fit(rng.standard_normal((n_samples, steps, 2)), np.ones(n_samples + 1))
