"""Out-of-core training: dask-ml's Incremental over a Dask array that spills.

Builds a Dask array of flattened windows (``--windows`` windows of 24 steps x
8 features, float32) on a local Dask cluster of one single-threaded worker
process whose memory limit (``--memory-limit``) is smaller than the array,
persists it there, so the worker spills most of its blocks to disk, and
trains ``dask_ml.wrappers.Incremental(LSTMRegressor(n_timesteps=24))`` on it
for ``--epochs`` passes, block by block. The peer is the same model fitted in
memory on the same windows (``fit`` with ``max_iter=epochs``, one thread).
It prints, per epoch, the training loss of each (for the out-of-core run,
the mean of its per-block losses, weighted by block size) and the time, then
the R² of both on held-out windows and what the worker spilled. It never
asserts a time.

The worker's memory limit governs the data it holds: past ``target`` (0.6)
of the limit, blocks go to disk; the process-memory thresholds (spill,
pause, terminate) are switched off so that the interpreter's own footprint,
which a limit this small would exceed, neither stalls nor kills the worker.

Run: ``python benchmarks/bench_out_of_core.py [--quick] [--out PATH]``.
"""

import argparse
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

import dask
import dask.array as da
import dask_ml
import distributed
import numpy as np
import sklearn
from dask_ml.wrappers import Incremental
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score

import sklstm
from sklstm import LSTMRegressor, SequenceWindower

WINDOW, N_FEATURES = 24, 8


def make_block(seed, n_windows):
    """``n_windows`` flattened windows of a seeded 8-feature series and the
    next value of its first feature: ``(X, y)``, float32."""
    rng = np.random.default_rng(seed)
    n_rows = n_windows + WINDOW
    t = np.arange(n_rows) + rng.integers(0, 24)
    noise = np.zeros(n_rows)
    shocks = 0.3 * rng.standard_normal(n_rows)
    for row in range(1, n_rows):  # AR(1) noise: the past helps
        noise[row] = 0.8 * noise[row - 1] + shocks[row]
    level = np.sin(2 * np.pi * t / 24) + noise
    others = [np.roll(level, lag) + 0.1 * rng.standard_normal(n_rows) for lag in (1, 2)]
    drivers = rng.standard_normal((n_rows, N_FEATURES - 3))
    table = np.column_stack([level, *others, drivers]).astype(np.float32)
    rows = SequenceWindower(window=WINDOW, flatten=True).fit_transform(table)
    return rows[WINDOW - 1 : -1], level[WINDOW:].astype(np.float32)


def dask_windows(n_blocks, block_windows):
    """The windows as lazy Dask arrays, one block per seed."""
    width = WINDOW * N_FEATURES
    X_blocks, y_blocks = [], []
    for seed in range(n_blocks):
        X_part, y_part = dask.delayed(make_block, nout=2)(seed, block_windows)
        X_blocks.append(
            da.from_delayed(X_part, (block_windows, width), dtype=np.float32)
        )
        y_blocks.append(da.from_delayed(y_part, (block_windows,), dtype=np.float32))
    return da.concatenate(X_blocks), da.concatenate(y_blocks)


def in_memory_windows(n_blocks, block_windows):
    parts = [make_block(seed, block_windows) for seed in range(n_blocks)]
    return np.concatenate([X for X, _ in parts]), np.concatenate([y for _, y in parts])


def make_model(epochs):
    return LSTMRegressor(
        hidden_layer_sizes=(16,),
        n_timesteps=WINDOW,
        max_iter=epochs,
        batch_size=128,
        # partial_fit on a stream: a planned schedule would count each block
        # as an epoch.
        learning_rate="constant",
        learning_rate_init=0.003,
        random_state=0,
        n_threads=1,
    )


