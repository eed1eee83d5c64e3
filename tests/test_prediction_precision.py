"""Predict's precision: one rule for every engine (``prediction_dtype``,
docs/performance.rst, "Prediction precision")."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklstm import LSTMRegressor
from sklstm._lstm._backend import NUMPY_BACKEND
from sklstm._lstm._engines import make_engine, prediction_dtype
from sklstm._lstm._layer import Workspace
from sklstm._lstm._network import NetworkShape, pack_parameters, unflatten

# The table of docs/performance.rst: (engine, model dtype) -> predict's dtype.
DOCUMENTED = {
    ("compiled", "float32"): np.float32,
    ("compiled", "float64"): np.float64,
    ("numpy", "float32"): np.float64,
    ("numpy", "float64"): np.float64,
}


def _fitted(dtype, seed=0):
    random_state = np.random.RandomState(seed)
    X = random_state.standard_normal((300, 12, 3)).astype(dtype)
    y = X[:, -1, 0] - X[:, 0, 1]
    model = LSTMRegressor(
        hidden_layer_sizes=(13, 7),
        max_iter=3,
        random_state=seed,
        dtype=dtype,
        scale_target=False,
        skip_steps=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y), X


def _output_computed_in(model, X, dtype):
    """The network's output with the fitted weights cast to ``dtype``."""
    shape = NetworkShape(3, (13, 7), 1, 2)
    flat = pack_parameters(
        model.layers_,
        model.head_weight_,
        model.head_bias_,
        dtype,
        model.skip_weight_,
    )
    engine = make_engine(NUMPY_BACKEND, model.n_threads)
    with engine.thread_limits():
        output = engine.network_output(unflatten(flat, shape), X, Workspace(np))
    return output[:, 0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predict_computes_in_the_documented_dtype(host_engine_name, dtype):
    model, X = _fitted(dtype)
    engine = make_engine(NUMPY_BACKEND)
    expected_dtype = DOCUMENTED[host_engine_name, dtype]
    assert prediction_dtype(engine, dtype) == expected_dtype
    predictions = model.predict(X)
    assert predictions.dtype == np.float64
    np.testing.assert_array_equal(
        predictions, _output_computed_in(model, X, expected_dtype)
    )
    if expected_dtype == np.float64 and dtype == "float32":
        # Not the float32 computation: the rule chose, and it shows.
        other = _output_computed_in(model, X, np.float32)
        assert np.any(other != predictions)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_row_predicts_alone_as_among_other_rows(host_engine_name, dtype):
    # What the rule buys, with scikit-learn's subset-invariance tolerance.
    model, X = _fitted(dtype, seed=1)
    full = model.predict(X)
    order = np.random.RandomState(2).permutation(len(X))
    for rows in (slice(0, 1), slice(5, 6), slice(0, 63), slice(17, 200), order):
        np.testing.assert_allclose(
            model.predict(X[rows]), full[rows], rtol=1e-7, atol=1e-9
        )
