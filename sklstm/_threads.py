"""How many BLAS threads a fit or predict may use.

A search with ``n_jobs=k`` runs ``k`` fits at once; if each fit's BLAS also
starts a thread per core, the machine is oversubscribed and the search gets
slower. joblib's process workers (loky) already cap BLAS threads at
``cores // n_jobs`` through environment variables. Worker *threads* (joblib's
threading backend, Dask's threaded workers) share one BLAS, which nothing
caps, so a fit in a thread other than the main one uses one BLAS thread.
"""

import contextlib
import threading

from threadpoolctl import threadpool_limits


def resolve_n_threads(n_threads):
    """The BLAS thread limit to apply: an int, or None for no limit.

    Parameters
    ----------
    n_threads : int or None
        The estimator's parameter; None means 1 in a thread other than the
        main one, no limit in the main thread.

    Returns
    -------
    limit : int or None
    """
    if n_threads is not None:
        return n_threads
    if threading.current_thread() is not threading.main_thread():
        return 1
    return None


def blas_threads(n_threads):
    """Context manager limiting BLAS threads as :func:`resolve_n_threads` says."""
    limit = resolve_n_threads(n_threads)
    if limit is None:
        return contextlib.nullcontext()
    return threadpool_limits(limits=limit, user_api="blas")
