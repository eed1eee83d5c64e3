"""The fitted state: what :func:`fitted_network` reads, assigned once at the
end of a fit, and saved under one name per fact."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm._fitted_network import GATE_ORDER, fitted_network
from sklstm._lstm._losses import sigmoid


def _sequences(n_samples=60, steps=3, seed=0):
    return np.random.default_rng(seed).standard_normal((n_samples, steps, 2))


def _fitted(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


@pytest.mark.parametrize(
    "y, target_type",
    [
        (np.array(["a", "b"] * 30), "binary"),
        (np.array(["a", "b", "c"] * 20), "multiclass"),
        (np.array([[0, 1], [1, 1], [1, 0]] * 20), "multilabel-indicator"),
    ],
)
def test_a_classifier_network_has_its_labels_and_no_target_scaling(y, target_type):
    X = _sequences()
    model = _fitted(LSTMClassifier(hidden_layer_sizes=3, max_iter=2), X, y)
    network = fitted_network(model)
    assert network.target_type == target_type
    np.testing.assert_array_equal(network.classes, model.classes_)
    assert network.target_scaling is None
    assert not hasattr(model, "target_mean_")
    assert not hasattr(model, "target_scale_")
    logits = np.arange(2.0 * network.n_outputs).reshape(2, -1)
    np.testing.assert_array_equal(network.in_target_units(logits), logits)


def test_a_regressor_network_has_its_target_scaling_and_no_labels():
    X = _sequences()
    y = 100 + 10 * X[:, -1, 0]
    model = _fitted(LSTMRegressor(hidden_layer_sizes=3, max_iter=2), X, y)
    network = fitted_network(model)
    assert network.target_type == "continuous"
    assert network.classes is None
    mean, scale = network.target_scaling
    assert mean is model.target_mean_ and scale is model.target_scale_
    assert mean[0] == pytest.approx(y.mean())
    assert scale[0] == pytest.approx(y.std())


def test_gate_order_names_the_blocks_that_the_network_runs():
    # Zero weights and one distinct bias per gate block: each traced gate
    # is its block's activation, so a wrong name for a block shows.
    model = _fitted(
        LSTMRegressor(hidden_layer_sizes=2, max_iter=1, random_state=0),
        _sequences(),
        _sequences()[:, -1, 0],
    )
    layer = model.layers_[0]
    layer["weight_ih"][:] = 0
    layer["weight_hh"][:] = 0
    biases = np.array([-1.5, -0.5, 0.5, 1.5])
    layer["bias"][:] = np.repeat(biases, 2).astype(layer["bias"].dtype)
    traces = model.trace_memory(_sequences(n_samples=3))
    assert len(GATE_ORDER) == 4 and set(GATE_ORDER) == {
        "input",
        "forget",
        "candidate",
        "output",
    }
    for bias, gate in zip(biases, GATE_ORDER, strict=True):
        activation = np.tanh if gate == "candidate" else lambda z: sigmoid(np, z)
        np.testing.assert_allclose(
            traces[gate][0], activation(np.float64(np.float32(bias))), rtol=1e-6
        )


def test_a_fit_that_raises_assigns_nothing():
    X = _sequences()
    model = _fitted(
        LSTMClassifier(hidden_layer_sizes=2, max_iter=1, warm_start=True),
        X,
        np.array(["a", "b"] * 30),
    )
    before = {name: value for name, value in vars(model).items()}
    with pytest.raises(ValueError, match="warm_start"):
        model.fit(X, np.array(["a", "b", "c"] * 20))  # new classes, refused
    assert vars(model).keys() == before.keys()
    for name, value in vars(model).items():
        assert value is before[name], name


def test_a_model_saved_under_the_former_name_of_one_dimensional_loads():
    X = _sequences()
    model = _fitted(LSTMRegressor(hidden_layer_sizes=2, max_iter=1), X, X[:, -1, 0])
    state = model.__getstate__()
    state["_y_was_1d"] = state.pop("_one_dimensional")
    restored = LSTMRegressor.__new__(LSTMRegressor)
    restored.__setstate__(state)
    assert fitted_network(restored).one_dimensional
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert pickle.loads(pickle.dumps(restored)).predict(X).ndim == 1
