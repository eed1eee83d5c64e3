"""How many threads a fit or predict may use, and of which pool.

One pool at a time. The compiled engine parallelises with OpenMP: each
thread runs the recurrence of its own rows of the batch and calls BLAS on
them, so BLAS is held to one thread meanwhile (two pools spinning on the
same cores slow each other down by an order of magnitude). The NumPy engine
has no threads of its own; there BLAS gets ``n_threads`` (None: 1), since
the small per-step products of an LSTM rarely gain from BLAS threads.

The default OpenMP thread count follows scikit-learn's rule: the cores this
process may use (``joblib.cpu_count``, which honours CPU affinity and
cgroup quotas), capped by ``omp_get_max_threads()``, which honours
``OMP_NUM_THREADS``. joblib sets that variable in its worker processes to
their share of the cores, so ``GridSearchCV(n_jobs=k)`` does not
oversubscribe. A fit or predict called from any thread but the main one
(joblib's threading backend, Dask's threaded workers, a server's request
threads) defaults to one thread: others are likely running beside it, and
OpenMP threads that wait for busy cores slow a fit down by an order of
magnitude (measured: 13x, ``benchmarks/bench_search.py``).
"""

import functools
import threading

import joblib
from threadpoolctl import ThreadpoolController


@functools.cache
def _controller():
    # Finding the loaded BLAS libraries scans the process's memory map (about
    # 5 ms); do it once per process instead of on every fit and predict. The
    # BLAS that NumPy uses is loaded before sklstm is imported.
    return ThreadpoolController()


def blas_threads(n_threads):
    """Context manager limiting BLAS to ``n_threads`` threads (None: 1).

    Parameters
    ----------
    n_threads : int or None
        Number of BLAS threads.

    Returns
    -------
    context : context manager
        Restores the previous limits on exit.
    """
    return _controller().limit(limits=n_threads or 1, user_api="blas")


def openmp_threads(n_threads=None):
    """Number of OpenMP threads of the compiled engine.

    Parameters
    ----------
    n_threads : int or None
        The estimator's ``n_threads``; None picks the default described in
        this module's docstring.

    Returns
    -------
    n_threads : int
    """
    if n_threads is not None:
        return int(n_threads)
    if threading.current_thread() is not threading.main_thread():
        return 1
    from ._fast_lstm import openmp_max_threads

    return max(1, min(openmp_max_threads(), _usable_cores()))


@functools.cache
def _usable_cores():
    # joblib reads the affinity mask and the cgroup quota (about 0.1 ms, a
    # fifth of a one-row predict): once per process.
    return joblib.cpu_count()
