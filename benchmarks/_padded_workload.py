"""The padded workload of ``bench_lstm.py``: sequences of different lengths.

``n_full`` sequences of ``steps`` steps against as many real steps in
NaN-padded sequences whose lengths are uniform in ``[steps / 2, steps]``
(about 4/3 as many sequences), trained by ``LSTMRegressor`` (a warm-started
fit of ``EPOCHS`` epochs, its time divided by them: the checks of a fit,
which read the padding, are shared by its epochs) on each host engine
(``SKLSTM_ENGINE``), on each thread count. The figure that matters is the
epoch time per real step, padded over full-length: a padded batch runs as
one batch (the masked recurrence of ``sklstm/_lstm/_masking.py``), so it
should cost about what a full one does per real step.
"""

import os
import time
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklstm import LSTMRegressor
from sklstm._lstm._engines import compiled_engine_available

ENGINE_ENV = "SKLSTM_ENGINE"
EPOCHS = 2


@dataclass(frozen=True)
class PaddedWorkload:
    """Full-length and padded data of the same number of real steps."""

    n_full: int = 1024
    steps: int = 200
    n_features: int = 4
    hidden: int = 32
    batch_size: int = 128


def padded_data(workload, seed=0):
    """``(X_full, y_full, X_padded, y_padded, real_steps)``, float32."""
    rng = np.random.default_rng(seed)
    w = workload
    total = w.n_full * w.steps
    lengths = []
    while sum(lengths) < total:
        lengths.append(int(rng.integers(w.steps // 2, w.steps + 1)))
    lengths = np.array(lengths)
    X_full = rng.standard_normal((w.n_full, w.steps, w.n_features), np.float32)
    X_padded = rng.standard_normal((len(lengths), w.steps, w.n_features), np.float32)
    X_padded[np.arange(w.steps) >= lengths[:, None]] = np.nan
    y_full = X_full[:, -1, 0] + 0.5 * X_full[:, -2, 1]
    ends = lengths - 1
    rows = np.arange(len(lengths))
    y_padded = X_padded[rows, ends, 0] + 0.5 * X_padded[rows, ends - 1, 1]
    return X_full, y_full, X_padded, y_padded, int(lengths.sum())


def _model(workload, threads):
    return LSTMRegressor(
        hidden_layer_sizes=workload.hidden,
        batch_size=workload.batch_size,
        learning_rate="constant",
        max_iter=EPOCHS,
        warm_start=True,
        dtype="float32",
        n_threads=threads,
        random_state=0,
        tol=0,
    )


def _epoch_times(workload, datasets, threads, repeats):
    """Best epoch time of each ``(X, y)`` of ``datasets``, their fits taking
    turns, so that a busy spell of a shared machine hits both alike."""
    models = [_model(workload, threads) for _ in datasets]
    times = [[] for _ in datasets]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for model, (X, y) in zip(models, datasets, strict=True):
            model.fit(X, y)  # warm-up: validation, buffers, threads
        for _ in range(repeats):
            for model, (X, y), spent in zip(models, datasets, times, strict=True):
                start = time.perf_counter()
                model.fit(X, y)
                spent.append((time.perf_counter() - start) / EPOCHS)
    return [min(spent) for spent in times]


def host_engines():
    """The host engines this install has, as ``SKLSTM_ENGINE`` names."""
    return ["compiled", "numpy"] if compiled_engine_available() else ["numpy"]


def run_padded(thread_counts, repeats, progress, workload=None):
    """Rows ``(engine, threads, full s, padded s, full real steps, padded
    real steps)``, best epoch times."""
    workload = workload or PaddedWorkload()
    X_full, y_full, X_padded, y_padded, padded_steps = padded_data(workload)
    full_steps = X_full.shape[0] * X_full.shape[1]
    rows = []
    previous = os.environ.get(ENGINE_ENV)
    try:
        for engine in host_engines():
            os.environ[ENGINE_ENV] = engine
            for threads in thread_counts:
                full, padded = _epoch_times(
                    workload, [(X_full, y_full), (X_padded, y_padded)], threads, repeats
                )
                rows.append((engine, threads, full, padded, full_steps, padded_steps))
                progress(
                    f"padded workload, {engine} engine, {threads} thread(s): "
                    f"full {full:.2f} s, padded {padded:.2f} s"
                )
    finally:
        if previous is None:
            os.environ.pop(ENGINE_ENV, None)
        else:
            os.environ[ENGINE_ENV] = previous
    return rows


def padded_report(rows, repeats, workload=None):
    """The Markdown section of the padded workload."""
    w = workload or PaddedWorkload()
    lines = [
        "## Padded sequences against full-length ones",
        "",
        "| engine | threads | full s | padded s | full us/real step "
        "| padded us/real step | padded / full per real step |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for engine, threads, full, padded, full_steps, padded_steps in rows:
        per_full = 1e6 * full / full_steps
        per_padded = 1e6 * padded / padded_steps
        lines.append(
            f"| {engine} | {threads} | {full:.2f} | {padded:.2f} | {per_full:.2f} "
            f"| {per_padded:.2f} | {per_padded / per_full:.2f} |"
        )
    lines += [
        "",
        f"One epoch of `LSTMRegressor` (float32, {w.hidden} units, "
        f"{w.n_features} features, batch {w.batch_size}): {w.n_full:,} "
        f"sequences of {w.steps} steps against NaN-padded sequences of "
        f"lengths uniform in [{w.steps // 2}, {w.steps}] with as many real "
        f"steps in all. Epoch time: a warm-started fit of {EPOCHS} epochs "
        f"over {EPOCHS}, best of {repeats} fits after a warm-up fit, the "
        "full-length and padded fits taking turns.",
    ]
    return lines
