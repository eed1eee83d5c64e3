"""The shared base of the LSTM estimators: its training configuration, its
fitted-network view, and warnings that point at the caller's line."""

import dataclasses
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklstm import LSTMRegressor
from sklstm._base import BaseLSTM
from sklstm._fitted_network import fitted_network
from sklstm._lstm import _training
from sklstm._lstm._training_state import TrainingConfig


def _data(n_samples=40, steps=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, steps, 2))
    return X, X[:, -1, 0] + 0.5 * X[:, -2, 1]


def _caught(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return caught


def test_convergence_warning_points_at_the_line_that_called_fit():
    X, y = _data()
    caught = _caught(
        lambda: LSTMRegressor(
            hidden_layer_sizes=2, max_iter=1, learning_rate="constant"
        ).fit(X, y)
    )
    (warning,) = [w for w in caught if w.category is ConvergenceWarning]
    assert warning.filename == __file__


def test_convergence_warning_points_at_the_line_that_called_a_pipeline():
    # Through Pipeline.fit and _fit_context, however deep they wrap the call.
    X, y = _data()
    model = make_pipeline(
        FunctionTransformer(),
        LSTMRegressor(hidden_layer_sizes=2, max_iter=1, learning_rate="constant"),
    )
    caught = _caught(lambda: model.fit(X, y))
    (warning,) = [w for w in caught if w.category is ConvergenceWarning]
    assert warning.filename == __file__


def test_interrupt_warning_points_at_the_line_that_called_partial_fit(monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_training, "_run_epoch", interrupted)
    X, y = _data()
    model = LSTMRegressor(hidden_layer_sizes=2)
    caught = _caught(lambda: model.partial_fit(X, y))
    (warning,) = [w for w in caught if "interrupted" in str(w.message)]
    assert warning.filename == __file__
    assert hasattr(model, "layers_")  # the first call's weights are kept


def test_training_config_is_frozen_and_reads_every_shared_parameter():
    model = LSTMRegressor(
        alpha=0.25, batch_size=7, tol=0.5, momentum=0.3, gradient_clip=2.0
    )
    config = TrainingConfig.from_estimator(model, loss="huber", quantile=None)
    for field in dataclasses.fields(TrainingConfig):
        if field.name in model.get_params() and field.name != "loss":
            expected = getattr(model, field.name)
            if field.name == "dtype":
                expected = np.dtype(expected)
            assert getattr(config, field.name) == expected, field.name
    assert config.loss == "huber"
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.alpha = 1.0
    assert config.batch_size_for(5) == 5 and config.batch_size_for(50) == 7
    assert dataclasses.replace(config, one_pass=True).epochs == 1


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fitted_network_is_the_fitted_attributes():
    X, y = _data()
    model = LSTMRegressor(
        hidden_layer_sizes=(3, 2), skip_steps=2, max_iter=2, random_state=0
    )
    model.fit(X, np.column_stack([y, -y]))
    network = fitted_network(model)
    assert network.shape == (2, (3, 2), 2, 2)
    assert network.layers is model.layers_
    assert network.skip_weight is model.skip_weight_
    assert not network.one_dimensional
    output = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(
        network.in_target_units(output),
        output * model.target_scale_ + model.target_mean_,
    )
    params = network.parameters(np.float64)
    np.testing.assert_array_equal(
        params.layers[1].weight_hh, model.layers_[1]["weight_hh"]
    )
    np.testing.assert_array_equal(params.head_bias, model.head_bias_)


def test_fitted_network_follows_the_shape_of_y():
    X, y = _data()
    model = LSTMRegressor(hidden_layer_sizes=2, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    network = fitted_network(model)
    assert network.one_dimensional
    assert network.in_target_units(np.ones((4, 1))).shape == (4,)
    assert model.predict(X).shape == (len(X),)


def test_the_base_is_abstract():
    with pytest.raises(TypeError, match="abstract"):
        BaseLSTM()
