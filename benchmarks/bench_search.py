"""Wall time of a GridSearchCV over LSTM pipelines: sequential, loky, Dask.

Times one search of 8 candidates (window x hidden size x learning rate) over
a ``SequenceWindower -> LSTMRegressor`` pipeline with ``TimeSeriesSplit``,
run with ``n_jobs=1`` (each fit on every core, the default, and on one
thread), with ``n_jobs=2`` on joblib's loky backend (with the default
threads, which joblib's workers cap at their share of the cores, and with
``n_threads=2`` forced, which oversubscribes), and on a local Dask cluster
(2 single-threaded worker processes) through joblib's ``dask`` backend. It
prints the speed-ups against both sequential runs and how far each run's
scores are from the first (the model does not depend on the number of
threads, so all should be 0). It never asserts a time.

Run: ``python benchmarks/bench_search.py [--quick] [--out PATH]``.
"""

import argparse
import functools
import os
import platform
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, ParameterGrid, TimeSeriesSplit
from sklearn.pipeline import Pipeline

import sklstm
from sklstm import LSTMRegressor, SequenceWindower


def make_series(n_rows, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n_rows + 1, dtype=float)
    signal = np.sin(t / 9) + 0.5 * np.sin(t / 31) + 0.05 * rng.standard_normal(t.size)
    X = np.column_stack([signal, np.cos(t / 24)])
    return X[:-1], signal[1:]


def make_search(n_jobs, epochs, n_threads=None):
    pipeline = Pipeline(
        [
            ("win", SequenceWindower(window=12)),
            (
                "lstm",
                LSTMRegressor(max_iter=epochs, random_state=0, n_threads=n_threads),
            ),
        ]
    )
    grid = {
        "win__window": [12, 24],
        "lstm__hidden_layer_sizes": [(16,), (32,)],
        "lstm__learning_rate_init": [0.001, 0.01],
    }
    return GridSearchCV(pipeline, grid, cv=TimeSeriesSplit(n_splits=3), n_jobs=n_jobs)


def best_parallel_time(X, y, epochs, refit_time, n_workers=2):
    """The least wall time ``n_workers`` single-threaded workers could take
    on the search: each fit and score of the one-core search is timed here
    on its own, in the order GridSearchCV hands them out (candidates outer,
    folds inner), and goes to the worker free first; the refit
    (``refit_time``, measured by the search) then runs alone in the parent.
    Dispatch costs nothing here, so a real run can only be slower. Returns
    ``(seconds, speed-up over the same tasks run one after the other,
    longest task, shortest task)``."""
    search = make_search(1, epochs, n_threads=1)
    splits = list(search.cv.split(X, y))
    tasks = []
    for params in ParameterGrid(search.param_grid):
        for train, test in splits:
            model = clone(search.estimator).set_params(**params)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X[train], y[train]).score(X[test], y[test])
            tasks.append(time.perf_counter() - start)
    free_at = [0.0] * n_workers
    for seconds in tasks:
        worker = free_at.index(min(free_at))
        free_at[worker] += seconds
    best = max(free_at) + refit_time
    return best, (sum(tasks) + refit_time) / best, max(tasks), min(tasks)


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller search")
    parser.add_argument("--out", type=Path, default=None, help="write the table here")
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="searches per row, their median reported (the first call: one)",
    )
    args = parser.parse_args(argv)
    n_rows, epochs = (600, 3) if args.quick else (3000, 10)
    X, y = make_series(n_rows)

    def run(n_jobs, backend=None, n_threads=None, repeats=args.repeats):
        """Median wall time of ``repeats`` searches, and the last search."""
        seconds = []
        for _ in range(repeats):
            search = make_search(n_jobs, epochs, n_threads)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                with joblib.parallel_backend(backend or "loky"):
                    elapsed, search = timed(functools.partial(search.fit, X, y))
            seconds.append(elapsed)
        return float(np.median(seconds)), search

    rows = []
    sequential_time, sequential = run(1)
    rows.append(("n_jobs=1 (each fit on every core)", sequential_time, sequential))
    one_core_time, one_core = run(1, n_threads=1)
    rows.append(("n_jobs=1, n_threads=1 (one core)", one_core_time, one_core))
    # joblib keeps its loky workers between calls: the first call pays for
    # starting them and importing sklstm there, later calls do not.
    rows.append(("n_jobs=2, loky, first call", *run(2, "loky", repeats=1)))
    rows.append(("n_jobs=2, loky, workers warm", *run(2, "loky")))
    rows.append(
        (
            "n_jobs=2, loky, warm, n_threads=2 (oversubscribed)",
            *run(2, "loky", n_threads=2),
        )
    )
    try:
        import distributed
    except ImportError:
        distributed = None
    if distributed is not None:
        with (
            distributed.LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            distributed.Client(cluster),
        ):
            run(-1, "dask", repeats=1)  # warm-up: workers import sklstm once
            rows.append(("Dask LocalCluster, 2 workers, warm", *run(-1, "dask")))

    reference = sequential.cv_results_["mean_test_score"]
    header = [
        f"# GridSearchCV speed-up ({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores; Python {platform.python_version()}, "
        f"scikit-learn {sklearn.__version__}, joblib {joblib.__version__}, "
        f"sklstm {sklstm.__version__}.",
        f"Search: 8 candidates x 3 TimeSeriesSplit folds = 24 fits of "
        f"{epochs} epochs on {n_rows} rows (`python benchmarks/bench_search.py"
        f"{' --quick' if args.quick else ''}`); wall time: the median of "
        f"{args.repeats} searches (the first call: one).",
        "",
        "| run | wall time (s) | speed-up vs n_jobs=1 | speed-up vs n_jobs=1 on "
        "one core | max abs score diff |",
        "|---|---:|---:|---:|---|",
    ]
    lines = [
        f"| {name} | {seconds:.1f} | {sequential_time / seconds:.2f}x | "
        f"{one_core_time / seconds:.2f}x | "
        f"{np.abs(search.cv_results_['mean_test_score'] - reference).max():.1e} |"
        for name, seconds, search in rows
    ]
    best, bound, longest, shortest = best_parallel_time(
        X, y, epochs, one_core.refit_time_
    )
    lines += [
        "",
        f"What two workers could do at best: {best:.1f} s, {bound:.2f}x the "
        "same fits one after the other. The 24 fits and scores, timed one by "
        f"one on one core ({shortest:.2f} to {longest:.2f} s each: the folds "
        "train on 1, 2 and 3 parts of the series), handed in GridSearchCV's "
        "order to the worker free first, then the refit on all rows "
        f"({one_core.refit_time_:.2f} s), which runs alone; nothing for "
        "dispatch. The loky rows' gap to this bound is joblib's dispatch and "
        "the workers' own costs.",
    ]
    table = "\n".join(header + lines) + "\n"
    print(table)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table)


if __name__ == "__main__":
    main()
