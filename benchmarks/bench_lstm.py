"""Training and prediction time of sklstm against PyTorch's ``nn.LSTM`` on CPU.

Times, in one run and on one machine:

* one training epoch and one ``predict`` over all windows, of
  ``LSTMRegressor`` (host backend: the compiled engine where it is built, or
  the NumPy engine with ``SKLSTM_ENGINE=numpy``) and of the same network in
  PyTorch (one ``nn.LSTM`` layer and an ``nn.Linear`` head on the last hidden
  state, Adam, MSE, float32, minibatches of 128), on two workloads: W64 and
  W256, 26,280 windows of 24 steps x 8 features with hidden size 64 and 256,
  on 1 and on 2 threads each (``n_threads`` and ``torch.set_num_threads``);
* the rate numpy's matmul reaches on one thread on exactly the matrix
  products the LSTM makes (its "GEMM peak" at those shapes), to say what
  fraction of it (times the threads) the LSTM reaches;
* the peak resident memory of one fit, each in a fresh subprocess;
* how the epoch time scales with the number of steps and the hidden size;
* the padded workload (``_padded_workload.py``): NaN-padded sequences of
  lengths uniform in [T/2, T] against full-length ones of as many real
  steps, epoch time per real step, on both host engines.

It prints a Markdown table of ratios against PyTorch, with the machine,
versions and thread counts in the header, and writes it to
``benchmarks/results/cpu_<date>.md``. It never asserts a time.

Run: ``python benchmarks/bench_lstm.py [--quick] [--out PATH] [--repeats N]
[--predict-repeats N] [--scaling-repeats N] [--threads N [N ...]]
[--no-memory] [--no-scaling] [--no-padded] [--padded-only]``. On a machine
shared with other work, ``--threads 1`` avoids the stalls of thread pools
that wait for busy cores.
"""

import argparse
import contextlib
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import sklearn
from _padded_workload import padded_report, run_padded
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info, threadpool_limits

import sklstm
import sklstm._lstm._backend
from sklstm import LSTMRegressor
from sklstm._lstm import _engines

N_FEATURES = 8
BATCH_SIZE = 128
LEARNING_RATE = 1e-3
# PyTorch's forward pass runs over chunks of this many windows (its best of
# the sizes tried); sklstm's predict chunks internally, by SKLSTM_CHUNK rows.
PREDICT_CHUNK = 4096
SKLSTM_CHUNK = _engines._COMPILED_PREDICT_CHUNK or 1
# Warm-up: one epoch on this many batches before any timed run.
WARMUP_BATCHES = 4
N_GATES = 4
RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Workload:
    """An LSTM problem: data size and network width."""

    name: str
    n_windows: int
    steps: int
    hidden: int
    n_features: int = N_FEATURES
    batch_size: int = BATCH_SIZE
    threads: int | None = None  # None: each library's default


@dataclass(frozen=True)
class Settings:
    """How much to run: windows and repeats."""

    n_windows: int
    scaling_windows: int
    train_repeats: int
    predict_repeats: int
    scaling_repeats: int
    gemm_min_time: float
    memory_workloads: int | None = None  # measure only the first k workloads


FULL = Settings(
    n_windows=26_280,
    scaling_windows=4_096,
    train_repeats=3,
    predict_repeats=5,
    scaling_repeats=1,
    gemm_min_time=0.1,
)
QUICK = Settings(
    n_windows=512,
    scaling_windows=128,
    train_repeats=1,
    predict_repeats=1,
    scaling_repeats=1,
    gemm_min_time=0.01,
    memory_workloads=1,
)
MAIN_HIDDEN = {"W64": 64, "W256": 256}
SCALING_STEPS = (12, 24, 48, 96)
SCALING_HIDDEN = (32, 64, 128, 256, 512)


def main_workloads(settings):
    return [
        Workload(name, settings.n_windows, 24, hidden)
        for name, hidden in MAIN_HIDDEN.items()
    ]


# --- data and FLOPs -----------------------------------------------------------


