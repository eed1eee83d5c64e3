"""Parallel searches: thread control, joblib backends, a Dask cluster."""

import threading

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_info

from sklstm import LSTMRegressor, SequenceWindower
from sklstm._lstm._threads import blas_threads

from .conftest import use_host_engine

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _blas_threads_now():
    return [
        info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"
    ]


def _in_a_thread(function):
    result = {}
    worker = threading.Thread(target=lambda: result.update(value=function()))
    worker.start()
    worker.join()
    return result["value"]


def test_one_blas_thread_by_default_in_any_thread():
    def inside():
        with blas_threads(None):
            return _blas_threads_now()

    assert set(inside()) == {1}
    assert set(_in_a_thread(inside)) == {1}
    with blas_threads(2):
        assert set(_blas_threads_now()) == {2}


@pytest.mark.parametrize(
    "engine, blas, openmp", [("numpy", 2, None), ("compiled", 1, 2)]
)
def test_explicit_limit_is_applied_during_fit(monkeypatch, engine, blas, openmp):
    """n_threads goes to BLAS in the NumPy engine and to OpenMP in the compiled
    one, which then holds BLAS to one thread: one pool at a time."""
    use_host_engine(monkeypatch, engine)
    seen, engines = [], []
    import sklstm._base as base_module

    original = base_module.train

    def spy(config, data, validation, flat, shape, engine, *args, **kwargs):
        seen.extend(_blas_threads_now())
        engines.append(engine)
        return original(config, data, validation, flat, shape, engine, *args, **kwargs)

    monkeypatch.setattr(base_module, "train", spy)
    LSTMRegressor(hidden_layer_sizes=2, max_iter=1, n_threads=2).fit(
        np.ones((6, 2, 1)), np.arange(6.0)
    )
    assert seen and set(seen) == {blas}
    assert engines[0].name == engine
    if openmp is not None:
        assert engines[0].n_threads == openmp


def _search(n_jobs):
    rng = np.random.default_rng(0)
    t = np.arange(300.0)
    X = np.column_stack([np.sin(t / 7), rng.standard_normal(t.size) * 0.1])
    y = np.roll(X[:, 0], -1)
    pipeline = Pipeline(
        [
            ("win", SequenceWindower(window=6)),
            ("lstm", LSTMRegressor(hidden_layer_sizes=4, max_iter=3, random_state=0)),
        ]
    )
    search = GridSearchCV(
        pipeline,
        {"win__window": [4, 8], "lstm__learning_rate_init": [0.001, 0.01]},
        cv=TimeSeriesSplit(n_splits=2),
        n_jobs=n_jobs,
    )
    return search.fit(X[:-1], y[:-1])


@pytest.fixture(scope="module")
def sequential_search():
    return _search(n_jobs=1)


def _assert_same_results(search, reference):
    # A failed fit scores NaN, and NaN equals NaN below: every fit must have
    # scored, and the candidates differ, for the equality to mean something.
    scores = reference.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and len(np.unique(scores)) == len(scores)
    # Each fit is seeded and deterministic, so where it runs does not matter.
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"],
        reference.cv_results_["mean_test_score"],
    )
    assert search.best_params_ == reference.best_params_


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_search_in_parallel_matches_sequential(backend, sequential_search):
    with joblib.parallel_backend(backend):
        search = _search(n_jobs=2)
    _assert_same_results(search, sequential_search)


def test_search_on_a_dask_cluster_matches_sequential(sequential_search):
    distributed = pytest.importorskip("distributed")
    # Worker processes, as on a real cluster: joblib scatters the data, and
    # a scatter to an in-process worker can race its state machine (seen in
    # the study's Dask test; dask/distributed#6604).
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_backend("dask"),
    ):
        search = _search(n_jobs=-1)
    _assert_same_results(search, sequential_search)
