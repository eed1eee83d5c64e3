"""Variational input dropout (``LSTMRegressor(dropout=...)``): its masks,
its gradients on every engine, and the estimator around it."""

from functools import partial

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

from ._helpers import difference_target, fitted_weights, sequences
from ._reference import (
    ONE_GRADIENT_STEP,
    central_difference,
    reference_loss,
    reference_network_output,
)

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


#: Noiseless sequences of 6 steps and 3 features.
_sequences = partial(
    sequences, n_samples=200, steps=6, target=difference_target, noise=0
)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_dropout_trains_differently_and_predicts_without_dropping():
    X, y = _sequences()
    params = dict(
        hidden_layer_sizes=(8, 4), max_iter=5, dtype="float64", random_state=0
    )
    plain = LSTMRegressor(**params).fit(X, y)
    dropped = LSTMRegressor(dropout=0.3, **params).fit(X, y)
    again = LSTMRegressor(dropout=0.3, **params).fit(X, y)
    # Seeded: the same masks, the same model; the masks changed the training.
    np.testing.assert_array_equal(fitted_weights(dropped), fitted_weights(again))
    assert np.abs(fitted_weights(dropped) - fitted_weights(plain)).max() > 1e-3
    # predict is the whole network on the fitted weights: nothing dropped,
    # nothing rescaled (the kept inputs were scaled up in training instead).
    expected = reference_network_output(
        dropped.layers_, dropped.head_weight_, dropped.head_bias_, X
    )
    expected = (expected * dropped.target_scale_ + dropped.target_mean_).ravel()
    np.testing.assert_allclose(dropped.predict(X), expected, rtol=0, atol=1e-10)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("skip_steps", [0, 2])
def test_a_training_step_descends_the_loss_with_the_drawn_masks(
    monkeypatch, skip_steps
):
    """One full-batch SGD step of ``fit`` is the finite-difference gradient of
    the reference loss with the masks that training drew, on every layer's
    inputs (and the skip's); the recorded loss is that loss."""
    import sklstm._lstm._training as training

    drawn = []

    def record(*args, **kwargs):
        masks = dropout_masks(*args, **kwargs)
        drawn.append(masks)
        return masks

    monkeypatch.setattr(training, "dropout_masks", record)
    X, y = _sequences(n_samples=12, steps=4, n_features=2)
    rate, step = 0.4, 0.1
    model = LSTMRegressor(
        hidden_layer_sizes=(3, 2),
        dropout=rate,
        skip_steps=skip_steps,
        alpha=0.0,
        batch_size=len(X),
        learning_rate_init=step,
        **ONE_GRADIENT_STEP,
    ).fit(X, y)
    before = fitted_weights(model)
    shape = NetworkShape(2, (3, 2), 1, skip_steps=skip_steps)
    drawn.clear()
    model.fit(X, y)
    (masks,) = drawn  # one batch, one draw
    assert [mask.shape for mask in masks] == [(12, 2), (12, 3)]
    assert all((mask == 0).any() and (mask == 1 / (1 - rate)).any() for mask in masks)

    def loss_of(flat, masks=masks):
        params = unflatten(flat, shape)
        predictions = reference_network_output(
            [layer._asdict() for layer in params.layers],
            params.head_weight,
            params.head_bias,
            X,
            params.skip_weight,
            dropout_masks=masks,
        )
        return reference_loss("squared_error", y[:, None], predictions, np.ones(12))

    gradient = central_difference(loss_of, before)
    np.testing.assert_allclose(
        fitted_weights(model), before - step * gradient, rtol=0, atol=1e-9
    )
    assert model.loss_curve_[-1] == pytest.approx(loss_of(before), rel=1e-12)
    # The masks matter: the gradient without them is another step.
    undropped = central_difference(lambda flat: loss_of(flat, masks=None), before)
    assert np.abs(step * (gradient - undropped)).max() > 1e-3


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5])
def test_dropout_outside_zero_one_is_refused(rate):
    X, y = _sequences(n_samples=20)
    with pytest.raises(ValueError, match="dropout"):
        LSTMRegressor(dropout=rate, max_iter=1).fit(X, y)