def make_data(n_windows, steps, n_features=N_FEATURES, seed=0):
    """Standard normal windows and a learnable target, both float32."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_windows, steps, n_features), dtype=np.float32)
    decay = (0.8 ** np.arange(steps)[::-1]).astype(np.float32)
    y = X[:, :, 0] @ decay + np.tanh(X[:, -1, 1])
    y += 0.1 * rng.standard_normal(n_windows, dtype=np.float32)
    return X, y


def forward_flops(workload):
    """FLOPs of the LSTM forward pass: 2·T·N·4H·(F+H) (GEMMs only)."""
    w = workload
    return 2 * w.steps * w.n_windows * N_GATES * w.hidden * (w.n_features + w.hidden)


def epoch_flops(workload):
    """FLOPs of a training epoch: forward plus a backward counted as 2x forward."""
    return 3 * forward_flops(workload)


# --- the two implementations ------------------------------------------------


def _import_torch():
    try:
        import torch
    except ImportError as error:
        raise SystemExit(
            "This benchmark compares against PyTorch, which is not installed. "
            'Install the benchmark extras: pip install -e ".[bench]"'
        ) from error
    return torch


class SklstmRunner:
    """One ``LSTMRegressor``; each ``train_epoch`` is a ``fit`` of one epoch.

    ``warm_start=True`` makes every ``fit`` continue from the previous
    weights, so repeated fits time epochs without re-initialising.
    """

    def __init__(self, workload):
        self.model = LSTMRegressor(
            n_threads=workload.threads,
            hidden_layer_sizes=workload.hidden,
            batch_size=workload.batch_size,
            learning_rate="constant",  # as the PyTorch loop
            max_iter=1,
            shuffle=True,
            random_state=0,
            alpha=0.0,
            dtype="float32",
            backend="numpy",
            scale_target=False,
            tol=0,
            warm_start=True,
        )

    def prepare(self, X, y):
        return X, y

    def train_epoch(self, data):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.fit(*data)

    def predict(self, data):
        return self.model.predict(data[0])


class TorchRunner:
    """The same network in PyTorch, trained with a DataLoader-free loop."""

    def __init__(self, workload, seed=0):
        torch = self.torch = _import_torch()
        if workload.threads is not None:
            torch.set_num_threads(workload.threads)
        torch.manual_seed(seed)
        self.batch_size = workload.batch_size
        self.lstm = torch.nn.LSTM(
            workload.n_features, workload.hidden, batch_first=True
        )
        self.head = torch.nn.Linear(workload.hidden, 1)
        parameters = [*self.lstm.parameters(), *self.head.parameters()]
        self.optimizer = torch.optim.Adam(parameters, lr=LEARNING_RATE)
        self.loss = torch.nn.MSELoss()

    def prepare(self, X, y):
        return self.torch.from_numpy(X), self.torch.from_numpy(y).reshape(-1, 1)

    def _forward(self, X):
        outputs, _ = self.lstm(X)
        return self.head(outputs[:, -1])

    def train_epoch(self, data):
        X, y = data
        order = self.torch.randperm(len(X))
        for start in range(0, len(X), self.batch_size):
            index = order[start : start + self.batch_size]
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss(self._forward(X[index]), y[index])
            loss.backward()
            self.optimizer.step()

    def predict(self, data):
        X = data[0]
        with self.torch.inference_mode():
            chunks = [
                self._forward(X[start : start + PREDICT_CHUNK])
                for start in range(0, len(X), PREDICT_CHUNK)
            ]
            return self.torch.cat(chunks).numpy().ravel()


RUNNERS = {"sklstm": SklstmRunner, "torch": TorchRunner}


def warmup_slice(data, batch_size):
    n_rows = min(len(data[0]), WARMUP_BATCHES * batch_size)
    return tuple(array[:n_rows] for array in data)


def median_time(function, repeats):
    """Median wall time of ``repeats`` calls, and every call's time."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


# --- GEMM rate at the LSTM's shapes -----------------------------------------


@dataclass(frozen=True)
class Gemm:
    """One matrix product ``(m x k) @ (k x n)`` made ``calls`` times."""

    label: str
    m: int
    k: int
    n: int
    calls: int
    transpose_a: bool = False
    transpose_b: bool = False

    @property
    def flops(self):
        return 2 * self.m * self.k * self.n


def training_gemms(workload):
    """The products of one training batch, as the compiled engine makes them
    on one thread (on N threads, the per-step products have batch / N rows)."""
    batch, steps = workload.batch_size, workload.steps
    features, hidden = workload.n_features, workload.hidden
    gates = N_GATES * hidden
    return [
        Gemm(
            "x_t @ W_ih.T (per step)", batch, features, gates, steps, transpose_b=True
        ),
        Gemm(
            "h @ W_hh.T (per step)", batch, hidden, gates, steps - 1, transpose_b=True
        ),
        Gemm("dz @ W_hh (per step)", batch, gates, hidden, steps - 1),
        # The weight gradients: one product over every row of the batch,
        # [x | h_prev]^T @ dz (the engine adds the bias's sum to it).
        Gemm(
            "[x | h].T @ dz (all gates)",
            features + hidden,
            steps * batch,
            gates,
            1,
            transpose_a=True,
        ),
    ]


