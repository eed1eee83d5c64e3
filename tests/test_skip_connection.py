"""LSTMRegressor(skip_steps=k): the linear map of the last k steps' inputs
beside the LSTM, through the estimator (the engines' gradients are checked in
test_network.py, the ONNX graph in test_onnx.py)."""

import pickle
from functools import partial

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import r2_score

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm._lstm._network import NetworkShape, init_parameters, unflatten

from ._helpers import fitted_weights, sequences
from ._reference import (
    ONE_GRADIENT_STEP,
    central_difference,
    reference_loss,
    reference_network_output,
)
from .conftest import use_host_engine

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


#: Sequences whose target reads the last and the third-last steps.
_sequences = partial(
    sequences,
    n_samples=60,
    steps=6,
    n_features=2,
    target=lambda X: 2 * X[:, -1, 0] - X[:, -3, 1],
)


def _reference_predict(model, X):
    """``predict`` from the fitted attributes, by the reference loop."""
    output = reference_network_output(
        model.layers_,
        model.head_weight_,
        model.head_bias_,
        X,
        skip_weight=model.skip_weight_,
    )
    return (output * model.target_scale_ + model.target_mean_).ravel()


def test_predict_matches_reference_loop(host_engine_name):
    X, y = _sequences()
    model = LSTMRegressor(
        hidden_layer_sizes=3, skip_steps=4, max_iter=2, dtype="float64", random_state=0
    ).fit(X, y)
    assert model.skip_weight_.shape == (1, 4, 2)
    # Weights far from their zero start, one per step and feature.
    model.skip_weight_ = np.random.default_rng(1).standard_normal((1, 4, 2))
    np.testing.assert_allclose(
        model.predict(X), _reference_predict(model, X), rtol=0, atol=1e-10
    )
    # Shorter sequences than in fit still hold the 4 steps the skip reads.
    np.testing.assert_allclose(
        model.predict(X[:, -4:]), _reference_predict(model, X[:, -4:]), atol=1e-10
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("Estimator", [LSTMRegressor, LSTMClassifier])
def test_compiled_predictions_are_the_same_bits_alone_or_in_a_batch(
    monkeypatch, Estimator, dtype
):
    """The compiled engine sums the skip connection in its per-row loop, as
    the head: a row's output does not depend on the rows beside it, padded
    or not (docs/classification.rst promises it bit for bit)."""
    use_host_engine(monkeypatch, "compiled")
    X, y = _sequences(n_samples=500)
    X[::7, -1] = np.nan  # some shorter sequences, padded
    if Estimator is LSTMClassifier:
        y = y > np.median(y)
    model = Estimator(
        hidden_layer_sizes=4, skip_steps=3, max_iter=1, dtype=dtype, random_state=0
    ).fit(X, y)
    # Weights far from their zero start, one per output, step and feature.
    rng = np.random.default_rng(1)
    model.skip_weight_ = rng.standard_normal(model.skip_weight_.shape).astype(dtype)
    method = model.predict if Estimator is LSTMRegressor else model.predict_proba
    in_a_batch = method(X)
    alone = np.concatenate([method(X[[row]]) for row in range(len(X))])
    np.testing.assert_array_equal(alone, in_a_batch)


def test_one_fit_is_one_full_batch_gradient_step(host_engine_name):
    """One SGD step moves every weight, the skip's included (with its L2
    penalty), by the learning rate times the finite-difference gradient."""
    X, y = _sequences(n_samples=12, steps=4)
    alpha, step = 0.3, 0.05
    model = LSTMRegressor(
        hidden_layer_sizes=3,
        skip_steps=2,
        alpha=alpha,
        batch_size=len(X),
        learning_rate_init=step,
        **ONE_GRADIENT_STEP,
    )
    model.fit(X, y)
    shape = NetworkShape(2, (3,), 1, skip_steps=2)
    before = fitted_weights(model)
    is_weight = np.concatenate(
        [np.full(np.prod(s), float(w)) for _, s, w in shape.parameter_shapes()]
    )

    def loss_of(flat):
        params = unflatten(flat, shape)
        layers = [layer._asdict() for layer in params.layers]
        predictions = reference_network_output(
            layers, params.head_weight, params.head_bias, X, params.skip_weight
        )
        data_loss = reference_loss(
            "squared_error", y[:, None], predictions, np.ones(len(X))
        )
        return data_loss + 0.5 * alpha * np.sum(is_weight * flat**2) / len(X)

    gradient = central_difference(loss_of, before)
    assert np.all(unflatten(gradient, shape).skip_weight != 0)
    model.fit(X, y)
    after = fitted_weights(model)
    np.testing.assert_allclose(after, before - step * gradient, rtol=0, atol=1e-9)


def test_skip_weights_start_at_zero_and_leave_the_lstm_draws_alone():
    plain = NetworkShape(2, (3,), 1)
    skip = plain._replace(skip_steps=4)
    flat_plain = init_parameters(plain, np.random.RandomState(0), np.float64)
    flat_skip = init_parameters(skip, np.random.RandomState(0), np.float64)
    np.testing.assert_array_equal(flat_skip[: flat_plain.size], flat_plain)
    assert np.all(unflatten(flat_skip, skip).skip_weight == 0)
    assert skip.n_parameters() == plain.n_parameters() + 4 * 2


@pytest.mark.slow
def test_a_linear_series_is_learned_by_the_skip():
    """A target linear in the last steps: the skip finds the coefficients
    that a one-unit LSTM alone cannot reach."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 5, 2))
    y = 2 * X[:, -1, 0] - X[:, -3, 1] + 0.5 * X[:, -2, 0]
    params = dict(
        hidden_layer_sizes=1, max_iter=60, learning_rate_init=0.01, random_state=0
    )
    X_test = rng.standard_normal((500, 5, 2))
    y_test = 2 * X_test[:, -1, 0] - X_test[:, -3, 1] + 0.5 * X_test[:, -2, 0]
    with_skip = LSTMRegressor(skip_steps=3, alpha=0.0, **params).fit(X, y)
    without = LSTMRegressor(**params).fit(X, y)
    assert r2_score(y_test, with_skip.predict(X_test)) > 0.999
    assert r2_score(y_test, without.predict(X_test)) < 0.95
    coefficients = with_skip.skip_weight_[0] * with_skip.target_scale_[0]
    expected = np.array([[0.0, -1.0], [0.5, 0.0], [2.0, 0.0]])  # oldest first
    # The one-unit LSTM beside it carries a little of the linear part.
    np.testing.assert_allclose(coefficients, expected, atol=0.1)


def test_skip_steps_round_trips_and_pickles():
    X, y = _sequences()
    model = LSTMRegressor(hidden_layer_sizes=3, skip_steps=2, max_iter=2)
    assert clone(model).get_params()["skip_steps"] == 2
    model.fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.skip_weight_, model.skip_weight_)
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert LSTMRegressor(max_iter=1).fit(X, y).skip_weight_ is None


def test_partial_fit_keeps_the_skip():
    X, y = _sequences()
    model = LSTMRegressor(hidden_layer_sizes=3, skip_steps=2, max_iter=2).fit(X, y)
    before = model.skip_weight_.copy()
    model.partial_fit(X, y)
    assert model.skip_weight_.shape == before.shape
    assert not np.array_equal(model.skip_weight_, before)


def test_skip_longer_than_the_sequences_is_refused():
    X, y = _sequences(steps=6)
    with pytest.raises(ValueError, match="skip_steps=7 reads the last 7 time steps"):
        LSTMRegressor(skip_steps=7, max_iter=1).fit(X, y)
    model = LSTMRegressor(skip_steps=4, max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="sequences given to predict have 3"):
        model.predict(X[:, -3:])


def test_warm_start_with_another_skip_is_refused():
    X, y = _sequences()
    model = LSTMRegressor(skip_steps=2, max_iter=1, warm_start=True).fit(X, y)
    model.set_params(skip_steps=3)
    with pytest.raises(ValueError, match="Keep hidden_layer_sizes, skip_steps"):
        model.fit(X, y)


def test_negative_skip_steps_is_refused():
    X, y = _sequences()
    with pytest.raises(ValueError, match="skip_steps"):
        LSTMRegressor(skip_steps=-1).fit(X, y)
