"""The masked recurrence: a batch of NaN-padded sequences runs as one batch,
rows longest first, each step updating the rows still running.

A row computes what it computes alone on its real steps: the compiled
engine gives the same bits (its products give a row the same operations
wherever it sits), the NumPy engine the same up to BLAS's rounding (1e-12
in float64). The gradient of a padded batch is the weighted sum of the
gradients of its groups of equal length, and the finite differences of its
loss."""

import numpy as np
import pytest

from sklstm._lstm._backend import NUMPY_BACKEND
from sklstm._lstm._engines import (
    ArrayEngine,
    CompiledEngine,
    compiled_engine_available,
)
from sklstm._lstm._layer import LayerWeights, Workspace
from sklstm._lstm._losses import loss_and_gradient
from sklstm._lstm._masking import longest_first, pieces
from sklstm._lstm._network import (
    NetworkShape,
    backward,
    forward,
    init_parameters,
    unflatten,
)

from ._reference import central_difference
from .conftest import COMPILED_MISSING

ENGINES = {
    "numpy": lambda: ArrayEngine(NUMPY_BACKEND),
    "compiled-1": lambda: CompiledEngine(n_threads=1),
    "compiled-2": lambda: CompiledEngine(n_threads=2),
}


@pytest.fixture(params=list(ENGINES))
def engine(request):
    if request.param.startswith("compiled") and not compiled_engine_available():
        pytest.skip(COMPILED_MISSING)
    return ENGINES[request.param]()


def _same(engine, got, expected, rtol=1e-12):
    """Bits on the compiled engine; float64 rounding on NumPy's BLAS."""
    if engine.name == "compiled":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)


def _lengths(batch, steps, seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, steps + 1, batch)
    lengths[rng.integers(batch)] = steps
    return lengths


def test_step_mask_puts_rows_longest_first_and_counts_the_running_ones():
    lengths = np.array([3, 5, 1, 5, 3, 2])
    mask = longest_first(lengths)
    np.testing.assert_array_equal(mask.order, [1, 3, 0, 4, 5, 2])  # stable
    np.testing.assert_array_equal(mask.lengths, [5, 5, 3, 3, 2, 1])
    np.testing.assert_array_equal(mask.active, [6, 5, 4, 2, 2])
    assert mask.steps == 5 and mask.ragged
    assert not longest_first(np.array([4, 4])).ragged


def test_pieces_cover_every_row_once_longest_first():
    lengths = _lengths(50, 9, seed=1)
    seen = []
    for rows, mask in pieces(50, lengths, 16):
        assert len(rows) <= 16
        np.testing.assert_array_equal(lengths[rows], mask.lengths)
        assert mask.steps == lengths[rows].max()
        seen.extend(rows)
    np.testing.assert_array_equal(np.sort(seen), np.arange(50))
    assert [rows for rows, _ in pieces(5, None, 2)] == [
        slice(0, 2),
        slice(2, 4),
        slice(4, 5),
    ]