def spill_report(dask_worker):
    data = dask_worker.data
    return {
        "in memory (MB)": data.fast.total_weight / 1e6,
        "on disk (blocks)": len(data.slow),
        "blocks": len(data),
        "spilled in total (MB)": data.spilled_total.disk / 1e6,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=1_000_000)
    parser.add_argument("--block-windows", type=int, default=50_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--memory-limit", default="256MB")
    parser.add_argument("--quick", action="store_true", help="100,000 windows")
    parser.add_argument("--out", type=Path, default=None, help="write the table here")
    args = parser.parse_args(argv)
    if args.quick:
        args.windows, args.block_windows, args.memory_limit = 100_000, 10_000, "32MB"
    n_blocks = args.windows // args.block_windows
    epochs = args.epochs

    config = {
        "distributed.worker.memory.target": 0.6,
        "distributed.worker.memory.spill": False,
        "distributed.worker.memory.pause": False,
        "distributed.worker.memory.terminate": False,
    }
    lines = [
        "# Out-of-core training through dask-ml's Incremental",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}; "
        f"sklstm {sklstm.__version__}, scikit-learn {sklearn.__version__}, "
        f"NumPy {np.__version__}, Dask {dask.__version__}, distributed "
        f"{distributed.__version__}, dask-ml {dask_ml.__version__}.",
        "",
    ]
    with (
        tempfile.TemporaryDirectory() as spill_directory,
        dask.config.set(config),
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            memory_limit=args.memory_limit,
            local_directory=spill_directory,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        X, y = dask_windows(n_blocks, args.block_windows)
        X, y = client.persist([X, y])
        distributed.wait([X, y])
        spilled_before = next(iter(client.run(spill_report).values()))
        lines += [
            f"Data: {X.shape[0]:,} windows of {WINDOW} steps x {N_FEATURES} "
            f"features, flattened to {X.shape[1]} float32 columns: a Dask array "
            f"of {X.nbytes / 1e6:.0f} MB in {n_blocks} blocks, persisted on one "
            f"worker process with memory_limit={args.memory_limit} "
            "(target 0.6): after persisting, "
            f"{spilled_before['in memory (MB)']:.0f} MB in memory, "
            f"{spilled_before['on disk (blocks)']} of its "
            f"{spilled_before['blocks']} blocks (X and y) on disk.",
            "",
            "Model: LSTMRegressor(hidden_layer_sizes=(16,), n_timesteps=24, "
            "batch_size=128, learning_rate_init=0.003), Adam, one thread.",
            "",
        ]
        streamed = Incremental(make_model(epochs), shuffle_blocks=True, random_state=0)
        streamed_losses, streamed_times = [], []
        for _ in range(epochs):
            start = time.perf_counter()
            streamed.partial_fit(X, y)
            streamed_times.append(time.perf_counter() - start)
            # One loss per block; the blocks have the same size.
            streamed_losses.append(float(np.mean(streamed.loss_curve_[-n_blocks:])))
        spilled_after = next(iter(client.run(spill_report).values()))

    X_memory, y_memory = in_memory_windows(n_blocks, args.block_windows)
    in_memory = make_model(epochs)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        in_memory.fit(X_memory, y_memory)
    memory_time = time.perf_counter() - start
    memory_epoch = memory_time / epochs

    X_test, y_test = make_block(10_000, 20_000)
    r2_streamed = r2_score(y_test, streamed.predict(X_test))
    r2_memory = r2_score(y_test, in_memory.predict(X_test))

    lines += [
        "| epoch | out-of-core loss | in-memory loss | out-of-core time (s) "
        "| in-memory time (s) | time ratio |",
        "|---|---|---|---|---|---|",
    ]
    for epoch in range(epochs):
        lines.append(
            f"| {epoch + 1} | {streamed_losses[epoch]:.4f} "
            f"| {in_memory.loss_curve_[epoch]:.4f} | {streamed_times[epoch]:.1f} "
            f"| {memory_epoch:.1f} (mean) "
            f"| {streamed_times[epoch] / memory_epoch:.2f} |"
        )
    lines += [
        "",
        f"Held-out R² (20,000 windows of another seed): out-of-core "
        f"{r2_streamed:.4f}, in memory {r2_memory:.4f}.",
        "",
        f"Worker after training: {spilled_after['in memory (MB)']:.0f} MB in "
        f"memory, {spilled_after['on disk (blocks)']} of "
        f"{spilled_after['blocks']} blocks on disk, "
        f"{spilled_after['spilled in total (MB)']:.0f} MB written to disk in all.",
        "",
        "Losses are on the standardised target; the out-of-core loss of an "
        "epoch is the mean of its per-block passes, the in-memory one that "
        "epoch's `loss_curve_` entry.",
    ]
    table = "\n".join(lines)
    print(table)
    if args.out is not None:
        args.out.write_text(table + "\n")


if __name__ == "__main__":
    main()
