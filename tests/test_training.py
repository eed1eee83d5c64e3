"""The epoch loop, ``_lstm._training.train``: it returns all that a run
gives, the state to carry on included, and leaves the state it started from
as it was (but for the random stream it draws from)."""

import copy

import numpy as np
import pytest

from sklstm import LSTMRegressor
from sklstm._lstm._backend import resolve_backend
from sklstm._lstm._engines import make_engine
from sklstm._lstm._network import NetworkShape, init_parameters
from sklstm._lstm._training import train, upload
from sklstm._lstm._training_state import (
    OptimizerState,
    Progress,
    TrainingConfig,
    TrainingState,
)

from ._helpers import sequences


def _run(start, solver, max_iter=3, *, one_pass=False, flat=None):
    """Train a small network from ``start`` (and ``flat``, default: new
    weights); return the outcome."""
    X, y = sequences(48)
    estimator = LSTMRegressor(
        hidden_layer_sizes=(4,),
        max_iter=max_iter,
        solver=solver,
        learning_rate="cosine",
        batch_size=16,
        dtype="float64",
    )
    config = TrainingConfig.from_estimator(
        estimator, loss="squared_error", quantile=None, one_pass=one_pass
    )
    backend = resolve_backend("numpy")
    shape = NetworkShape(X.shape[2], (4,), 1, 0)
    if flat is None:
        flat = init_parameters(shape, np.random.RandomState(0), np.dtype("float64"))
    data = upload(backend, X, y[:, None], np.ones(len(y)), config.dtype)
    return train(config, data, None, flat, shape, make_engine(backend), start)


def _fresh_start(seed=0):
    return TrainingState(Progress.start(False), np.random.RandomState(seed))


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_train_returns_the_state_to_carry_on_and_leaves_its_start(solver):
    first = _run(_fresh_start(), solver)
    assert first.state.progress.n_iter == 3
    assert len(first.state.progress.loss_curve) == 3
    assert first.state.progress.t == 3 * 48
    assert first.state.schedule.epochs == 3
    assert first.state.optimizer.optimizer is not None
    # Continue from the returned state, as partial_fit does.
    start = TrainingState(
        first.state.progress,
        copy.deepcopy(first.state.random_state),
        first.state.optimizer,
        first.state.schedule,
    )
    kept = copy.deepcopy(start)
    second = _run(start, solver)
    assert start.progress == kept.progress
    assert start.schedule == kept.schedule
    for name in type(kept.optimizer.optimizer).state_arrays:
        np.testing.assert_array_equal(
            getattr(start.optimizer.optimizer, name),
            getattr(kept.optimizer.optimizer, name),
        )
    assert (
        vars(start.optimizer.optimizer).keys() == vars(kept.optimizer.optimizer).keys()
    )
    assert second.state.progress.n_iter == 6
    assert second.state.schedule.epochs == 6
    assert second.state.progress.loss_curve[:3] == first.state.progress.loss_curve
    # The run drew from the given stream, and hands the same one on.
    assert second.state.random_state is start.random_state


def test_train_draws_the_shuffles_from_the_given_stream():
    stream = np.random.RandomState(7)
    before = stream.get_state(legacy=False)["state"]["key"].copy()
    _run(TrainingState(Progress.start(False), stream), "adam", max_iter=1)
    after = stream.get_state(legacy=False)["state"]["key"]
    assert not np.array_equal(before, after)


def test_a_run_continued_from_its_state_matches_one_run():
    """Two one-pass runs (``partial_fit``), the second from the first's
    weights and returned state, give the weights of one run of two epochs
    (the same operations, so to rounding of the NumPy engine's BLAS at
    most): the returned state is all that the loop carries across epochs."""
    whole = _run(_fresh_start(), "adam", max_iter=2)
    first = _run(_fresh_start(), "adam", max_iter=2, one_pass=True)
    second = _run(first.state, "adam", max_iter=2, one_pass=True, flat=first.flat)
    np.testing.assert_allclose(second.flat, whole.flat, rtol=1e-12, atol=1e-14)
    progress, expected = second.state.progress, whole.state.progress
    np.testing.assert_allclose(progress.loss_curve, expected.loss_curve, rtol=1e-12)
    assert (progress.n_iter, progress.t) == (expected.n_iter, expected.t)
    assert second.state.schedule == whole.state.schedule
    assert isinstance(second.state.optimizer, OptimizerState)
    assert second.state.optimizer.optimizer.t == whole.state.optimizer.optimizer.t
