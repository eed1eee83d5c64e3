"""The compiled engine against the NumPy reference engine and PyTorch, over a
spread of shapes; its predict's row independence; engine and thread choice."""

import subprocess
import sys

import numpy as np
import pytest

from sklstm import LSTMRegressor
from sklstm._lstm._backend import NUMPY_BACKEND
from sklstm._lstm._engines import (
    ArrayEngine,
    CompiledEngine,
    compiled_engine_available,
    host_engine,
    make_engine,
)
from sklstm._lstm._layer import Workspace
from sklstm._lstm._losses import loss_and_gradient
from sklstm._lstm._network import (
    NetworkShape,
    backward,
    forward,
    init_parameters,
    unflatten,
)

from ._helpers import torch_lstm_layers
from .conftest import use_host_engine

pytestmark = pytest.mark.skipif(
    not compiled_engine_available(),
    reason=(
        "the compiled extension is not built (the install fell back to the NumPy "
        "engine; sklstm.show_versions() says why)"
    ),
)

# (n_features, hidden sizes, n_outputs, steps, batch): hidden sizes that are
# and are not multiples of the vector width, stacked layers, batch 1, one
# step, more threads than rows.
SHAPES = [
    (3, (5, 4), 2, 6, 7),
    (8, (64,), 1, 24, 128),
    (1, (1,), 1, 1, 1),
    (2, (17, 33, 9), 3, 5, 13),
    (4, (31,), 1, 1, 40),
    (5, (16, 16), 1, 11, 2),
]


def _problem(shape_spec, dtype, seed=0):
    n_features, hidden_sizes, n_outputs, steps, batch = shape_spec
    shape = NetworkShape(n_features, hidden_sizes, n_outputs)
    random_state = np.random.RandomState(seed)
    flat = init_parameters(shape, random_state, np.float64)
    flat += random_state.uniform(-0.3, 0.3, size=flat.shape)
    X = random_state.standard_normal((batch, steps, n_features))
    y = random_state.standard_normal((batch, n_outputs))
    return shape, flat.astype(dtype), X.astype(dtype), y.astype(dtype)


def _run(engine, shape, flat, X, y):
    params = unflatten(flat, shape)
    predictions, caches = forward(
        params, np.ascontiguousarray(np.swapaxes(X, 0, 1)), Workspace(np), engine
    )
    weights = np.ones(len(X), dtype=flat.dtype)
    loss, d_predictions = loss_and_gradient(
        "squared_error", y, predictions, weights, np
    )
    grads = unflatten(np.zeros_like(flat), shape)
    backward(params, caches, d_predictions, grads, Workspace(np), engine)
    return predictions.copy(), float(loss), grads.flat.copy()


def _torch_run(shape, flat, X, y):
    torch = pytest.importorskip("torch")
    params = unflatten(flat, shape)
    modules = torch_lstm_layers(torch, params.layers, batch_first=False)
    sequence = torch.from_numpy(np.ascontiguousarray(np.swapaxes(X, 0, 1)))
    for module in modules:
        sequence = module(sequence)[0]
    head_weight = torch.from_numpy(params.head_weight.copy()).requires_grad_()
    head_bias = torch.from_numpy(params.head_bias.copy()).requires_grad_()
    predictions = sequence[-1] @ head_weight.T + head_bias
    loss = 0.5 * ((predictions - torch.from_numpy(y)) ** 2).mean()
    loss.backward()
    gradient = []
    for module in modules:
        gradient += [
            module.weight_ih_l0.grad.numpy().ravel(),
            module.weight_hh_l0.grad.numpy().ravel(),
            module.bias_ih_l0.grad.numpy(),
        ]
    gradient += [head_weight.grad.numpy().ravel(), head_bias.grad.numpy()]
    return predictions.detach().numpy(), loss.item(), np.concatenate(gradient)


@pytest.mark.parametrize("shape_spec", SHAPES)
# Five threads on a two-core machine wait for each other: seconds a case.
@pytest.mark.parametrize("n_threads", [1, 2, pytest.param(5, marks=pytest.mark.slow)])
def test_float64_engines_and_pytorch_agree_to_1e10(shape_spec, n_threads):
    shape, flat, X, y = _problem(shape_spec, np.float64)
    compiled = _run(CompiledEngine(n_threads=n_threads), shape, flat, X, y)
    for other in (
        _run(ArrayEngine(NUMPY_BACKEND), shape, flat, X, y),
        _torch_run(shape, flat, X, y),
    ):
        np.testing.assert_allclose(compiled[0], other[0], rtol=0, atol=1e-10)
        assert compiled[1] == pytest.approx(other[1], rel=0, abs=1e-10)
        np.testing.assert_allclose(compiled[2], other[2], rtol=0, atol=1e-10)
    # The gradient is not trivially zero: the comparison above means something.
    assert np.abs(compiled[2]).max() > 1e-3


