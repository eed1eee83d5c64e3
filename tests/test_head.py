"""The network's head (``_head``): the output layer and the skip connection
that every engine shares."""

import numpy as np
import pytest

from sklstm._lstm._head import head_backward, head_output, recent_steps
from sklstm._lstm._masking import longest_first
from sklstm._lstm._network import NetworkShape, init_parameters, unflatten

from ._reference import central_difference


def _head_problem(dtype, skip_steps=3, batch=37, hidden=40, seed=0):
    """Parameters, last hidden states, time-major inputs and a ragged mask."""
    rng = np.random.RandomState(seed)
    shape = NetworkShape(5, (hidden,), 3, skip_steps)
    flat = init_parameters(shape, rng, np.float64)
    flat += rng.uniform(-0.5, 0.5, size=flat.shape)
    params = unflatten(flat.astype(dtype), shape)
    steps = 9
    lengths = np.sort(rng.randint(max(1, skip_steps), steps + 1, size=batch))[::-1]
    lengths[0] = steps
    mask = longest_first(lengths)
    last_hidden = rng.uniform(-1, 1, (batch, hidden)).astype(dtype)
    inputs = rng.standard_normal((steps, batch, 5)).astype(dtype)
    return params, last_hidden, inputs, mask


def _matmul_head(params, last_hidden, inputs, mask):
    """The head's formula with matrix products and a loop over the rows."""
    output = last_hidden @ params.head_weight.T + params.head_bias
    if params.skip_weight is not None:
        skip_steps = params.skip_weight.shape[1]
        for row, length in enumerate(mask.lengths):
            recent = inputs[length - skip_steps : length, row]
            output[row] += np.einsum("sf,osf->o", recent, params.skip_weight)
    return output


@pytest.mark.parametrize("skip_steps", [0, 3])
@pytest.mark.parametrize("ragged", [False, True])
def test_head_output_is_the_head_formula(skip_steps, ragged):
    params, last_hidden, inputs, mask = _head_problem(np.float64, skip_steps)
    if not ragged:
        mask = longest_first(np.full(len(last_hidden), inputs.shape[0]))
    got = head_output(params, last_hidden, inputs, np, mask if ragged else None)
    expected = _matmul_head(params, last_hidden, inputs, mask)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-13)


def test_recent_steps_reads_each_row_at_its_own_last_steps():
    _, _, inputs, mask = _head_problem(np.float64)
    recent = recent_steps(inputs, 3, np, mask)
    for row, length in enumerate(mask.lengths):
        np.testing.assert_array_equal(recent[:, row], inputs[length - 3 : length, row])


@pytest.mark.parametrize("hidden", [7, 40, 64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_head_output_of_a_row_is_the_same_bits_alone_as_in_a_batch(dtype, hidden):
    # What the compiled engine's predict promises: no matrix product, whose
    # blocking may round a row by its neighbours, in the head.
    params, last_hidden, inputs, mask = _head_problem(dtype, hidden=hidden)
    batch_output = head_output(params, last_hidden, inputs, np, mask)
    assert batch_output.dtype == dtype
    for row, length in enumerate(mask.lengths):
        alone = head_output(
            params,
            last_hidden[row : row + 1],
            np.ascontiguousarray(inputs[:length, row : row + 1]),
            np,
        )
        np.testing.assert_array_equal(alone[0], batch_output[row])


def test_head_backward_matches_finite_differences():
    params, last_hidden, inputs, mask = _head_problem(np.float64, batch=6, hidden=4)
    d_output = np.random.RandomState(1).standard_normal((6, 3))
    grads = unflatten(np.zeros_like(params.flat), NetworkShape(5, (4,), 3, 3))
    d_hidden = head_backward(params, last_hidden, inputs, d_output, grads, np, mask)

    def loss(flat, hidden=last_hidden):
        point = unflatten(flat, NetworkShape(5, (4,), 3, 3))
        return float(np.sum(head_output(point, hidden, inputs, np, mask) * d_output))

    numeric = central_difference(loss, params.flat)
    head = slice(-(3 * 4 + 3 + 3 * 3 * 5), None)
    np.testing.assert_allclose(grads.flat[head], numeric[head], rtol=1e-7, atol=1e-9)
    numeric_hidden = central_difference(
        lambda hidden: loss(params.flat, hidden.reshape(last_hidden.shape)),
        last_hidden.ravel(),
    )
    np.testing.assert_allclose(d_hidden.ravel(), numeric_hidden, rtol=1e-7, atol=1e-9)
