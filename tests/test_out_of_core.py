"""Out-of-core training: dask-ml's Incremental streams the blocks of a Dask
array of flattened windows to LSTMRegressor.partial_fit."""

import numpy as np
import pytest

from sklstm import LSTMRegressor, SequenceWindower

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")

WINDOW, N_BLOCKS, BLOCK_ROWS, N_EPOCHS = 8, 4, 50, 3


@pytest.fixture(scope="module")
def flat_windows():
    """Flattened windows of a two-feature series and next-step targets."""
    t = np.arange(N_BLOCKS * BLOCK_ROWS + WINDOW, dtype=float)
    table = np.column_stack([np.sin(t / 6), np.cos(t / 17)])
    rows = SequenceWindower(window=WINDOW, flatten=True).fit_transform(table)
    X, y = rows[WINDOW - 1 : -1], table[WINDOW:, 0]
    return X, y


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _model():
    return LSTMRegressor(
        hidden_layer_sizes=(6,), n_timesteps=WINDOW, batch_size=16, random_state=0
    )


def test_incremental_reaches_the_loss_curve_of_partial_fit(client, flat_windows):
    X, y = flat_windows
    blocks = np.array_split(np.arange(len(X)), N_BLOCKS)
    in_memory = _model()
    for _ in range(N_EPOCHS):
        for block in blocks:
            in_memory.partial_fit(X[block], y[block])

    chunks = tuple(len(block) for block in blocks)
    X_dask = da.from_array(X, chunks=(chunks, X.shape[1]))
    y_dask = da.from_array(y, chunks=(chunks,))
    streamed = dask_ml_wrappers.Incremental(_model(), shuffle_blocks=False)
    for _ in range(N_EPOCHS):  # one pass over the blocks per call
        streamed.partial_fit(X_dask, y_dask)

    # One loss per block, as partial_fit in memory gives, and the same ones.
    assert len(streamed.loss_curve_) == N_EPOCHS * N_BLOCKS
    assert streamed.loss_curve_ == in_memory.loss_curve_
    assert streamed.loss_curve_[-1] < streamed.loss_curve_[0]
    for layer, expected in zip(
        streamed.estimator_.layers_, in_memory.layers_, strict=True
    ):
        for name, weights in expected.items():
            np.testing.assert_array_equal(layer[name], weights)
    # The same model; dask predicts block by block, and the NumPy engine's
    # products (BLAS) may round a row by the rows beside it: a tolerance.
    np.testing.assert_allclose(
        streamed.predict(X_dask).compute(), in_memory.predict(X), rtol=1e-12
    )


def test_incremental_shuffles_the_blocks_as_dask_ml_orders_them(client, flat_windows):
    """With shuffle_blocks, the blocks reach partial_fit in dask-ml's order."""
    X, y = flat_windows
    blocks = np.array_split(np.arange(len(X)), N_BLOCKS)
    chunks = tuple(len(block) for block in blocks)
    X_dask = da.from_array(X, chunks=(chunks, X.shape[1]))
    y_dask = da.from_array(y, chunks=(chunks,))
    streamed = dask_ml_wrappers.Incremental(
        _model(), shuffle_blocks=True, random_state=0
    ).fit(X_dask, y_dask)

    order = list(range(N_BLOCKS))
    np.random.RandomState(0).shuffle(order)
    assert order != sorted(order)
    in_memory = _model()
    for index in order:
        in_memory.partial_fit(X[blocks[index]], y[blocks[index]])
    assert streamed.loss_curve_ == in_memory.loss_curve_