@pytest.mark.parametrize("shape_spec", SHAPES)
def test_float32_engines_and_pytorch_agree_within_rounding(shape_spec):
    shape, flat, X, y = _problem(shape_spec, np.float32)
    exact = _run(
        ArrayEngine(NUMPY_BACKEND), shape, *(a.astype(np.float64) for a in (flat, X, y))
    )
    compiled = _run(CompiledEngine(n_threads=2), shape, flat, X, y)
    reference = _run(ArrayEngine(NUMPY_BACKEND), shape, flat, X, y)
    torch_result = _torch_run(shape, flat, X, y)
    # Each float32 engine lies within a few hundred float32 epsilons of the
    # float64 result; the compiled engine no farther than the others.
    tolerance = 300 * np.finfo(np.float32).eps
    for result in (compiled, reference, torch_result):
        assert result[0].dtype == np.float32
        np.testing.assert_allclose(result[0], exact[0], rtol=0, atol=tolerance)
        scale = np.abs(exact[2]).max()
        np.testing.assert_allclose(result[2], exact[2], rtol=0, atol=tolerance * scale)
    compiled_error = np.abs(compiled[2] - exact[2]).max()
    worst_peer = max(np.abs(r[2] - exact[2]).max() for r in (reference, torch_result))
    assert compiled_error <= 4 * worst_peer + np.finfo(np.float32).tiny


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_predict_matches_training_forward(dtype):
    shape, flat, X, _ = _problem((3, (6, 5), 2, 7, 150), dtype)
    params = unflatten(flat, shape)
    expected, _ = forward(
        params,
        np.ascontiguousarray(np.swapaxes(X, 0, 1)),
        Workspace(np),
        CompiledEngine(n_threads=1),
    )
    predicted = CompiledEngine(n_threads=2).network_output(params, X, Workspace(np))
    assert predicted.dtype == np.float64
    atol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(predicted, expected, rtol=0, atol=atol)


def test_float32_predict_of_a_row_does_not_depend_on_the_other_rows(monkeypatch):
    # A promise of the compiled engine's own kernels (the NumPy engine's
    # products are BLAS's, which may round a row by the rows beside it).
    use_host_engine(monkeypatch, "compiled")
    random_state = np.random.RandomState(0)
    X = random_state.standard_normal((300, 12, 3)).astype(np.float32)
    y = X[:, -1, 0] - X[:, 0, 1]
    model = LSTMRegressor(hidden_layer_sizes=(13, 7), max_iter=3, random_state=0)
    model.fit(X, y)
    full = model.predict(X)
    # Every prefix length, single rows, a shuffled order, other thread counts.
    for subset in (
        slice(0, 1),
        slice(5, 6),
        slice(0, 63),
        slice(0, 65),
        slice(17, 200),
    ):
        np.testing.assert_array_equal(model.predict(X[subset]), full[subset])
    order = random_state.permutation(len(X))
    np.testing.assert_array_equal(model.predict(X[order]), full[order])
    model.set_params(n_threads=3)
    np.testing.assert_array_equal(model.predict(X), full)


def test_fit_is_the_same_on_any_number_of_threads():
    # Rows are split among threads for the recurrence only; the sums over
    # rows run in fixed pieces, so the float32 model is identical.
    random_state = np.random.RandomState(1)
    X = random_state.standard_normal((300, 8, 2)).astype(np.float32)
    y = X[:, -1, 0]
    fits = [
        LSTMRegressor(
            hidden_layer_sizes=(9, 5),
            max_iter=3,
            random_state=0,
            n_threads=n_threads,
        ).fit(X, y)
        for n_threads in (1, 2, 3)
    ]
    for fit in fits[1:]:
        assert fit.loss_curve_ == fits[0].loss_curve_
        for layer, expected in zip(fit.layers_, fits[0].layers_, strict=True):
            for name in ("weight_ih", "weight_hh", "bias"):
                np.testing.assert_array_equal(layer[name], expected[name])
        np.testing.assert_array_equal(fit.predict(X), fits[0].predict(X))


def test_engine_choice_from_the_environment(monkeypatch):
    monkeypatch.delenv("SKLSTM_ENGINE", raising=False)
    assert isinstance(host_engine(NUMPY_BACKEND), CompiledEngine)
    monkeypatch.setenv("SKLSTM_ENGINE", "numpy")
    assert isinstance(make_engine(NUMPY_BACKEND), ArrayEngine)
    monkeypatch.setenv("SKLSTM_ENGINE", "fortran")
    with pytest.raises(ValueError, match="'auto', 'compiled' or 'numpy'"):
        host_engine(NUMPY_BACKEND)