def _layer(n_inputs, hidden, dtype, seed):
    rng = np.random.default_rng(seed)
    return LayerWeights(
        *(
            (0.5 * rng.standard_normal(shape)).astype(dtype)
            for shape in [(4 * hidden, n_inputs), (4 * hidden, hidden), (4 * hidden,)]
        )
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("every_step", [False, True], ids=["top", "lower"])
def test_a_masked_layer_gives_each_row_what_it_gets_alone(engine, dtype, every_step):
    if dtype == np.float32 and engine.name != "compiled":
        pytest.skip("NumPy's float32 BLAS rounds a row by the rows beside it")
    n_inputs, hidden, steps, batch = 3, 7, 9, 23
    weights = _layer(n_inputs, hidden, dtype, seed=0)
    rng = np.random.default_rng(1)
    mask = longest_first(_lengths(batch, steps, seed=2))
    inputs = rng.standard_normal((steps, batch, n_inputs)).astype(dtype)
    d_hidden = rng.standard_normal((steps if every_step else 1, batch, hidden)).astype(
        dtype
    )
    for row, length in enumerate(mask.lengths):  # the padding is never read
        inputs[length:, row] = np.nan if engine.name == "compiled" else 0

    def run(inputs, d_hidden, active):
        cache = engine.layer_forward(
            weights, inputs, Workspace(np), name="", active=active
        )
        grads = LayerWeights(*(np.empty_like(w) for w in weights))
        workspace = Workspace(np)
        d_inputs = engine.layer_backward(
            weights,
            cache,
            d_hidden if every_step else d_hidden[0],
            grads,
            workspace,
            name="",
            need_d_inputs=True,
            active=active,
        )
        d_gates = workspace.empty("d_gates", cache.gates.shape, cache.gates.dtype)
        return [np.array(a) for a in cache], grads, np.array(d_inputs), d_gates.copy()

    cache, grads, d_inputs, d_gates = run(inputs, d_hidden, mask.active)
    _, _, cell, _, hidden_states = cache
    expected_grads = [np.zeros_like(w, dtype=np.float64) for w in weights]
    for row, length in enumerate(mask.lengths):
        alone = np.ascontiguousarray(inputs[:length, row : row + 1])
        d_alone = d_hidden[:length] if every_step else d_hidden
        d_alone = np.ascontiguousarray(d_alone[:, row : row + 1])
        row_cache, row_grads, row_d_inputs, row_d_gates = run(alone, d_alone, None)
        # The states of the real steps, then the last ones kept.
        _same(engine, hidden_states[: length + 1, row], row_cache[4][:, 0])
        _same(engine, cell[: length + 1, row], row_cache[2][:, 0])
        assert (hidden_states[length:, row] == hidden_states[length, row]).all()
        assert (cell[length:, row] == cell[length, row]).all()
        _same(engine, d_gates[:length, row], row_d_gates[:, 0])
        # BLAS's product (both engines): a row may round by its neighbours.
        tol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(
            d_inputs[:length, row], row_d_inputs[:, 0], rtol=tol, atol=tol
        )
        assert (d_inputs[length:, row] == 0).all()
        for total, part in zip(expected_grads, row_grads, strict=True):
            total += part
    for got, expected in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


def _network(skip_steps=2, dtype=np.float64, seed=0):
    shape = NetworkShape(3, (6, 4), 2, skip_steps)
    rng = np.random.RandomState(seed)
    flat = init_parameters(shape, rng, np.float64)
    flat += rng.uniform(-0.3, 0.3, size=flat.shape)
    return shape, flat.astype(dtype)


def _padded_batch(batch=31, steps=8, skip_steps=2, seed=3):
    rng = np.random.default_rng(seed)
    lengths = np.maximum(_lengths(batch, steps, seed), skip_steps)
    X = rng.standard_normal((batch, steps, 3))
    for row, length in enumerate(lengths):
        X[row, length:] = np.nan
    y = rng.standard_normal((batch, 2))
    weight = rng.uniform(0.2, 2.0, batch)
    return X, lengths, y, weight


def _batch_gradient(engine, shape, flat, X, y, weight, mask=None):
    """Weighted mean loss and its gradient of samples-first ``X`` (rows in
    ``mask``'s order when given, their padding zero)."""
    params = unflatten(flat, shape)
    if mask is not None:
        X, y, weight = X[mask.order, : mask.steps], y[mask.order], weight[mask.order]
        X = np.nan_to_num(X)
    inputs = np.ascontiguousarray(np.swapaxes(X, 0, 1))
    predictions, caches = forward(params, inputs, Workspace(np), engine, mask=mask)
    loss, d_predictions = loss_and_gradient("squared_error", y, predictions, weight, np)
    grads = unflatten(np.zeros_like(flat), shape)
    backward(params, caches, d_predictions, grads, Workspace(np), engine, mask=mask)
    return float(loss), grads.flat.copy()


def test_padded_batch_gradient_is_the_weighted_sum_of_its_lengths(engine):
    """The gradient of a padded batch run as one equals what training by
    groups of equal length gave (each group's mean, weighed by its share of
    the weights): the sums over rows are reordered, hence a tolerance."""
    shape, flat = _network()
    X, lengths, y, weight = _padded_batch()
    loss, gradient = _batch_gradient(
        engine, shape, flat, X, y, weight, longest_first(lengths)
    )
    expected_loss, expected = 0.0, np.zeros_like(flat)
    for length in np.unique(lengths):
        rows = np.flatnonzero(lengths == length)
        part_loss, part = _batch_gradient(
            engine, shape, flat, X[rows, :length], y[rows], weight[rows]
        )
        share = weight[rows].sum() / weight.sum()
        expected_loss += share * part_loss
        expected += share * part
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-12)
    np.testing.assert_allclose(gradient, expected, rtol=1e-11, atol=1e-13)


