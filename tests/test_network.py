"""The engines' maths: gradients against finite differences, outputs against a
plain reference loop and against PyTorch, for the NumPy reference engine and
the compiled engine (on one thread and on several)."""

import functools

import numpy as np
import pytest

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
from ._reference import central_difference, reference_loss, reference_network_output

SHAPE = NetworkShape(n_features=3, hidden_sizes=(5, 4), n_outputs=2)
#: The same network with a skip connection on the last 4 of its 6+ steps.
SKIP_SHAPE = SHAPE._replace(skip_steps=4)


@pytest.fixture(params=[SHAPE, SKIP_SHAPE], ids=["plain", "skip"])
def shape(request):
    """The network checked: plain, or with a skip connection."""
    return request.param


def _as_public(params):
    layers = [layer._asdict() for layer in params.layers]
    return layers, params.head_weight, params.head_bias


def _reference_output(params, X):
    """The reference loop's output for :class:`Parameters` ``params``."""
    return reference_network_output(
        *_as_public(params), X, skip_weight=params.skip_weight
    )


def _problem(seed, shape=SHAPE, steps=6, batch=7):
    random_state = np.random.RandomState(seed)
    flat = init_parameters(shape, random_state, np.float64)
    # Away from the initial point, where the skip weights are all zero.
    flat += random_state.uniform(-0.3, 0.3, size=flat.shape)
    X = random_state.standard_normal((batch, steps, shape.n_features))
    y = random_state.standard_normal((batch, shape.n_outputs)) * 2
    sample_weight = random_state.uniform(0.5, 2.0, size=batch)
    return flat, X, y, sample_weight


#: The quantile of ``loss="quantile"`` in these checks.
QUANTILE = 0.3


def _engine_loss_and_gradient(flat, X, y, sample_weight, loss, engine, shape=SHAPE):
    params = unflatten(flat, shape)
    predictions, caches = forward(
        params,
        np.ascontiguousarray(np.swapaxes(X, 0, 1), dtype=flat.dtype),
        Workspace(np),
        engine,
    )
    value, d_predictions = loss_and_gradient(
        loss, y, predictions, sample_weight, np, quantile=QUANTILE
    )
    grads = unflatten(np.zeros_like(flat), shape)
    backward(params, caches, d_predictions, grads, Workspace(np), engine)
    return float(value), grads.flat, predictions


@pytest.mark.parametrize(
    "loss",
    [
        "squared_error",
        "absolute_error",
        "huber",
        "quantile",
        "log_loss",
        "softmax_log_loss",
    ],
)
# The loss is engine-independent NumPy: each loss on the reference engine in
# the fast tier; the compiled engines' gradients are checked against finite
# differences below and against the reference engine in test_engines.py.
@pytest.mark.parametrize(
    "engine",
    [
        "numpy",
        pytest.param("compiled-1-thread", marks=pytest.mark.slow),
        pytest.param("compiled-3-threads", marks=pytest.mark.slow),
    ],
    indirect=True,
)
def test_gradient_matches_finite_differences(loss, engine, shape):
    flat, X, y, sample_weight = _problem(seed=1, shape=shape)
    if loss == "log_loss":  # the classifier's targets: 0/1 labels per output
        y = (y > 0).astype(float)
    elif loss == "softmax_log_loss":  # one class per sample, one-hot
        y = np.eye(shape.n_outputs)[np.argmax(y, axis=1)]
    _, gradient, predictions = _engine_loss_and_gradient(
        flat, X, y, sample_weight, loss, engine, shape
    )
    if loss in ("absolute_error", "huber", "quantile"):
        # Keep residuals away from the kinks of |r|, pinball and Huber, where
        # finite differences are not defined (the log losses are smooth).
        residual = np.abs(predictions - y)
        assert residual.min() > 2e-2 and np.abs(residual - 1).min() > 2e-2

    def loss_of(point):
        return _engine_loss_and_gradient(
            point, X, y, sample_weight, loss, engine, shape
        )[0]

    numeric = central_difference(loss_of, flat)
    relative = np.abs(gradient - numeric) / np.maximum(
        np.abs(gradient) + np.abs(numeric), 1e-10
    )
    # Every parameter of both layers, of the head and of the skip is checked.
    assert gradient.size == shape.n_parameters()
    assert np.all(gradient != 0)
    assert relative.max() < 1e-6, relative.max()


@pytest.mark.parametrize("loss", ["squared_error", "quantile"])
def test_gradient_matches_reference_loss(loss, engine, shape):
    """The engine's loss and gradient are those of the reference loop."""
    flat, X, y, sample_weight = _problem(seed=2, shape=shape)
    value, gradient, _ = _engine_loss_and_gradient(
        flat, X, y, sample_weight, loss, engine, shape
    )
    expected_value, numeric = _reference_loss_and_gradient(loss, shape)
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-10)