def predict_gemms(workload):
    """The products of one predict chunk: every layer step by step."""
    rows = min(SKLSTM_CHUNK, workload.n_windows)
    steps, hidden = workload.steps, workload.hidden
    gates = N_GATES * hidden
    return [
        Gemm(
            "x_t @ W_ih.T (per step)",
            rows,
            workload.n_features,
            gates,
            steps,
            transpose_b=True,
        ),
        Gemm("h @ W_hh.T (per step)", rows, hidden, gates, steps - 1, transpose_b=True),
    ]


def gemm_rate(gemm, dtype, min_time, n_blocks=5):
    """Best GFLOP/s of numpy's matmul on this product (timeit's best-of rule)."""
    rng = np.random.default_rng(0)

    def operand(rows, columns, transposed):
        if transposed:
            return rng.standard_normal((columns, rows)).astype(dtype).T
        return rng.standard_normal((rows, columns)).astype(dtype)

    a = operand(gemm.m, gemm.k, gemm.transpose_a)
    b = operand(gemm.k, gemm.n, gemm.transpose_b)
    out = np.empty((gemm.m, gemm.n), dtype=dtype)
    np.matmul(a, b, out=out)
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            np.matmul(a, b, out=out)
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            break
        number *= 2
    best = elapsed / number
    for _ in range(n_blocks - 1):
        start = time.perf_counter()
        for _ in range(number):
            np.matmul(a, b, out=out)
        best = min(best, (time.perf_counter() - start) / number)
    return gemm.flops / best / 1e9


def combined_rate(gemms, rates):
    """GFLOP/s of the whole set of products, each at its measured rate."""
    flops = sum(gemm.calls * gemm.flops for gemm in gemms)
    seconds = sum(
        gemm.calls * gemm.flops / (rate * 1e9)
        for gemm, rate in zip(gemms, rates, strict=True)
    )
    return flops / seconds / 1e9


# --- peak memory in a fresh process -----------------------------------------


def _proc_status_mib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 2**10  # the kernel writes kB
    raise OSError(f"no {field} in /proc/self/status")


def reset_peak_rss():
    """Start a new peak-RSS measurement; return the RSS it starts from, in MiB.

    On Linux the peak is the process's ``VmHWM``, reset through
    ``/proc/self/clear_refs``. ``ru_maxrss`` cannot serve: a child started by
    ``subprocess`` inherits its parent's high-water mark at ``exec``. Where
    ``/proc`` is missing (macOS), fall back on ``ru_maxrss``; where the reset
    is refused, on the peak since the process started.
    """
    try:
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")
        return _proc_status_mib("VmHWM")
    except OSError:
        return _ru_maxrss_mib()


def peak_rss():
    """Peak RSS in MiB since :func:`reset_peak_rss` (or since the start)."""
    try:
        return _proc_status_mib("VmHWM")
    except OSError:
        return _ru_maxrss_mib()


def _ru_maxrss_mib():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def rss_child(library, workload):
    """Measure one fit in this (fresh) process; print the result as JSON."""
    X, y = make_data(workload.n_windows, workload.steps, workload.n_features)
    if library == "torch":
        _import_torch()
    baseline = reset_peak_rss()
    runner = RUNNERS[library](workload)
    runner.train_epoch(runner.prepare(X, y))
    print(json.dumps({"baseline_mib": baseline, "peak_mib": peak_rss()}))


