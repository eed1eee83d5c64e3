"""The compiled engine's weight gradients (``layer_backward`` after the
recurrence): one product ``[x | h_prev | 1]^T @ dz`` of its own kernel, in
fixed chunks of rows, shared among threads by panels of gate units.

Checked against NumPy's products on the gate gradients the engine wrote,
for hidden sizes that fill the kernel's panels and that leave a partial
panel, row counts around its chunk of rows; the bias as the in-order sum of
the rows; and the same bits on any number of threads."""

import numpy as np
import pytest

from sklstm._lstm._engines import compiled_engine_available

pytestmark = pytest.mark.skipif(
    not compiled_engine_available(),
    reason="the compiled extension is not built",
)

if compiled_engine_available():
    from sklstm._lstm import _fast_lstm

    # The kernel's rows per call and float32 panel, read from the module.
    ROWS, PANEL = _fast_lstm.WGRAD_ROWS, _fast_lstm.PANEL_FLOAT
else:  # every test skips
    ROWS = PANEL = 1

# (n_inputs, hidden, steps, batch): 4H a multiple of the float32 panel and
# not (H = 3, 5, 21), one row, row counts on both sides of the kernel's
# chunk of rows and several chunks.
SHAPES = [
    (8, 64, 24, 128),
    (1, 1, 1, 1),
    (3, 5, 51, 5),
    (7, 3, 1, ROWS),
    (2, 21, ROWS + 1, 1),
    (5, PANEL, 3, 100),
    (13, 6, 9, 61),
]


def _layer(n_inputs, hidden, steps, batch, dtype, seed=0):
    """A forward pass, then the backward pass from random gradients of every
    step's hidden state; returns the arrays and the backward's outputs."""
    rng = np.random.default_rng(seed)

    def normal(*shape):
        return (0.5 * rng.standard_normal(shape)).astype(dtype)

    inputs = normal(steps, batch, n_inputs)
    weight_ih, weight_hh = normal(4 * hidden, n_inputs), normal(4 * hidden, hidden)
    bias = normal(4 * hidden)
    gates = np.empty((steps, batch, 4 * hidden), dtype)
    cell = np.empty((steps + 1, batch, hidden), dtype)
    tanh_cell = np.empty((steps, batch, hidden), dtype)
    hidden_states = np.empty((steps + 1, batch, hidden), dtype)
    _fast_lstm.layer_forward(
        inputs, weight_ih, weight_hh, bias, gates, cell, tanh_cell, hidden_states, 1
    )
    d_hidden = normal(steps, batch, hidden)

    def backward(n_threads):
        d_gates = np.empty_like(gates)
        grad_ih, grad_hh = np.empty_like(weight_ih), np.empty_like(weight_hh)
        grad_bias, d_inputs = np.empty_like(bias), np.empty_like(inputs)
        _fast_lstm.layer_backward(
            inputs, weight_ih, weight_hh, gates, cell, tanh_cell, hidden_states,
            d_hidden, d_gates, grad_ih, grad_hh, grad_bias, d_inputs, True,
            n_threads,
        )  # fmt: skip
        return d_gates, grad_ih, grad_hh, grad_bias, d_inputs

    return inputs, hidden_states, weight_ih, backward


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("dtype", "rtol"), [(np.float64, 1e-12), (np.float32, 2e-5)], ids=["f64", "f32"]
)
def test_weight_gradients_are_the_products_with_the_gate_gradients(shape, dtype, rtol):
    n_inputs, hidden, steps, _ = shape
    inputs, hidden_states, weight_ih, backward = _layer(*shape, dtype)
    d_gates, grad_ih, grad_hh, grad_bias, d_inputs = backward(2)
    dz = d_gates.reshape(-1, 4 * hidden).astype(np.float64)
    x = inputs.reshape(-1, n_inputs).astype(np.float64)
    # Row (t, b) meets h_{t-1}: hidden_states[t], the zero state at t = 0.
    h_prev = hidden_states[:steps].reshape(-1, hidden).astype(np.float64)
    for got, expected in [
        (grad_ih, dz.T @ x),
        (grad_hh, dz.T @ h_prev),
        (grad_bias, dz.sum(axis=0)),
        (d_inputs, (dz @ weight_ih).reshape(d_inputs.shape)),
    ]:
        scale = max(np.abs(expected).max(), 1e-300)
        np.testing.assert_allclose(got, expected, rtol=0, atol=rtol * scale)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bias_gradient_is_the_sum_of_the_rows_in_order(dtype):
    """Each sum over the rows runs in row order (here the bias's, which the
    kernel takes as plain additions): NumPy's cumulative sum gives its bits."""
    d_gates, _, _, grad_bias, _ = _layer(4, 21, 30, 37, dtype, seed=3)[3](1)
    in_order = np.cumsum(d_gates.reshape(-1, d_gates.shape[-1]), axis=0)[-1]
    np.testing.assert_array_equal(grad_bias, in_order)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "shape", [(8, 64, 24, 128), (3, 21, 40, 13), (2, 5, 7, ROWS + 44)]
)
def test_weight_gradients_are_the_same_bits_on_any_number_of_threads(dtype, shape):
    backward = _layer(*shape, dtype, seed=1)[3]
    reference = backward(1)
    for n_threads in (2, 3, 4):
        for got, expected in zip(backward(n_threads), reference, strict=True):
            np.testing.assert_array_equal(got, expected)
