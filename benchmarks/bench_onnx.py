"""Predict time of the ONNX export in ONNX Runtime, against sklstm and PyTorch.

Times, in one run and on one machine, on the W64 predict workload of
``bench_lstm.py`` (26,280 seeded standard-normal windows of 24 steps x 8
features, one LSTM layer of hidden size 64 and a linear head, float32):

* ``onnxruntime``: the ``LSTMRegressor`` exported by ``sklstm.onnx.to_onnx``,
  one ``InferenceSession.run`` over all windows (CPU execution provider);
* ``sklstm``: ``LSTMRegressor.predict`` (the compiled engine where it is
  built, the NumPy engine with ``SKLSTM_ENGINE=numpy``);
* ``torch``: ``nn.LSTM`` and ``nn.Linear`` holding the same weights, the
  forward pass of ``bench_lstm.py`` (``torch.inference_mode()``, chunks of
  4,096 windows);

and the same network from rows: ``Pipeline([SequenceWindower(window=24),
LSTMRegressor])`` on 26,280 rows x 8 features, exported whole, against
``Pipeline.predict`` (PyTorch has no windower: no torch column). Each on 1
and 2 threads (``SessionOptions.intra_op_num_threads``,
``LSTMRegressor(n_threads=N)``, ``torch.set_num_threads``); median of 5
runs after a warm-up on one chunk. The weights are those of one epoch on
512 windows, with ``scale_target=False``, so all three give the same
numbers: the table shows the largest difference from sklstm's. It never
asserts a time.

Run: ``python benchmarks/bench_onnx.py [--quick] [--out PATH] [--repeats N]
[--threads N [N ...]]``.
"""

import argparse
import datetime
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sklearn

# bench_lstm.py is beside this script, so on sys.path when it runs.
from bench_lstm import (
    MAIN_HIDDEN,
    PREDICT_CHUNK,
    Progress,
    SklstmRunner,
    TorchRunner,
    Workload,
    _import_torch,
    cpu_model,
    describe_pool,
    git_revision,
    make_data,
    median_time,
    usable_thread_counts,
    warmup_slice,
    write_report,
)
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_info

import sklstm
from sklstm import SequenceWindower
from sklstm._lstm import _engines

WORKLOAD = "W64"
STEPS = 24


@dataclass(frozen=True)
class Settings:
    """How much to run."""

    n_windows: int
    repeats: int


FULL = Settings(n_windows=26_280, repeats=5)
QUICK = Settings(n_windows=512, repeats=1)


def _import_onnx():
    try:
        import onnxruntime
        import skl2onnx

        from sklstm.onnx import to_onnx
    except ImportError as error:
        raise SystemExit(
            "This benchmark runs the ONNX export, which needs skl2onnx, onnx and "
            f'onnxruntime ({error}). Install them: pip install -e ".[onnx]"'
        ) from error
    return onnxruntime, skl2onnx, to_onnx


def fitted_runners(workload, X, y):
    """sklstm fitted one epoch on a slice, and torch holding its weights."""
    ours = SklstmRunner(workload)
    ours.train_epoch(warmup_slice((X, y), workload.batch_size))
    theirs = TorchRunner(workload)
    torch = theirs.torch
    model, layer = ours.model, ours.model.layers_[0]
    as_tensor = [
        torch.from_numpy(np.asarray(array, dtype=np.float32))
        for array in (
            layer["weight_ih"],
            layer["weight_hh"],
            layer["bias"],
            model.head_weight_,
            model.head_bias_,
        )
    ]
    with torch.no_grad():
        theirs.lstm.weight_ih_l0.copy_(as_tensor[0])
        theirs.lstm.weight_hh_l0.copy_(as_tensor[1])
        theirs.lstm.bias_ih_l0.copy_(as_tensor[2])
        theirs.lstm.bias_hh_l0.zero_()  # PyTorch adds its two biases
        theirs.head.weight.copy_(as_tensor[3])
        theirs.head.bias.copy_(as_tensor[4])
    return ours, theirs


def ort_session(onnxruntime, onx, threads):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        onx.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def timed(predict, data, repeats):
    """Warm up on one chunk, then time ``repeats`` calls on all of ``data``.

    Returns the median time, every time, and the predictions.
    """
    predict(data[:PREDICT_CHUNK])
    predictions = predict(data)
    seconds, times = median_time(lambda: predict(data), repeats)
    return seconds, times, np.asarray(predictions)


def run(settings, thread_counts, progress):
    onnxruntime, _, to_onnx = _import_onnx()
    torch = _import_torch()
    workload = Workload(WORKLOAD, settings.n_windows, STEPS, MAIN_HIDDEN[WORKLOAD])
    X, y = make_data(workload.n_windows, STEPS)
    rows = np.ascontiguousarray(X[:, -1, :])  # n_windows rows of 8 features
    ours, theirs = fitted_runners(workload, X, y)
    model = ours.model
    pipeline = Pipeline(
        [("windows", SequenceWindower(window=STEPS).fit(rows)), ("lstm", model)]
    )
    inputs = {"windows": (X, model, to_onnx(model, X[:1]))}
    inputs["rows"] = (rows, pipeline, to_onnx(pipeline, rows[:1]))
    progress(f"exported; ONNX Runtime {onnxruntime.__version__}")
    table, raw = [], []
    for threads in thread_counts:
        model.set_params(n_threads=threads)
        torch.set_num_threads(threads)
        for op, (data, estimator, onx) in inputs.items():
            session = ort_session(onnxruntime, onx, threads)
            predictors = {
                "onnxruntime": lambda rows, s=session: s.run(None, {"X": rows})[0],
                "sklstm": estimator.predict,
            }
            if op == "windows":
                predictors["torch"] = lambda windows: theirs.predict(
                    (torch.from_numpy(windows),)
                )
            seconds, predictions = {}, {}
            for library, predict in predictors.items():
                seconds[library], times, predictions[library] = timed(
                    predict, data, settings.repeats
                )
                raw.append((op, threads, library, times))
                progress(f"{op}, {threads}T, {library}: {seconds[library]:.3f} s")
            differences = {
                library: float(np.max(np.abs(output - predictions["sklstm"])))
                for library, output in predictions.items()
                if library != "sklstm"
            }
            table.append((op, threads, seconds, differences))
    return table, raw