def test_missing_extension_falls_back_to_numpy(monkeypatch):
    import sklstm._lstm._engines as engines

    monkeypatch.setattr(engines, "_fast_lstm", None)
    monkeypatch.delenv("SKLSTM_ENGINE", raising=False)
    assert isinstance(host_engine(NUMPY_BACKEND), ArrayEngine)
    X = np.random.RandomState(0).standard_normal((40, 5, 2))
    model = LSTMRegressor(hidden_layer_sizes=4, max_iter=2, random_state=0)
    assert model.fit(X, X[:, -1, 0]).predict(X).shape == (40,)
    monkeypatch.setenv("SKLSTM_ENGINE", "compiled")
    with pytest.raises(ImportError, match="pip install -e"):
        host_engine(NUMPY_BACKEND)


def test_numpy_and_compiled_estimators_learn_the_same_model(monkeypatch):
    random_state = np.random.RandomState(2)
    X = random_state.standard_normal((120, 6, 3))
    y = X[:, -1, 0] * X[:, -2, 1]
    params = dict(
        hidden_layer_sizes=(8, 4), max_iter=4, random_state=0, dtype="float64"
    )
    compiled = LSTMRegressor(**params).fit(X, y)
    monkeypatch.setenv("SKLSTM_ENGINE", "numpy")
    reference = LSTMRegressor(**params).fit(X, y)
    np.testing.assert_allclose(compiled.loss_curve_, reference.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(compiled.predict(X), reference.predict(X), atol=1e-10)


def _default_threads_in_subprocess(env):
    code = "from sklstm._lstm._threads import openmp_threads; print(openmp_threads())"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return int(result.stdout)


@pytest.mark.slow
def test_default_threads_follow_cores_and_omp_num_threads():
    import os

    import joblib
    from sklstm._lstm._fast_lstm import build_info

    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    # A build without OpenMP (serial) runs one thread.
    cores = joblib.cpu_count() if build_info()["openmp"] else 1
    assert _default_threads_in_subprocess(env) == cores
    # joblib sets OMP_NUM_THREADS in its workers to their share of the cores.
    assert _default_threads_in_subprocess({**env, "OMP_NUM_THREADS": "1"}) == 1


def test_default_is_one_thread_outside_the_main_thread():
    import threading

    from sklstm._lstm._threads import openmp_threads

    seen = []
    worker = threading.Thread(target=lambda: seen.append(openmp_threads()))
    worker.start()
    worker.join()
    assert seen == [1]
    assert openmp_threads(3) == 3


def test_no_blas_threads_while_the_compiled_engine_runs():
    from threadpoolctl import threadpool_info

    seen = []

    class Spy(CompiledEngine):
        def layer_forward(self, *args, **kwargs):
            seen.extend(
                pool["num_threads"]
                for pool in threadpool_info()
                if pool["user_api"] == "blas"
            )
            return super().layer_forward(*args, **kwargs)

    shape, flat, X, y = _problem(SHAPES[0], np.float32)
    engine = Spy(2)
    with engine.thread_limits():
        _run(engine, shape, flat, X, y)
    assert seen and set(seen) == {1}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gates_reach_their_limits_at_infinite_preactivations_and_keep_nan(dtype):
    # One unit whose four gates all see the input: +inf saturates them
    # (i = f = o = 1, g = 1), -inf closes them (i = f = o = 0, g = -1), NaN
    # stays NaN. The float32 exp of the compiled engine handles each case
    # without undefined behaviour (the sanitizer CI leg checks that too).
    shape = NetworkShape(1, (1,), 1)
    flat = np.zeros(shape.n_parameters(), dtype=dtype)
    params = unflatten(flat, shape)
    params.layers[0].weight_ih[...] = 1.0
    params.head_weight[...] = 1.0
    X = np.array([[[np.inf]], [[-np.inf]], [[np.nan]], [[0.5]]], dtype=dtype)
    compiled = CompiledEngine(n_threads=1).network_output(params, X, Workspace(np))
    reference = ArrayEngine(NUMPY_BACKEND).network_output(
        unflatten(flat.astype(np.float64), shape), X.astype(np.float64), Workspace(np)
    )
    np.testing.assert_allclose(compiled[[0, 1]].ravel(), [np.tanh(1.0), 0.0], atol=1e-7)
    assert np.isnan(compiled[2, 0]) and np.isnan(reference[2, 0])
    np.testing.assert_allclose(compiled, reference, rtol=0, atol=1e-6)
