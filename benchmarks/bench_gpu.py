"""GPU epoch and predict times: sklstm on CuPy vs PyTorch nn.LSTM (cuDNN).

One training epoch and one ``predict`` of 26,280 windows x 24 steps x 8
features, hidden 64 and 256, batch 128 and 1024, float32, Adam, MSE; sklstm
with ``backend="cupy"`` against PyTorch's cuDNN LSTM on the same card, and
against sklstm's NumPy backend on the host (one epoch, hidden 256 only at
batch 128, as it is slow). Prints a Markdown table of medians and ratios. It
needs CuPy, PyTorch with CUDA and a GPU; it never asserts a time.

Run: ``python benchmarks/bench_gpu.py [--repeats N] [--out PATH]``.
"""

import argparse
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

import sklstm
from sklstm import LSTMRegressor

N_WINDOWS, STEPS, FEATURES = 26_280, 24, 8


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_WINDOWS, STEPS, FEATURES)).astype(np.float32)
    y = (X[:, -1, 0] + 0.5 * X[:, 0, 1]).astype(np.float32)
    return X, y


def sklstm_times(X, y, hidden, batch, backend, repeats):
    import cupy

    model = LSTMRegressor(
        hidden_layer_sizes=hidden,
        batch_size=batch,
        learning_rate="constant",  # as the PyTorch loop
        max_iter=1,
        warm_start=True,
        alpha=0.0,
        tol=0.0,
        scale_target=False,
        random_state=0,
        backend=backend,
    )

    def sync():
        if backend == "cupy":
            cupy.cuda.Device().synchronize()

    epochs, predicts = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)  # warm-up: kernels compiled, buffers allocated
        for _ in range(repeats):
            sync()
            start = time.perf_counter()
            model.fit(X, y)
            sync()
            epochs.append(time.perf_counter() - start)
        model.predict(X)
        for _ in range(repeats):
            start = time.perf_counter()
            model.predict(X)
            sync()
            predicts.append(time.perf_counter() - start)
    return statistics.median(epochs), statistics.median(predicts)


def torch_times(X, y, hidden, batch, repeats):
    import torch

    device = torch.device("cuda")
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(FEATURES, hidden, batch_first=True).to(device)
    head = torch.nn.Linear(hidden, 1).to(device)
    params = [*lstm.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(params, lr=1e-3)
    X_dev = torch.from_numpy(X).to(device)
    y_dev = torch.from_numpy(y).to(device)[:, None]

    def epoch():
        order = torch.randperm(N_WINDOWS, device=device)
        for start in range(0, N_WINDOWS, batch):
            index = order[start : start + batch]
            optimizer.zero_grad(set_to_none=True)
            output = head(lstm(X_dev[index])[0][:, -1])
            torch.nn.functional.mse_loss(output, y_dev[index]).backward()
            optimizer.step()
        torch.cuda.synchronize()

    def predict():
        with torch.inference_mode():
            for start in range(0, N_WINDOWS, 4096):
                head(lstm(X_dev[start : start + 4096])[0][:, -1])
        torch.cuda.synchronize()

    def median_time(function):
        function()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return median_time(epoch), median_time(predict)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    import cupy
    import torch

    X, y = make_data()
    props = cupy.cuda.runtime.getDeviceProperties(0)
    lines = [
        f"# GPU benchmark ({time.strftime('%Y-%m-%d')})",
        "",
        f"Card: {props['name'].decode()}; CUDA runtime "
        f"{cupy.cuda.runtime.runtimeGetVersion()}, driver "
        f"{cupy.cuda.runtime.driverGetVersion()}; CuPy {cupy.__version__}, "
        f"PyTorch {torch.__version__} (cuDNN {torch.backends.cudnn.version()}), "
        f"sklstm {sklstm.__version__}. Median of {args.repeats} runs after a "
        "warm-up. sklstm's predict computes in float64; torch's in float32.",
        "",
        "| hidden | batch | op | sklstm CuPy (s) | torch cuDNN (s) | CuPy/cuDNN "
        "| sklstm NumPy (s) | NumPy/CuPy |",
        "|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for hidden in (64, 256):
        for batch in (128, 1024):
            gpu = sklstm_times(X, y, hidden, batch, "cupy", args.repeats)
            peer = torch_times(X, y, hidden, batch, args.repeats)
            host = (
                sklstm_times(X, y, hidden, batch, "numpy", 1)
                if batch == 128
                else (float("nan"), float("nan"))
            )
            for k, op in enumerate(("train epoch", "predict")):
                lines.append(
                    f"| {hidden} | {batch} | {op} | {gpu[k]:.3f} | {peer[k]:.3f} | "
                    f"{gpu[k] / peer[k]:.2f} | {host[k]:.2f} | {host[k] / gpu[k]:.1f} |"
                )
            print("\n".join(lines[-2:]), flush=True)
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out is not None:
        args.out.write_text(table)


if __name__ == "__main__":
    main()