def format_report(args, settings, table, raw, load_start, wall_time):
    onnxruntime, skl2onnx, _ = _import_onnx()
    torch = _import_torch()
    import onnx

    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    command = " ".join(["python benchmarks/bench_onnx.py", *args.argv])
    lines = [
        "# ONNX Runtime vs sklstm vs PyTorch: predict on CPU "
        f"({datetime.date.today().isoformat()})",
        "",
        f"- Command: `{command}`",
        f"- Machine: {cpu_model()}, {os.cpu_count()} logical CPUs "
        f"({affinity} usable by this process), {platform.system()} "
        f"{platform.machine()}; load average {load_start:.2f} at start, "
        f"{os.getloadavg()[0]:.2f} at end (1 minute).",
        f"- Versions: Python {platform.python_version()}, NumPy {np.__version__}, "
        f"ONNX Runtime {onnxruntime.__version__}, onnx {onnx.__version__}, "
        f"skl2onnx {skl2onnx.__version__}, PyTorch {torch.__version__}, sklstm "
        f"{sklstm.__version__} (git {git_revision()}), scikit-learn "
        f"{sklearn.__version__}.",
        "- Threads: each row runs the three on the threads it names "
        "(`SessionOptions.intra_op_num_threads` with `inter_op_num_threads=1`, "
        "`LSTMRegressor(n_threads=N)`, `torch.set_num_threads(N)`). sklstm "
        f"engine: {_engines.host_engine(sklstm._lstm._backend.NUMPY_BACKEND).name} "
        "(`SKLSTM_ENGINE` to change). Thread pools at start "
        "(`threadpoolctl.threadpool_info()`):",
    ]
    lines += [f"  - {describe_pool(pool)}" for pool in threadpool_info()]
    lines += [
        f"- Workload {WORKLOAD}: {settings.n_windows:,} windows x {STEPS} steps x "
        f"8 features (seeded standard normal), one LSTM layer of hidden size "
        f"{MAIN_HIDDEN[WORKLOAD]}, linear head, float32; weights of one epoch "
        "on 512 windows, `scale_target=False`. `rows`: the same number of rows "
        f"x 8 features through `SequenceWindower(window={STEPS})` first.",
        "",
        "## Predict time",
        "",
        "| input | threads | onnxruntime s | sklstm s | torch s "
        "| onnxruntime/sklstm | torch/sklstm | max abs diff onnxruntime "
        "| max abs diff torch |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for op, threads, seconds, differences in table:
        ours = seconds["sklstm"]
        torch_s = f"{seconds['torch']:.3f}" if "torch" in seconds else "n/a"
        torch_ratio = f"{seconds['torch'] / ours:.2f}" if "torch" in seconds else ""
        torch_diff = f"{differences['torch']:.1e}" if "torch" in differences else ""
        lines.append(
            f"| {op} | {threads} | {seconds['onnxruntime']:.3f} | {ours:.3f} "
            f"| {torch_s} | {seconds['onnxruntime'] / ours:.2f} | {torch_ratio} "
            f"| {differences['onnxruntime']:.1e} | {torch_diff} |"
        )
    lines += [
        "",
        f"Median of {settings.repeats} run(s), each after a warm-up on "
        f"{PREDICT_CHUNK:,} windows (or rows). onnxruntime: one "
        "`InferenceSession.run` over every window; sklstm: one `predict` "
        "(it chunks internally); torch: `bench_lstm.py`'s forward pass in "
        f"chunks of {PREDICT_CHUNK:,} under `torch.inference_mode()`. The "
        "differences are the largest absolute difference from sklstm's "
        "predictions, all three in float32.",
        "",
        "## Every timed run (s)",
        "",
    ]
    for op, threads, library, times in raw:
        lines.append(
            f"- {op} {threads}T {library}: " + ", ".join(f"{t:.3f}" for t in times)
        )
    lines += ["", f"The whole run took {wall_time:.0f} s."]
    return "\n".join(lines) + "\n"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a smoke run: {QUICK.n_windows} windows, one repeat",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write the table here (default: benchmarks/results/onnx_<date>.md, "
        "or onnx_<date>_quick.md with --quick)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed predicts per cell"
    )
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[1, 2],
        help="thread counts, each for all three (default: 1 2; counts above "
        "the usable CPUs are dropped)",
    )
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    args.thread_counts = usable_thread_counts(args.threads)
    return args


def main(argv=None):
    args = parse_args(argv)
    settings = QUICK if args.quick else FULL
    if args.repeats is not None:
        settings = Settings(settings.n_windows, args.repeats)
    load_start = os.getloadavg()[0]
    progress = Progress()
    began = time.perf_counter()
    table, raw = run(settings, args.thread_counts, progress)
    report = format_report(
        args, settings, table, raw, load_start, time.perf_counter() - began
    )
    write_report(report, args, "onnx", progress)


if __name__ == "__main__":
    main()
