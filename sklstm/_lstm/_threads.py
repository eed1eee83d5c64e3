"""How many threads a fit or predict may use, and of which pool.

One pool at a time. The compiled engine parallelises with OpenMP: each
thread runs the recurrence of its own rows of the batch and calls BLAS on
them, so BLAS is held to one thread meanwhile (two pools spinning on the
same cores slow each other down by an order of magnitude). The NumPy engine
has no threads of its own; there BLAS gets ``n_threads`` (None: 1), since
the small per-step products of an LSTM rarely gain from BLAS threads.

The BLAS limit is process-wide, and fits and predicts may run at once in
several Python threads: :func:`blas_threads` counts them, holds BLAS at the
smallest limit any of them asked for, and puts back the limits it found
when the last one leaves, whatever the order they leave in.

The default OpenMP thread count counts the CPUs this process may run on
(``joblib.cpu_count``, which honours CPU affinity and cgroup quotas: logical
CPUs, so hyper-threads count; scikit-learn's ``_openmp_effective_n_threads``
counts the same way), capped by ``omp_get_max_threads()``, which honours
``OMP_NUM_THREADS``. joblib sets that variable in its worker processes to
their share of the cores, so ``GridSearchCV(n_jobs=k)`` does not
oversubscribe. A fit or predict called from any thread but the main one
(joblib's threading backend, Dask's threaded workers, a server's request
threads) defaults to one thread: others are likely running beside it, and
OpenMP threads that wait for busy cores slow a fit down by an order of
magnitude (measured: 13x, ``benchmarks/bench_search.py``).

Two more rules keep a process alive. In a child started by ``fork`` after
the parent ran OpenMP threads, GNU OpenMP's thread pool is gone but still
believed to exist (its next parallel region waits forever), so there the
engine runs on one thread. And before the engine first asks OpenMP for
more threads than it has used so far, :func:`check_threads_can_start`
starts as many Python threads: where the system cannot give them, that is a
Python exception, where OpenMP would end the process.
"""

import functools
import os
import threading

import joblib
from threadpoolctl import ThreadpoolController

from .._threadpoolctl_compat import take_blas_control

#: The most threads ``n_threads`` may ask for. The largest machines that run
#: one Linux image have a few thousand logical CPUs (8-socket servers about
#: a thousand), and threads beyond the cores only wait for them (the engine's
#: threads never block, so each extra one slows the others down). A larger
#: count is a typo or a unit mix-up: refused at once, where starting it would
#: take the system to its thread limit first (minutes, then an error).
MAX_THREADS = 4096


def check_thread_count(n_threads):
    """Raise a ValueError if ``n_threads`` is above :data:`MAX_THREADS`.

    ``fit`` refuses it through ``_parameter_constraints``; this holds the
    paths that validate no parameter (``predict`` after ``set_params``).

    Parameters
    ----------
    n_threads : int or None
        The estimator's ``n_threads``.
    """
    if n_threads is not None and n_threads > MAX_THREADS:
        raise ValueError(
            f"n_threads={n_threads} is more than the {MAX_THREADS} threads sklstm "
            "runs at most: no machine has that many cores, and threads beyond "
            "the cores only wait for them. Set n_threads=None (the cores this "
            f"process may use) or a count from 1 to {MAX_THREADS}."
        )


@functools.cache
def _controller():
    # Finding the loaded BLAS libraries scans the process's memory map (about
    # 5 ms); do it once per process instead of on every fit and predict. It
    # sees only the libraries loaded by then: NumPy's BLAS is loaded before
    # sklstm is imported, and SciPy's (which scikit-learn and the compiled
    # engine call) is loaded here first.
    import scipy.linalg  # noqa: F401

    return ThreadpoolController()


class _SharedBlasLimit:
    """The process-wide BLAS limit, shared by the fits and predicts running.

    The first to enter records the limits it finds; each entrant's limit
    joins the active ones and BLAS gets their minimum; the last to leave
    restores what the first one found.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._active = []
        self._original = None
        self._applied = None

    def _set(self, limit):
        take_blas_control()
        limiter = _controller().limit(limits=limit, user_api="blas")
        self._applied = limit
        return limiter

    def enter(self, limit):
        with self._lock:
            if not self._active:
                self._original = self._set(limit)
            elif limit < self._applied:
                self._set(limit)
            self._active.append(limit)

    def leave(self, limit):
        with self._lock:
            self._active.remove(limit)
            if not self._active:
                take_blas_control()
                self._original.restore_original_limits()
                take_blas_control()
                self._original = self._applied = None
            elif min(self._active) != self._applied:
                self._set(min(self._active))


_BLAS_LIMIT = _SharedBlasLimit()


class blas_threads:
    """Context manager limiting BLAS to ``n_threads`` threads (None: 1).

    Safe to nest and to use from several Python threads at once (see the
    module's docstring): on leaving the last one, BLAS has the limits it had
    before the first.

    Parameters
    ----------
    n_threads : int or None
        Number of BLAS threads.
    """

    def __init__(self, n_threads):
        self.limit = n_threads or 1

    def __enter__(self):
        _BLAS_LIMIT.enter(self.limit)
        return self

    def __exit__(self, *exc_info):
        _BLAS_LIMIT.leave(self.limit)


_forked_child = False


def _after_fork_in_child():
    global _forked_child, _started_threads
    _forked_child = True
    _started_threads = 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


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
        1 in a child process started by ``fork``.
    """
    if _forked_child:
        return 1
    if n_threads is not None:
        return int(n_threads)
    if threading.current_thread() is not threading.main_thread():
        return 1
    from ._fast_lstm import openmp_max_threads

    return max(1, min(openmp_max_threads(), _usable_cores()))


# The most threads the engine has run at once in this process.
_started_threads = 1
_started_lock = threading.Lock()


def check_threads_can_start(n_threads):
    """Raise a RuntimeError if ``n_threads`` threads cannot run at once.

    OpenMP ends the whole process when it cannot create a thread (GNU
    OpenMP: "Thread creation failed"). So before its first region of
    ``n_threads`` threads, start ``n_threads - 1`` Python threads beside
    this one (Python raises where the system refuses one), and let them
    end. Once a count has started, OpenMP keeps those threads, and smaller
    counts need no check.

    Parameters
    ----------
    n_threads : int
        The threads the next parallel region will run.
    """
    global _started_threads
    if n_threads <= _started_threads:
        return
    with _started_lock:
        if n_threads <= _started_threads:
            return
        release = threading.Event()
        started = []
        try:
            for _ in range(n_threads - 1):
                thread = threading.Thread(target=release.wait, daemon=True)
                thread.start()
                started.append(thread)
        except RuntimeError as error:
            raise RuntimeError(
                f"n_threads={n_threads}: the system would not start "
                f"{n_threads} threads at once ({error}; {len(started) + 1} "
                "started). Use fewer threads (n_threads, or OMP_NUM_THREADS), "
                "or raise the process's thread or memory limits."
            ) from error
        finally:
            release.set()
            for thread in started:
                thread.join()
        _started_threads = n_threads


@functools.cache
def _usable_cores():
    # joblib reads the affinity mask and the cgroup quota (about 0.1 ms, a
    # fifth of a one-row predict): once per process.
    return joblib.cpu_count()