def test_masked_backward_matches_finite_differences(engine):
    shape, flat = _network(seed=5)
    X, lengths, y, weight = _padded_batch(batch=9, steps=6, seed=6)
    mask = longest_first(lengths)
    _, gradient = _batch_gradient(engine, shape, flat, X, y, weight, mask)
    numeric = central_difference(
        lambda point: _batch_gradient(engine, shape, point, X, y, weight, mask)[0],
        flat,
    )
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_padded_predict_gives_each_row_its_output_alone(engine, dtype):
    if dtype == np.float32 and engine.name != "compiled":
        pytest.skip("NumPy's float32 BLAS rounds a row by the rows beside it")
    shape, flat = _network(dtype=dtype)
    params = unflatten(flat, shape)
    # More rows than a compiled chunk, so that chunks end mid-batch.
    X, lengths, _, _ = _padded_batch(batch=300, steps=11)
    X = X.astype(dtype)
    output = engine.network_output(params, X, Workspace(np), lengths)
    assert output.dtype == np.float64
    alone = np.concatenate(
        [
            engine.network_output(params, X[row : row + 1, :length], Workspace(np))
            for row, length in enumerate(lengths)
        ]
    )
    _same(engine, output, alone, rtol=1e-13)


@pytest.mark.skipif(not compiled_engine_available(), reason=COMPILED_MISSING)
def test_compiled_kernels_refuse_counts_that_are_not_longest_first():
    from sklstm._lstm import _fast_lstm

    weights = _layer(2, 3, np.float64, seed=0)
    inputs = np.zeros((3, 4, 2))
    buffers = [np.empty((3, 4, 12)), np.empty((4, 4, 3)), np.empty((3, 4, 3))]
    buffers.append(np.empty((4, 4, 3)))
    for active in ([4, 2, 3], [4, 5, 1], [4, 4]):
        with pytest.raises(ValueError, match="active"):
            _fast_lstm.layer_forward(
                inputs, *weights, *buffers, 1, np.array(active, dtype=np.intp)
            )
    with pytest.raises(ValueError, match="lengths"):
        _fast_lstm.last_hidden_states(
            np.zeros((2, 3, 2)),
            [tuple(weights)],
            np.empty((2, 3)),
            1,
            8,
            np.array([2, 3], dtype=np.intp),
        )


@pytest.mark.skipif(not compiled_engine_available(), reason=COMPILED_MISSING)
@pytest.mark.parametrize(
    "lengths",
    [[40, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], list(range(30, 0, -1))],
    ids=["one-long-row", "staircase"],
)
def test_masked_compiled_layer_is_the_same_bits_on_any_number_of_threads(lengths):
    """Threads share the rows by running row-steps, not by rows, where rows
    end at different steps (a block may be a single long row, or empty):
    the results do not depend on it."""
    mask = longest_first(np.array(lengths))
    rng = np.random.default_rng(4)
    weights = _layer(3, 5, np.float32, seed=2)
    inputs = rng.standard_normal((mask.steps, len(lengths), 3)).astype(np.float32)
    d_hidden = rng.standard_normal((len(lengths), 5)).astype(np.float32)

    def run(n_threads):
        engine = CompiledEngine(n_threads=n_threads)
        cache = engine.layer_forward(
            weights, inputs, Workspace(np), name="", active=mask.active
        )
        grads = LayerWeights(*(np.empty_like(w) for w in weights))
        engine.layer_backward(
            weights,
            cache,
            d_hidden,
            grads,
            Workspace(np),
            name="",
            need_d_inputs=False,
            active=mask.active,
        )
        return [np.array(cache.cell), np.array(cache.hidden), *grads]

    expected = run(1)
    for n_threads in (2, 3, 4):
        for got, want in zip(run(n_threads), expected, strict=True):
            np.testing.assert_array_equal(got, want)
