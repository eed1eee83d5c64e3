"""Helpers shared by the test modules: random sequences, the fitted weights
as one vector, PyTorch LSTMs holding our weights, the mean squared error,
and the check that early stopping kept its best epoch."""

import numpy as np


def default_target(X):
    """The last step's first feature plus half the first step's second."""
    return X[:, -1, 0] + 0.5 * X[:, 0, 1]


def difference_target(X):
    """The last step's first feature minus half the first step's second."""
    return X[:, -1, 0] - 0.5 * X[:, 0, 1]


def sequences(
    n_samples=40,
    steps=5,
    n_features=3,
    *,
    target=default_target,
    noise=0.1,
    n_outputs=None,
    seed=0,
):
    """Standard normal sequences ``X`` of shape (n_samples, steps, n_features)
    and ``y = target(X) + noise * e``, ``e`` standard normal.

    ``n_outputs`` stacks ``y``, ``2 y``, ... as columns. ``X`` and then ``e``
    are drawn from ``np.random.default_rng(seed)``.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, steps, n_features))
    y = target(X)
    if noise:
        y = y + noise * rng.standard_normal(n_samples)
    if n_outputs is not None:
        y = np.column_stack([y * (k + 1) for k in range(n_outputs)])
    return X, y


def fitted_weights(model):
    """Every fitted weight of ``model`` as one vector, from its public
    attributes, in the storage order of ``NetworkShape.parameter_shapes``:
    per layer ``weight_ih``, ``weight_hh``, ``bias``, then the head's weight
    and bias, then the skip weights if any."""
    arrays = []
    for layer in model.layers_:
        arrays += [layer["weight_ih"], layer["weight_hh"], layer["bias"]]
    arrays += [model.head_weight_, model.head_bias_]
    if getattr(model, "skip_weight_", None) is not None:
        arrays.append(model.skip_weight_)
    return np.concatenate([np.ravel(array) for array in arrays]).astype(np.float64)


def torch_lstm_layers(torch, layers, dtype=None, batch_first=True):
    """One ``torch.nn.LSTM`` per layer, holding that layer's weights.

    ``layers`` are dicts (``LSTMRegressor.layers_``) or named tuples (the
    network's ``Parameters.layers``) of ``weight_ih``, ``weight_hh`` and
    ``bias``, whose row blocks are the input, forget, cell and output gates
    as in PyTorch; our single bias goes to ``bias_ih`` and ``bias_hh`` is 0.
    ``dtype`` defaults to that of the weights.
    """
    modules = []
    for layer in layers:
        if not isinstance(layer, dict):
            layer = layer._asdict()
        weight_ih = torch.from_numpy(np.ascontiguousarray(layer["weight_ih"]))
        module = torch.nn.LSTM(
            weight_ih.shape[1], layer["weight_hh"].shape[1], batch_first=batch_first
        ).to(dtype or weight_ih.dtype)
        with torch.no_grad():
            module.weight_ih_l0.copy_(weight_ih)
            module.weight_hh_l0.copy_(torch.from_numpy(layer["weight_hh"]))
            module.bias_ih_l0.copy_(torch.from_numpy(layer["bias"]))
            module.bias_hh_l0.zero_()
        modules.append(module)
    return modules


def mse(y_true, y_pred):
    """Mean squared error over every value."""
    return float(np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2))


def assert_keeps_the_best_epoch(model, X, y, training_rows, rtol=1e-6):
    """``model``, fitted with ``early_stopping``, holds the weights of its
    best validation epoch: those that the same estimator reaches without
    early stopping, trained on ``training_rows`` alone for that many epochs
    (the same initial weights and shuffles, as the hold-out draws nothing
    from the training stream). A hold-out of other rows, or other weights
    kept, gives other predictions."""
    from sklearn.base import clone

    best_epochs = int(np.argmax(model.validation_scores_)) + 1
    assert model.best_validation_score_ == model.validation_scores_[best_epochs - 1]
    again = clone(model).set_params(
        early_stopping=False, max_iter=best_epochs, n_iter_no_change=best_epochs + 1
    )
    again.fit(X[training_rows], y[training_rows])
    assert again.n_iter_ == best_epochs
    method = "predict_proba" if hasattr(model, "predict_proba") else "predict"
    expected = getattr(again, method)(X)
    np.testing.assert_allclose(
        getattr(model, method)(X),
        expected,
        rtol=rtol,
        atol=rtol * np.abs(expected).max(),
    )