@functools.cache
def _reference_loss_and_gradient(loss, shape):
    """The reference loop's loss and finite-difference gradient on the
    problem of seed 2, computed once for all engines."""
    flat, X, y, sample_weight = _problem(seed=2, shape=shape)

    def reference(point):
        predictions = _reference_output(unflatten(point, shape), X)
        return reference_loss(loss, y, predictions, sample_weight, QUANTILE)

    return reference(flat), central_difference(reference, flat)


def test_forward_matches_reference_loop(engine, shape):
    flat, X, _, _ = _problem(seed=3, shape=shape, steps=9)
    params = unflatten(flat, shape)
    _, _, predictions = _engine_loss_and_gradient(
        flat, X, np.zeros((len(X), 2)), np.ones(len(X)), "squared_error", engine,
        shape,
    )  # fmt: skip
    expected = _reference_output(params, X)
    np.testing.assert_allclose(predictions, expected, rtol=0, atol=1e-12)


def test_single_step_and_single_layer(engine):
    shape = NetworkShape(n_features=2, hidden_sizes=(3,), n_outputs=1)
    flat, X, y, sample_weight = _problem(seed=4, shape=shape, steps=1, batch=3)
    _, gradient, predictions = _engine_loss_and_gradient(
        flat, X, y, sample_weight, "squared_error", engine, shape=shape
    )
    expected = _reference_output(unflatten(flat, shape), X)
    np.testing.assert_allclose(predictions, expected, atol=1e-12)
    # With one step the recurrent weights never act: their gradient is zero.
    assert np.all(unflatten(gradient, shape).layers[0].weight_hh == 0)


def test_matches_pytorch(engine):
    torch = pytest.importorskip("torch")
    flat, X, y, _ = _problem(seed=5)
    params = unflatten(flat, SHAPE)
    lstm, lstm2 = torch_lstm_layers(torch, params.layers)
    head = torch.nn.Linear(4, 2).double()
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(params.head_weight))
        head.bias.copy_(torch.from_numpy(params.head_bias))
    inputs = torch.from_numpy(X)
    outputs = head(lstm2(lstm(inputs)[0])[0][:, -1])
    torch_loss = 0.5 * torch.nn.functional.mse_loss(outputs, torch.from_numpy(y))
    torch_loss.backward()

    loss, gradient, predictions = _engine_loss_and_gradient(
        flat, X, y, np.ones(len(X)), "squared_error", engine
    )
    np.testing.assert_allclose(predictions, outputs.detach().numpy(), atol=1e-12)
    assert loss == pytest.approx(torch_loss.item(), rel=1e-12)
    grads = unflatten(gradient, SHAPE)
    for module, layer in zip((lstm, lstm2), grads.layers, strict=True):
        np.testing.assert_allclose(
            layer.weight_ih, module.weight_ih_l0.grad, atol=1e-12
        )
        np.testing.assert_allclose(
            layer.weight_hh, module.weight_hh_l0.grad, atol=1e-12
        )
        np.testing.assert_allclose(layer.bias, module.bias_ih_l0.grad, atol=1e-12)
    np.testing.assert_allclose(grads.head_weight, head.weight.grad, atol=1e-12)
    np.testing.assert_allclose(grads.head_bias, head.bias.grad, atol=1e-12)


def test_workspace_reuses_its_storage_for_every_shape():
    workspace = Workspace(np)
    first = workspace.empty("a", (2, 3), np.float32)
    first[...] = 7
    # Another shape of the same name and dtype: the same memory, no new one.
    smaller = workspace.empty("a", (5,), np.float32)
    assert np.shares_memory(smaller, first) and np.all(smaller == 7)
    assert smaller.shape == (5,) and smaller.flags.c_contiguous
    # Larger: new storage, kept for the smaller shapes after it.
    larger = workspace.empty("a", (4, 3), np.float32)
    assert not np.shares_memory(larger, first)
    assert np.shares_memory(workspace.empty("a", (2, 3), np.float32), larger)
    # Other names and dtypes have storage of their own.
    assert not np.shares_memory(workspace.empty("b", (2, 3), np.float32), larger)
    assert not np.shares_memory(workspace.empty("a", (2, 3), np.float64), larger)
    assert workspace.empty("a", (0, 3), np.float32).shape == (0, 3)
    assert np.all(workspace.zeros("a", (2, 3), np.float32) == 0)


def test_float32_forward_close_to_float64(engine, shape):
    flat, X, _, _ = _problem(seed=6, shape=shape)
    params32 = unflatten(flat.astype(np.float32), shape)
    predictions32, _ = forward(
        params32,
        np.ascontiguousarray(np.swapaxes(X, 0, 1), dtype=np.float32),
        Workspace(np),
        engine,
    )
    assert predictions32.dtype == np.float32
    expected = _reference_output(unflatten(flat, shape), X)
    np.testing.assert_allclose(predictions32, expected, rtol=1e-5, atol=1e-5)
