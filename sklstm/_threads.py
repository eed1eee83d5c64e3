"""How many BLAS threads a fit or predict may use.

An LSTM step multiplies small matrices (a batch of hidden states by the
recurrent weights), one step after another. BLAS threads do not pay off on
products that small: their start-up and synchronisation cost more than they
save, and when other work shares the cores (a search with ``n_jobs=k``
running ``k`` fits at once, each with a BLAS thread per core) spinning BLAS
threads slow a fit down by an order of magnitude. So sklstm runs its maths on
one BLAS thread unless told otherwise, and parallelism comes from running
fits side by side (``n_jobs``), which scales.
"""

import functools

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
        The estimator's ``n_threads`` parameter.

    Returns
    -------
    context : context manager
        Restores the previous limits on exit.
    """
    return _controller().limit(limits=n_threads or 1, user_api="blas")