def fit_rss(library, workload, threads):
    """Peak RSS growth of one fit, measured in a fresh subprocess."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--_rss",
        library,
        workload.name,
        str(workload.n_windows),
    ]
    command += ["--threads", str(threads)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"The memory subprocess for {library} {workload.name} failed:\n"
            f"{result.stderr}"
        )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report["peak_mib"] - report["baseline_mib"]


# --- the run ------------------------------------------------------------------


class Progress:
    """Timestamped progress lines on stderr, so stdout holds only the table."""

    def __init__(self):
        self.start = time.perf_counter()

    def __call__(self, message):
        elapsed = time.perf_counter() - self.start
        print(f"[{elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)


def time_training(library, workload, data, repeats):
    """Warm up, then time ``repeats`` epochs; return the runner and timings."""
    runner = RUNNERS[library](workload)
    prepared = runner.prepare(*data)
    runner.train_epoch(warmup_slice(prepared, workload.batch_size))
    seconds, times = median_time(lambda: runner.train_epoch(prepared), repeats)
    return runner, prepared, seconds, times


def time_predict(runner, prepared, repeats):
    runner.predict(tuple(array[:PREDICT_CHUNK] for array in prepared))
    return median_time(lambda: runner.predict(prepared), repeats)


def _timing_wrapper(function, spent, name):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - start

    return timed


def _phases_of(engine, run, spent):
    """Seconds of ``run()`` and where they went: the compiled engine's
    phases per thread, the functions timed into ``spent``, and the rest."""
    fast = _engines._fast_lstm
    fast.time_phases(True)
    try:
        start = time.perf_counter()
        run()
        total = time.perf_counter() - start
        compiled = fast.phase_seconds()
    finally:
        fast.time_phases(False)
    phases = [(name, seconds / engine.n_threads) for name, seconds in compiled.items()]
    phases += [(name, seconds) for name, seconds in spent.items()]
    accounted = sum(seconds for _, seconds in phases)
    phases.append(("head, batch copies, Python", max(0.0, total - accounted)))
    return total, phases


def _has_phase_timers(engine):
    """Whether ``engine`` is the compiled one, built with its phase timers."""
    return engine.name == "compiled" and _engines._fast_lstm.PHASE_TIMERS


def phase_breakdown(workload, data):
    """Where one sklstm training epoch spends its time.

    The compiled engine's phase timers (``_fast_lstm.time_phases``) give its
    phases, summed over threads and divided by the threads (the wall time of
    a thread, the threads being balanced); the loss and the optimiser are
    timed by wrapping their functions; the rest of the epoch is the head,
    the batch copies and Python. Returns ``(epoch seconds, [(phase,
    seconds)])``; ``None`` with the NumPy engine, or a build without the
    timers (build with ``SKLSTM_PHASE_TIMERS=1`` to have them).
    """
    from sklstm._lstm import _optimizers, _training

    engine = _engines.host_engine(sklstm._lstm._backend.NUMPY_BACKEND, workload.threads)
    if not _has_phase_timers(engine):
        return None
    runner = SklstmRunner(workload)
    runner.train_epoch(warmup_slice(data, workload.batch_size))
    spent = {"loss": 0.0, "optimiser": 0.0}
    patched = [
        (_training, "loss_and_gradient", "loss"),
        (_optimizers.AdamOptimizer, "update_params", "optimiser"),
    ]
    originals = [getattr(owner, attribute) for owner, attribute, _ in patched]
    for (owner, attribute, name), original in zip(patched, originals, strict=True):
        setattr(owner, attribute, _timing_wrapper(original, spent, name))
    try:
        return _phases_of(engine, lambda: runner.train_epoch(data), spent)
    finally:
        for (owner, attribute, _), original in zip(patched, originals, strict=True):
            setattr(owner, attribute, original)


def predict_breakdown(workload, runner, prepared):
    """Where one sklstm ``predict`` of every window spends its time, as
    :func:`phase_breakdown` reads an epoch (only the forward phases are
    non-zero; the rest is the head, X's conversion to float32 and Python).
    ``None`` with the NumPy engine or without the timers."""
    engine = _engines.host_engine(sklstm._lstm._backend.NUMPY_BACKEND, workload.threads)
    if not _has_phase_timers(engine):
        return None
    return _phases_of(
        engine,
        lambda: runner.predict(prepared),
        {"loss": 0.0, "optimiser": 0.0},
    )


def time_fresh_fit(workload, data, repeats):
    """Median time of a fresh ``fit(max_iter=1)``: validation, copies,
    initialisation and thread start included."""

    def fit():
        model = SklstmRunner(workload).model.set_params(warm_start=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(*data)

    fit()
    return median_time(fit, repeats)


def run_main_table(settings, thread_counts, progress):
    rows, raw, gemm_rows = [], [], []
    phase_rows = []
    data_cache = {}
    for workload in main_workloads(settings):
        key = (workload.n_windows, workload.steps)
        if key not in data_cache:
            data_cache[key] = make_data(*key)
        data = data_cache[key]

        # The GEMM rate of one core; a row on N threads is held to N times it.
        with threadpool_limits(limits=1, user_api="blas"):
            train_gemms = training_gemms(workload)
            train_rates = [
                gemm_rate(g, np.float32, settings.gemm_min_time) for g in train_gemms
            ]
            pred_gemms = predict_gemms(workload)
            pred_rates = [
                gemm_rate(g, np.float32, settings.gemm_min_time) for g in pred_gemms
            ]
        train_peak = combined_rate(train_gemms, train_rates)
        pred_peak = combined_rate(pred_gemms, pred_rates)
        for op, gemms, rates, peak in (
            ("train", train_gemms, train_rates, train_peak),
            ("predict", pred_gemms, pred_rates, pred_peak),
        ):
            for gemm, rate in zip(gemms, rates, strict=True):
                gemm_rows.append((workload.name, op, "float32", gemm, rate))
            gemm_rows.append((workload.name, op, "float32", None, peak))
        progress(
            f"{workload.name}: GEMM rate at LSTM shapes on one thread "
            f"{train_peak:.1f} GFLOP/s (train), {pred_peak:.1f} GFLOP/s (predict)"
        )

        for threads in thread_counts:
            threaded = replace(workload, threads=threads)
            train, predict = {}, {}
            predict_phases = None
            for library in RUNNERS:
                label = f"{workload.name} {threads}T"
                runner, prepared, seconds, times = time_training(
                    library, threaded, data, settings.train_repeats
                )
                train[library] = seconds
                raw.append((label, "train epoch", library, times))
                progress(f"{label} train epoch {library}: {seconds:.2f} s")
                seconds, times = time_predict(
                    runner, prepared, settings.predict_repeats
                )
                predict[library] = seconds
                raw.append((label, "predict", library, times))
                progress(f"{label} predict {library}: {seconds:.2f} s")
                if library == "sklstm":
                    predict_phases = predict_breakdown(threaded, runner, prepared)

            label = f"{workload.name} {threads}T"
            seconds, times = time_fresh_fit(threaded, data, settings.train_repeats)
            raw.append((label, "fresh fit(max_iter=1)", "sklstm", times))
            progress(f"{label} fresh fit sklstm: {seconds:.2f} s")
            rows.append(
                (workload.name, threads, "fresh fit(max_iter=1) vs torch epoch",
                 seconds, train["torch"], None, None)
            )  # fmt: skip
            breakdown = phase_breakdown(threaded, data)
            if breakdown is not None:
                phase_rows.append((f"{label} epoch", *breakdown))
                progress(f"{label} phase breakdown: epoch {breakdown[0]:.2f} s")
            if predict_phases is not None:
                phase_rows.append((f"{label} predict", *predict_phases))

            for op, times, flops, peak in (
                ("train epoch", train, epoch_flops(workload), train_peak),
                ("predict", predict, forward_flops(workload), pred_peak),
            ):
                rate = flops / times["sklstm"] / 1e9
                rows.append(
                    (
                        workload.name,
                        threads,
                        op,
                        times["sklstm"],
                        times["torch"],
                        rate,
                        rate / (peak * threads),
                    )
                )
    return rows, raw, gemm_rows, phase_rows


def run_rss(settings, threads, progress):
    workloads = main_workloads(settings)
    if settings.memory_workloads is not None:
        workloads = workloads[: settings.memory_workloads]
    rows = []
    for workload in workloads:
        mib = {}
        for library in RUNNERS:
            mib[library] = fit_rss(library, workload, threads)
            progress(f"{workload.name} fit peak RSS {library}: +{mib[library]:.0f} MiB")
        rows.append((workload.name, mib["sklstm"], mib["torch"]))
    return rows


def run_scaling(settings, progress):
    points = [("steps", steps, 64) for steps in SCALING_STEPS]
    points += [("hidden", 24, hidden) for hidden in SCALING_HIDDEN]
    rows = []
    for sweep, steps, hidden in points:
        workload = Workload(
            f"T{steps}-H{hidden}", settings.scaling_windows, steps, hidden
        )
        data = make_data(workload.n_windows, steps)
        seconds = {}
        for library in RUNNERS:
            seconds[library] = time_training(
                library, workload, data, settings.scaling_repeats
            )[2]
        progress(
            f"scaling T={steps} H={hidden}: sklstm {seconds['sklstm']:.2f} s, "
            f"torch {seconds['torch']:.2f} s"
        )
        rows.append((sweep, workload, seconds["sklstm"], seconds["torch"]))
    return rows


@dataclass
class Results:
    """Everything one run measured, as rows for the report's tables."""

    main_rows: list
    raw: list
    gemm_rows: list
    phase_rows: list
    rss_rows: list | None
    scaling_rows: list | None
    padded_rows: list | None
    load_start: float
    wall_time: float


# --- the report ---------------------------------------------------------------


def cpu_model():
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def describe_pool(pool):
    """One line per thread pool: library, version, threads, where it lives."""
    details = [f"num_threads {pool['num_threads']}"]
    if pool.get("version"):
        details.insert(0, f"{pool['internal_api']} {pool['version']}")
    for key in ("threading_layer", "architecture"):
        if pool.get(key):
            details.append(f"{key.replace('_', ' ')} {pool[key]}")
    parts = Path(pool["filepath"]).parts
    start = parts.index("site-packages") + 1 if "site-packages" in parts else -2
    details.append(f"`{'/'.join(parts[start:])}`")
    return f"{pool['user_api']}: " + ", ".join(details)


def git_revision():
    """The checkout's commit, with ``-dirty`` for uncommitted changes."""
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        result = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()
    return "unknown"


# OpenMP's settings that change how its threads wait: on a machine whose
# cores are busy, threads that spin while they wait take the cores from the
# work (docs/performance.rst, "Threads").
OPENMP_WAIT_SETTINGS = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def openmp_settings():
    """The OpenMP wait settings of the environment, for a report's header."""
    return ", ".join(
        f"{name}={os.environ.get(name, 'unset')}" for name in OPENMP_WAIT_SETTINGS
    )


def header_lines(args, settings, torch, load_start):
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    command = " ".join(["python benchmarks/bench_lstm.py", *args.argv])
    lines = [
        f"# sklstm vs PyTorch nn.LSTM on CPU ({datetime.date.today().isoformat()})",
        "",
        f"- Command: `{command}`",
        f"- Machine: {cpu_model()}, {os.cpu_count()} logical CPUs "
        f"({affinity} usable by this process), "
        f"{platform.system()} {platform.machine()}; "
        f"load average {load_start:.2f} at start, {os.getloadavg()[0]:.2f} at end "
        "(1 minute).",
        f"- Versions: Python {platform.python_version()}, NumPy {np.__version__}, "
        f"PyTorch {torch.__version__}, sklstm {sklstm.__version__} "
        f"(git {git_revision()}), "
        f"scikit-learn {sklearn.__version__}.",
        f"- Threads: each row of the time table runs both libraries on the "
        "threads it names (`LSTMRegressor(n_threads=N)`, "
        "`torch.set_num_threads(N)`); the memory and scaling tables on "
        f"{max(args.thread_counts)}. sklstm engine: "
        f"{_engines.host_engine(sklstm._lstm._backend.NUMPY_BACKEND).name} "
        f"(`SKLSTM_ENGINE` to change). OpenMP: {openmp_settings()}. "
        "Thread pools at start "
        "(`threadpoolctl.threadpool_info()`):",
    ]
    lines += [f"  - {describe_pool(pool)}" for pool in threadpool_info()]
    lines.append(
        f"- Workloads: {settings.n_windows:,} windows x 24 steps x {N_FEATURES} "
        f"features (seeded standard normal), batch {BATCH_SIZE}, Adam lr "
        f"{LEARNING_RATE:g}, MSE, float32, one LSTM layer + linear head on the "
        "last hidden state; W64 has hidden size 64, W256 256."
    )
    return lines


def format_report(args, settings, torch, results):
    lines = header_lines(args, settings, torch, results.load_start)
    lines += [
        "",
        "## Time",
        "",
        "| workload | threads | op | sklstm s | torch s | ratio sklstm/torch "
        "| sklstm GFLOP/s | % of threads x GEMM rate at LSTM shapes |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for name, threads, op, ours, theirs, rate, fraction in results.main_rows:
        rate_cells = (
            "| |" if rate is None else f"| {rate:.1f} | {100 * fraction:.0f}% |"
        )
        lines.append(
            f"| {name} | {threads} | {op} | {ours:.2f} | {theirs:.2f} "
            f"| {ours / theirs:.2f} {rate_cells}"
        )
    lines += [
        "",
        f"Median of {settings.train_repeats} epochs and {settings.predict_repeats} "
        f"predicts, each after a warm-up ({WARMUP_BATCHES} batches of training, "
        "one predict chunk).",
        "",
        "- **train epoch**: sklstm is one `LSTMRegressor.fit` with `max_iter=1`, "
        '`warm_start=True`, `alpha=0`, `scale_target=False`, `backend="numpy"` '
        "(the host backend; it includes input validation and the copy to "
        "time-major order); "
        "PyTorch is a loop over `torch.randperm` minibatches of "
        f"{BATCH_SIZE} with `MSELoss` and `Adam`, no DataLoader.",
        "- **predict**: `LSTMRegressor.predict` on every window, in float32 "
        "with the compiled engine (in float64 with the NumPy engine), in its "
        f"own chunks of {SKLSTM_CHUNK} windows (compiled engine); PyTorch "
        f"runs its float32 forward pass under `torch.inference_mode()` in chunks "
        f"of {PREDICT_CHUNK}.",
        "- **FLOPs** count the LSTM's matrix products only: forward "
        "= 2·T·N·4H·(F+H) for N windows of T steps, F features and hidden size "
        "H; a training epoch = 3 x forward (backward ≈ 2 x forward). The head "
        "and the elementwise gate maths are not counted.",
        "- **% of threads x GEMM rate at LSTM shapes**: sklstm's GFLOP/s over "
        "the rate numpy's `matmul` reaches on one thread, in this run, on the "
        "same matrix products (table below, float32), each weighted by its "
        "FLOPs, times the row's threads. 100% would mean the LSTM ran as fast "
        "as its GEMMs alone on every thread.",
        "",
        "- **fresh fit(max_iter=1) vs torch epoch**: a new `LSTMRegressor` "
        "fitted for one epoch (validation, the time-major copy, "
        "initialisation and thread start included) against PyTorch's epoch.",
        "",
        "### Where a training epoch and a predict go (sklstm, compiled engine)",
        "",
    ]
    names = [name for name, _ in results.phase_rows[0][2]] if results.phase_rows else []
    lines += [
        "| run | seconds | " + " | ".join(names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    for label, epoch, phases in results.phase_rows:
        cells = " | ".join(
            f"{seconds:.3f} ({100 * seconds / epoch:.0f}%)" for _, seconds in phases
        )
        lines.append(f"| {label} | {epoch:.2f} | {cells} |")
    lines += [
        "",
        "One more epoch, and one more predict of every window, with the "
        "engine's phase timers on (each phase reads the clock twice; their "
        "own cost is not visible at this scale), in seconds per thread and "
        "share of the whole. In a predict only the forward phases run, and "
        "the rest is the head, X's conversion to float32 and Python. "
        "*forward products*: the "
        "one-pass GEMM of each step (inputs and previous hidden state); "
        "*forward gates* and *backward gates*: the fused gate loops; *backward "
        "products*: `dz @ W_hh` per step; *weight gradients*: one product "
        "`[x | h_prev | 1]^T @ dz` over every row of the batch (the gradients "
        "of W_ih, W_hh and the bias), in the engine's own kernel; "
        "*input gradients*: `dz @ W_ih` per step, for lower layers; *packing*: "
        "the weight panels; *loss* and *optimiser*: "
        "timed around their functions; the rest is the head, the batch "
        "copies and Python.",
        "",
        "### numpy matmul at the LSTM's shapes",
        "",
        "| workload | op | dtype | product | (m x k) @ (k x n) | calls per batch "
        "| GFLOP/s |",
        "|---|---|---|---|---|---:|---:|",
    ]
    for name, op, dtype, gemm, rate in results.gemm_rows:
        if gemm is None:
            lines.append(
                f"| {name} | {op} | {dtype} | **all, FLOP-weighted** | | | "
                f"**{rate:.1f}** |"
            )
        else:
            lines.append(
                f"| {name} | {op} | {dtype} | `{gemm.label}` | ({gemm.m} x {gemm.k}) "
                f"@ ({gemm.k} x {gemm.n}) | {gemm.calls} | {rate:.1f} |"
            )
    lines += [
        "",
        "One BLAS thread; best of 5 timing blocks per product; for predict a "
        '"batch" is one chunk of windows.',
    ]
    if results.rss_rows is not None:
        lines += [
            "",
            "## Peak memory of one fit",
            "",
            "| workload | sklstm MiB | torch MiB | ratio sklstm/torch |",
            "|---|---:|---:|---:|",
        ]
        for name, ours, theirs in results.rss_rows:
            lines.append(
                f"| {name} | {ours:.0f} | {theirs:.0f} | {ours / theirs:.2f} |"
            )
        lines += [
            "",
            "Growth of the peak resident set size during one one-epoch fit, "
            "each in a fresh subprocess, over the resident set size after the "
            "imports and the data (which both hold, as float32). The peak is "
            "the process's `VmHWM`, reset after the data through "
            "`/proc/self/clear_refs`, rather than `ru_maxrss`, which a "
            "subprocess inherits from its parent at `exec`.",
        ]
    if results.scaling_rows is not None:
        lines += [
            "",
            "## Scaling of a training epoch",
            "",
            "| sweep | steps T | hidden H | sklstm s | torch s | ratio sklstm/torch "
            "| sklstm GFLOP/s | torch GFLOP/s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for sweep, workload, ours, theirs in results.scaling_rows:
            flops = epoch_flops(workload) / 1e9
            lines.append(
                f"| {sweep} | {workload.steps} | {workload.hidden} | {ours:.2f} "
                f"| {theirs:.2f} | {ours / theirs:.2f} | {flops / ours:.1f} "
                f"| {flops / theirs:.1f} |"
            )
        lines += [
            "",
            f"{settings.scaling_windows:,} windows (fewer than above, to keep the "
            "run short), batch 128; the steps sweep has H=64, the hidden sweep "
            f"T=24. Median of {settings.scaling_repeats} epoch(s) after a "
            "warm-up.",
        ]
    if results.padded_rows is not None:
        lines += ["", *padded_report(results.padded_rows, settings.train_repeats)]
    lines += ["", "## Every timed run (s)", ""]
    for name, op, library, times in results.raw:
        lines.append(
            f"- {name} {op} {library}: " + ", ".join(f"{t:.2f}" for t in times)
        )
    lines += ["", f"The whole run took {results.wall_time / 60:.1f} minutes."]
    return "\n".join(lines) + "\n"


def write_report(report, args, prefix, progress):
    """Print ``report`` and write it to ``args.out``, else to a dated file
    ``results/<prefix>_<date>[_quick].md``."""
    print(report)
    today = datetime.date.today().isoformat()
    quick = "_quick" if args.quick else ""
    out = args.out or RESULTS_DIR / f"{prefix}_{today}{quick}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    progress(f"wrote {out}")


def usable_thread_counts(requested):
    """The requested thread counts this process may use, sorted (else [1])."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    return sorted({n for n in requested if 1 <= n <= usable}) or [1]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: fewer windows and one repeat (under a minute)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write the table here (default: benchmarks/results/cpu_<date>.md, "
        "or cpu_<date>_quick.md with --quick)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed training epochs"
    )
    parser.add_argument(
        "--predict-repeats", type=int, default=None, help="timed predicts"
    )
    parser.add_argument(
        "--scaling-repeats",
        type=int,
        default=None,
        help="timed epochs per scaling point",
    )
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[1, 2],
        help="thread counts of the time table, each for both libraries "
        "(default: 1 2; counts above the usable CPUs are dropped)",
    )
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the memory table"
    )
    parser.add_argument(
        "--no-scaling", action="store_true", help="skip the scaling table"
    )
    parser.add_argument(
        "--no-padded", action="store_true", help="skip the padded workload"
    )
    parser.add_argument(
        "--padded-only",
        action="store_true",
        help="run the padded workload only (both host engines, no PyTorch)",
    )
    parser.add_argument(
        "--_rss",
        nargs=3,
        metavar=("LIBRARY", "WORKLOAD", "WINDOWS"),
        help=argparse.SUPPRESS,
    )
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    args.thread_counts = usable_thread_counts(args.threads)
    return args


def settings_from(args):
    settings = QUICK if args.quick else FULL
    overrides = {
        "train_repeats": args.repeats,
        "predict_repeats": args.predict_repeats,
        "scaling_repeats": args.scaling_repeats,
    }
    return replace(settings, **{k: v for k, v in overrides.items() if v is not None})


def thread_limits(threads):
    """Both libraries at ``threads`` threads, for the memory and scaling runs."""
    _import_torch().set_num_threads(threads)
    return threadpool_limits(limits=threads)


def main(argv=None):
    args = parse_args(argv)
    if args._rss:
        library, name, n_windows = args._rss
        workload = Workload(name, int(n_windows), 24, MAIN_HIDDEN[name])
        with thread_limits(args.thread_counts[-1]):
            rss_child(library, workload)
        return

    settings = settings_from(args)
    if args.padded_only:
        padded_only(args, settings)
        return
    torch = _import_torch()
    load_start = os.getloadavg()[0]
    progress = Progress()
    main_rows, raw, gemm_rows, phase_rows = run_main_table(
        settings, args.thread_counts, progress
    )
    with thread_limits(args.thread_counts[-1]):
        rss_rows = (
            None
            if args.no_memory
            else run_rss(settings, args.thread_counts[-1], progress)
        )
        scaling_rows = None if args.no_scaling else run_scaling(settings, progress)
    padded_rows = (
        None
        if args.no_padded
        else run_padded(args.thread_counts, settings.train_repeats, progress)
    )
    with thread_limits(args.thread_counts[-1]):
        results = Results(
            main_rows=main_rows,
            raw=raw,
            gemm_rows=gemm_rows,
            phase_rows=phase_rows,
            rss_rows=rss_rows,
            scaling_rows=scaling_rows,
            padded_rows=padded_rows,
            load_start=load_start,
            wall_time=time.perf_counter() - progress.start,
        )
        report = format_report(args, settings, torch, results)
    write_report(report, args, "cpu", progress)


def padded_only(args, settings):
    """``--padded-only``: the padded workload's table, with the machine."""
    load_start = os.getloadavg()[0]
    progress = Progress()
    rows = run_padded(args.thread_counts, settings.train_repeats, progress)
    lines = [
        f"# Padded workload, {datetime.date.today().isoformat()}",
        "",
        f"- machine: {cpu_model()}, {os.cpu_count()} CPUs; load average "
        f"{load_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end",
        f"- sklstm {sklstm.__version__} ({git_revision()}), numpy {np.__version__}",
        f"- OpenMP: {openmp_settings()}",
        f"- command: `python benchmarks/bench_lstm.py {' '.join(args.argv)}`",
        "",
        *padded_report(rows, settings.train_repeats),
    ]
    write_report("\n".join(lines) + "\n", args, "padded", progress)


if __name__ == "__main__":
    main()
