"""LSTMRegressor.partial_fit: one pass per call from the current weights and
optimiser state, as MLPRegressor.partial_fit."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklstm import LSTMRegressor

from ._helpers import fitted_weights, sequences

SOLVERS = {
    "adam": dict(solver="adam", learning_rate_init=0.01),
    "sgd-nesterov": dict(solver="sgd", momentum=0.9, learning_rate_init=0.05),
    "sgd-momentum": dict(
        solver="sgd", momentum=0.9, nesterovs_momentum=False, learning_rate_init=0.05
    ),
}


def _model(**params):
    defaults = dict(
        hidden_layer_sizes=(6, 4),
        # Calls are compared with a fit's batches: a planned schedule counts
        # each call as an epoch (test_schedules covers that).
        learning_rate="constant",
        batch_size=16,
        shuffle=False,
        scale_target=False,
        dtype="float64",
        random_state=0,
    )
    return LSTMRegressor(**{**defaults, **params})


def _fit_one_pass(model, X, y, max_iter):
    model.set_params(max_iter=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _partial_fit_in_calls(model, X, y, call_size, passes=1):
    with warnings.catch_warnings():
        # Unlike fit, partial_fit never warns that it has not converged.
        warnings.simplefilter("error")
        for _ in range(passes):
            for start in range(0, len(X), call_size):
                model.partial_fit(
                    X[start : start + call_size], y[start : start + call_size]
                )
    return model


@pytest.mark.parametrize("solver", list(SOLVERS))
@pytest.mark.parametrize("passes", [1, 2])
def test_calls_of_whole_batches_reproduce_fit(solver, passes):
    X, y = sequences(96)
    fitted = _fit_one_pass(_model(**SOLVERS[solver]), X, y, max_iter=passes)
    partial = _partial_fit_in_calls(_model(**SOLVERS[solver]), X, y, 32, passes)
    np.testing.assert_allclose(
        fitted_weights(partial), fitted_weights(fitted), rtol=0, atol=1e-12
    )
    # The optimiser moved the weights: the agreement is not that of two
    # untouched initialisations.
    untouched = _fit_one_pass(
        _model(**{**SOLVERS[solver], "learning_rate_init": 1e-12}), X, y, 1
    )
    assert np.abs(fitted_weights(fitted) - fitted_weights(untouched)).max() > 1e-3
    assert partial.t_ == fitted.t_ == passes * len(X)
    # One loss per call; with calls of equal size their mean is the epoch's.
    assert len(partial.loss_curve_) == passes * 3
    call_losses = np.reshape(partial.loss_curve_, (passes, 3)).mean(axis=1)
    np.testing.assert_allclose(call_losses, fitted.loss_curve_, rtol=1e-12)


def test_sample_weights_of_the_calls_act_as_in_fit():
    X, y = sequences(96)
    sample_weight = np.random.default_rng(1).uniform(0.2, 3.0, len(X))
    fitted = _model().set_params(max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted.fit(X, y, sample_weight=sample_weight)
    partial = _model()
    for start in range(0, len(X), 32):
        rows = slice(start, start + 32)
        partial.partial_fit(X[rows], y[rows], sample_weight=sample_weight[rows])
    np.testing.assert_allclose(
        fitted_weights(partial), fitted_weights(fitted), rtol=0, atol=1e-12
    )
    unweighted = _partial_fit_in_calls(_model(), X, y, 32)
    assert np.abs(fitted_weights(unweighted) - fitted_weights(partial)).max() > 1e-6


def test_one_random_stream_across_calls():
    """Shuffled passes over the same rows draw their orders from one stream."""
    X, y = sequences(96)
    fitted = _fit_one_pass(_model(shuffle=True), X, y, max_iter=2)
    partial = _model(shuffle=True)
    partial.partial_fit(X, y).partial_fit(X, y)
    np.testing.assert_allclose(
        fitted_weights(partial), fitted_weights(fitted), rtol=0, atol=1e-12
    )
    # The order matters here: without shuffling the result differs, so a
    # second call that drew its order from a restarted stream would differ too.
    in_order = _model(shuffle=False).partial_fit(X, y).partial_fit(X, y)
    assert np.abs(fitted_weights(in_order) - fitted_weights(partial)).max() > 1e-6


@pytest.mark.parametrize("solver", list(SOLVERS))
def test_partial_fit_after_fit_continues_its_optimiser(solver):
    X, y = sequences(96)
    fitted = _fit_one_pass(_model(**SOLVERS[solver]), X[:48], y[:48], max_iter=1)
    fitted.partial_fit(X[48:], y[48:])
    partial = _partial_fit_in_calls(_model(**SOLVERS[solver]), X, y, 48)
    np.testing.assert_allclose(
        fitted_weights(fitted), fitted_weights(partial), rtol=0, atol=1e-12
    )


@pytest.mark.slow
def test_held_out_loss_falls_as_new_rows_arrive():
    rng = np.random.default_rng(7)
    coefficients = np.array([1.0, -0.6, 0.3])

    def new_rows(n):
        X = rng.standard_normal((n, 6, 3))
        y = X[:, -1] @ coefficients + 0.5 * X[:, -3, 0] + 0.05 * rng.standard_normal(n)
        return X, y

    X_test, y_test = new_rows(400)
    model = LSTMRegressor(
        hidden_layer_sizes=12, batch_size=32, learning_rate_init=0.01, random_state=0
    )
    losses = []
    for _ in range(25):
        model.partial_fit(*new_rows(128))
        losses.append(np.mean((model.predict(X_test) - y_test) ** 2))
    assert losses[-1] < 0.25 * losses[0], losses
    assert model.t_ == 25 * 128


def test_first_call_fixes_the_target_scaling():
    X, y = sequences(96)
    model = LSTMRegressor(hidden_layer_sizes=4, random_state=0)
    model.partial_fit(X[:48], 100 + 20 * y[:48])
    mean, scale = model.target_mean_.copy(), model.target_scale_.copy()
    np.testing.assert_allclose(mean, [np.mean(100 + 20 * y[:48])], rtol=1e-12)
    np.testing.assert_allclose(scale, [np.std(100 + 20 * y[:48])], rtol=1e-12)
    # Later rows on another level and spread do not move the scaling.
    model.partial_fit(X[48:], 500 + 80 * y[48:])
    np.testing.assert_array_equal(model.target_mean_, mean)
    np.testing.assert_array_equal(model.target_scale_, scale)


def test_another_number_of_features_or_outputs_raises_and_keeps_the_model():
    X, y = sequences(96)
    model = _model().partial_fit(X[:48], y[:48])
    weights = fitted_weights(model)
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[48:, :, :2], y[48:])
    with pytest.raises(ValueError, match=r"partial_fit continues .* with fit"):
        model.partial_fit(X[48:], np.column_stack([y[48:], y[48:]]))
    np.testing.assert_array_equal(fitted_weights(model), weights)
    assert model.n_features_in_ == 3 and model.n_outputs_ == 1 and model.t_ == 48
    # It still continues, as if the failed calls had not happened.
    continued = _partial_fit_in_calls(_model(), X, y, 48)
    model.partial_fit(X[48:], y[48:])
    np.testing.assert_array_equal(fitted_weights(model), fitted_weights(continued))


@pytest.mark.parametrize("solver", list(SOLVERS))
def test_a_pickled_model_continues_as_the_original(solver):
    X, y = sequences(96)
    model = _model(shuffle=True, **SOLVERS[solver])
    model.partial_fit(X[:48], y[:48]).partial_fit(X[48:], y[48:])
    pickled = pickle.dumps(model)
    copy = pickle.loads(pickled)
    for _ in range(2):
        model.partial_fit(X[:48], y[:48])
        copy.partial_fit(X[:48], y[:48])
    np.testing.assert_array_equal(fitted_weights(copy), fitted_weights(model))
    # The optimiser state matters: from the same weights and rows, a fresh
    # optimiser (a warm-started fit) takes another step than the kept one.
    kept = pickle.loads(pickled).set_params(shuffle=False)
    kept.partial_fit(X[:48], y[:48])
    fresh = pickle.loads(pickled).set_params(shuffle=False, warm_start=True)
    fresh = _fit_one_pass(fresh, X[:48], y[:48], max_iter=1)
    assert np.abs(fitted_weights(kept) - fitted_weights(fresh)).max() > 1e-6


def test_early_stopping_is_ignored():
    X, y = sequences(96)
    stopped = _partial_fit_in_calls(
        _model(early_stopping=True, validation_fraction=0.5), X, y, 32
    )
    plain = _partial_fit_in_calls(_model(), X, y, 32)
    assert stopped.validation_scores_ is None
    assert stopped.best_validation_score_ is None
    assert stopped.t_ == len(X)
    # Every row trained, none held out, no best weights restored.
    np.testing.assert_array_equal(fitted_weights(stopped), fitted_weights(plain))
