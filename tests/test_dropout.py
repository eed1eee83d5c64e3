"""Variational input dropout (``LSTMRegressor(dropout=...)``): its masks,
its gradients on every engine, and the estimator around it."""

import numpy as np
import pytest

from sklstm import LSTMRegressor
from sklstm._lstm._backend import NUMPY_BACKEND
from sklstm._lstm._layer import Workspace
from sklstm._lstm._losses import loss_and_gradient
from sklstm._lstm._network import (
    NetworkShape,
    backward,
    dropout_masks,
    forward,
    init_parameters,
    unflatten,
)

from ._reference import central_difference

SHAPE = NetworkShape(n_features=3, hidden_sizes=(5, 4), n_outputs=2)


def _problem(seed, batch=7, steps=6):
    rng = np.random.RandomState(seed)
    flat = init_parameters(SHAPE, rng, np.float64)
    flat += rng.uniform(-0.3, 0.3, size=flat.shape)
    X = rng.standard_normal((steps, batch, SHAPE.n_features))  # time-major
    y = rng.standard_normal((batch, SHAPE.n_outputs))
    masks = dropout_masks(SHAPE, 0.4, batch, rng, NUMPY_BACKEND, np.float64)
    return flat, X, y, masks


def _loss_and_gradient(flat, X, y, masks, engine):
    params = unflatten(flat, SHAPE)
    predictions, caches = forward(params, X.copy(), Workspace(np), engine, masks)
    value, d_predictions = loss_and_gradient(
        "squared_error", y, predictions, np.ones(len(y)), np
    )
    grads = unflatten(np.zeros_like(flat), SHAPE)
    backward(params, caches, d_predictions, grads, Workspace(np), engine, masks)
    return float(value), grads.flat, predictions


def test_masks_drop_the_rate_and_keep_the_mean():
    masks = dropout_masks(
        SHAPE, 0.3, 20_000, np.random.RandomState(0), NUMPY_BACKEND, np.float32
    )
    assert [mask.shape for mask in masks] == [(20_000, 3), (20_000, 5)]
    for mask in masks:
        assert mask.dtype == np.float32
        assert set(np.unique(mask)) == {np.float32(0), np.float32(1 / 0.7)}
        assert np.mean(mask == 0) == pytest.approx(0.3, abs=0.01)
        assert mask.mean() == pytest.approx(1.0, abs=0.02)


def test_gradient_with_dropout_matches_finite_differences(engine):
    """With the masks held fixed, the loss is smooth in the parameters and
    the backward pass must give its gradient, through both layers."""
    flat, X, y, masks = _problem(seed=1)
    assert all((mask == 0).any() for mask in masks)  # something is dropped
    _, gradient, _ = _loss_and_gradient(flat, X, y, masks, engine)

    def loss_of(point):
        return _loss_and_gradient(point, X, y, masks, engine)[0]

    numeric = central_difference(loss_of, flat)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-10)
    # Without the masks in backward, the gradient would differ.
    _, undropped, _ = _loss_and_gradient(flat, X, y, None, engine)
    assert not np.allclose(gradient, undropped)


def test_a_dropped_input_is_a_zeroed_input(engine):
    """On the first layer, dropout is the same as scaling the inputs."""
    shape = NetworkShape(n_features=3, hidden_sizes=(4,), n_outputs=1)
    rng = np.random.RandomState(2)
    flat = init_parameters(shape, rng, np.float64)
    X = rng.standard_normal((5, 6, 3))
    masks = dropout_masks(shape, 0.5, 6, rng, NUMPY_BACKEND, np.float64)
    params = unflatten(flat, shape)
    dropped, _ = forward(params, X.copy(), Workspace(np), engine, masks)
    scaled, _ = forward(params, X * masks[0], Workspace(np), engine)
    np.testing.assert_array_equal(dropped, scaled)


def _sequences(n_samples=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, 6, 3))
    return X, X[:, -1, 0] - 0.5 * X[:, 0, 1]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_dropout_trains_differently_and_predicts_without_dropping():
    X, y = _sequences()
    params = dict(hidden_layer_sizes=(8, 4), max_iter=5, random_state=0)
    plain = LSTMRegressor(**params).fit(X, y)
    dropped = LSTMRegressor(dropout=0.3, **params).fit(X, y)
    again = LSTMRegressor(dropout=0.3, **params).fit(X, y)
    # Seeded: the same masks, the same model.
    np.testing.assert_array_equal(dropped.predict(X), again.predict(X))
    assert not np.allclose(dropped.predict(X), plain.predict(X))
    # predict is deterministic: no mask at prediction time.
    np.testing.assert_array_equal(dropped.predict(X), dropped.predict(X))
    assert np.isfinite(dropped.loss_curve_).all()


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5])
def test_dropout_outside_zero_one_is_refused(rate):
    X, y = _sequences(20)
    with pytest.raises(ValueError, match="dropout"):
        LSTMRegressor(dropout=rate, max_iter=1).fit(X, y)
