"""Do OpenBLAS's threads, spinning after a BLAS call, slow the compiled engine?

After a call that used them, OpenBLAS's threads keep spinning for a while
(``OPENBLAS_THREAD_TIMEOUT``, a power of two of CPU cycles) before they
sleep. A fit that starts meanwhile shares the cores with them, although it
holds BLAS to one thread. This script times one-epoch warm-started fits of
the full-length data of ``bench_lstm.py``'s padded workload on two threads,
each fit preceded by nothing or by a 1500 x 1500 matrix product, and prints
the epoch times (run it again with ``OPENBLAS_THREAD_TIMEOUT=4`` in the
environment to compare).

Run from the repository root (about 10 seconds)::

    python benchmarks/blas_spin.py
"""

import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, str(Path(__file__).parent))
from _padded_workload import PaddedWorkload, padded_data

from sklstm import LSTMRegressor

FITS = 6


def epoch_times(X, y, product_before):
    """Seconds of each of ``FITS`` one-epoch fits on two threads."""
    model = LSTMRegressor(
        hidden_layer_sizes=32,
        batch_size=128,
        learning_rate="constant",
        max_iter=1,
        warm_start=True,
        dtype="float32",
        n_threads=2,
        random_state=0,
        tol=0,
    )
    A = np.random.default_rng(0).standard_normal((1500, 1500))
    model.fit(X, y)  # warm-up
    times = []
    for _ in range(FITS):
        if product_before:
            A @ A
        start = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - start)
    return times


def main():
    X, y, *_ = padded_data(PaddedWorkload())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for label, product_before in (
            ("no BLAS call before", False),
            ("a 1500 x 1500 matrix product before", True),
        ):
            times = epoch_times(X, y, product_before)
            print(
                f"{label}: epoch {np.median(times):.3f} s (median of {FITS}; "
                f"{', '.join(f'{t:.3f}' for t in times)})"
            )


if __name__ == "__main__":
    main()
