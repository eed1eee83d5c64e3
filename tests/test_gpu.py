"""The CuPy backend against the NumPy one (needs CuPy and a CUDA device).

Marked ``gpu``; skipped where CuPy or a device is missing, as in CI.
"""

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm._lstm._backend import NUMPY_BACKEND, resolve_backend
from sklstm._lstm._engines import make_engine
from sklstm._lstm._layer import Workspace
from sklstm._lstm._losses import loss_and_gradient
from sklstm._lstm._network import (
    NetworkShape,
    backward,
    forward,
    init_parameters,
    unflatten,
)


def _cupy_backend_or_none():
    try:
        return resolve_backend("cupy")
    except (ImportError, RuntimeError):
        return None


CUPY = _cupy_backend_or_none()
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(CUPY is None, reason="needs CuPy and a CUDA device"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

SHAPE = NetworkShape(n_features=3, hidden_sizes=(16, 8), n_outputs=2)
#: With a skip connection on the last 5 of the 12 steps.
SKIP_SHAPE = SHAPE._replace(skip_steps=5)


def _loss_and_gradient(backend, dtype, loss="squared_error", shape=SHAPE):
    random_state = np.random.RandomState(0)
    flat = init_parameters(shape, random_state, np.float64)
    flat += random_state.uniform(-0.1, 0.1, size=flat.shape)  # skip weights too
    X = random_state.standard_normal((12, 33, 3))  # steps, batch, features
    y = random_state.standard_normal((33, 2))
    if loss == "log_loss":  # the classifier's 0/1 targets per output
        y = (y > 0).astype(float)
    elif loss == "softmax_log_loss":  # one class per sample, one-hot
        y = np.eye(2)[np.argmax(y, axis=1)]
    xp = backend.xp
    params = unflatten(backend.asarray(flat, dtype=dtype), shape)
    predictions, caches = forward(
        params, backend.asarray(X, dtype=dtype), Workspace(xp), make_engine(backend)
    )
    sample_weight = xp.ones(33, dtype=dtype)
    value, d_pred = loss_and_gradient(
        loss, backend.asarray(y, dtype=dtype), predictions, sample_weight, xp, 0.7
    )
    grads = unflatten(xp.zeros_like(params.flat), shape)
    backward(params, caches, d_pred, grads, Workspace(xp), make_engine(backend))
    return (
        backend.to_numpy(predictions),
        float(value),
        backend.to_numpy(grads.flat),
    )


@pytest.mark.parametrize("shape", [SHAPE, SKIP_SHAPE], ids=["plain", "skip"])
@pytest.mark.parametrize(
    "loss_name", ["squared_error", "quantile", "log_loss", "softmax_log_loss"]
)
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_forward_and_gradients_match_numpy(dtype, rtol, loss_name, shape):
    predictions, loss, gradient = _loss_and_gradient(CUPY, dtype, loss_name, shape)
    expected_predictions, expected_loss, expected_gradient = _loss_and_gradient(
        NUMPY_BACKEND, dtype, loss_name, shape
    )
    scale = np.abs(expected_gradient).max()
    np.testing.assert_allclose(predictions, expected_predictions, rtol=rtol, atol=rtol)
    assert loss == pytest.approx(expected_loss, rel=rtol)
    np.testing.assert_allclose(
        gradient, expected_gradient, rtol=rtol, atol=rtol * scale
    )


@pytest.mark.parametrize(
    "loss",
    [
        dict(loss="squared_error"),
        dict(loss="quantile", quantile=0.9),
        dict(loss="squared_error", dropout=0.2),  # masks drawn on the host
        dict(loss="squared_error", skip_steps=3),
    ],
)
def test_short_fits_have_matching_loss_curves(loss):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 10, 4))
    y = X[:, -1, 0] - X[:, 0, 1]
    params = dict(
        hidden_layer_sizes=16, max_iter=5, random_state=0, shuffle=False, **loss
    )
    gpu = LSTMRegressor(backend="cupy", **params).fit(X, y)
    cpu = LSTMRegressor(backend="numpy", **params).fit(X, y)
    assert gpu.backend_ == "cupy" and cpu.backend_ == "numpy"
    assert gpu._device_weights is not None  # copied once, reused by predict
    np.testing.assert_allclose(gpu.loss_curve_, cpu.loss_curve_, rtol=1e-4)
    assert isinstance(gpu.layers_[0]["weight_ih"], np.ndarray)
    np.testing.assert_allclose(gpu.predict(X), cpu.predict(X), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("estimator", [LSTMRegressor, LSTMClassifier])
def test_padded_sequences_train_as_on_the_host(estimator):
    # NaN-padded sequences of 4 to 10 steps; the classifier on 3 classes.
    rng = np.random.default_rng(2)
    X = rng.standard_normal((96, 10, 3))
    lengths = rng.integers(4, 11, size=96)
    for row, length in enumerate(lengths):
        X[row, length:] = np.nan
    y = np.array([X[i, n - 1, 0] - X[i, 0, 1] for i, n in enumerate(lengths)])
    if estimator is LSTMClassifier:
        y = np.digitize(y, [-0.5, 0.5])
    params = dict(
        hidden_layer_sizes=8, max_iter=3, random_state=0, shuffle=False,
        dtype="float64",
    )  # fmt: skip
    gpu = estimator(backend="cupy", **params).fit(X, y)
    cpu = estimator(backend="numpy", **params).fit(X, y)
    assert gpu.backend_ == "cupy"
    np.testing.assert_allclose(gpu.loss_curve_, cpu.loss_curve_, rtol=1e-10)
    method = "predict" if estimator is LSTMRegressor else "predict_proba"
    np.testing.assert_allclose(
        getattr(gpu, method)(X), getattr(cpu, method)(X), rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize(
    "estimator",
    [
        LSTMRegressor(backend="cupy"),
        LSTMClassifier(backend="cupy", hidden_layer_sizes=16),
    ],
    ids=["regressor", "classifier"],
)
def test_check_estimator_with_cupy(estimator):
    from sklearn.utils.estimator_checks import check_estimator

    check_estimator(
        estimator,
        expected_failed_checks={
            "check_sample_weight_equivalence_on_dense_data": "float32 rounding"
        },
    )


def test_gpu_fitted_model_predicts_where_cupy_is_hidden(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((64, 6, 2))
    y = X[:, -1, 0]
    model = LSTMRegressor(backend="cupy", hidden_layer_sizes=8, max_iter=3).fit(X, y)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    np.save(tmp_path / "X.npy", X)
    script = textwrap.dedent(
        f"""
        import pickle, sys
        import numpy as np
        sys.modules["cupy"] = None  # as on a machine without CuPy
        model = pickle.loads(open({str(path)!r}, "rb").read())
        X = np.load({str(tmp_path / "X.npy")!r})
        np.save({str(tmp_path / "cpu.npy")!r}, model.predict(X))
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    np.testing.assert_allclose(
        np.load(tmp_path / "cpu.npy"), model.predict(X), rtol=1e-10
    )
