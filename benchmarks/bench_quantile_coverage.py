"""Coverage of default quantile LSTMs on the intervals workload (issue 36).

The workload of ``tests/test_quantile.py``: 9,000 time-ordered rows whose
target's spread grows with the first feature, windows of 4 rows, the first
4,000 rows to train and the last 3,000 to measure. A default
``LSTMRegressor(loss="quantile", quantile=q)`` (every other parameter left
at its default) should put a share ``q`` of the test targets at or below its
predictions: the goal is ``q +- 0.02``. The default schedule is the cosine
(issue 36); the variants take the constant step (the default before), the
constant step for every epoch (``n_iter_no_change=max_iter``), or a larger
``learning_rate_init``. (Rows of earlier runs named "cosine" are today's
default.)

Run: ``python benchmarks/bench_quantile_coverage.py [--seeds 3]
[--variants default constant ...]``; rows go to
``benchmarks/results/quantile_coverage_<date>.md``.
"""

import argparse
import datetime
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline

import sklstm
from sklstm import LSTMRegressor, SequenceWindower

RESULTS = Path(__file__).parent / "results"
#: Each variant's parameters, beside the loss and the quantile.
VARIANTS = {
    "default": {},
    "constant": {"learning_rate": "constant"},
    "constant, all epochs": {"learning_rate": "constant", "n_iter_no_change": 200},
    "lr 3e-3": {"learning_rate_init": 3e-3},
}


def workload():
    """The rows of ``tests/test_quantile.py``'s ``_heteroscedastic(9000, 0)``."""
    sys.path.insert(0, str(Path(__file__).parents[1]))
    from tests.test_quantile import _heteroscedastic

    X, y = _heteroscedastic(9000, seed=0)
    return (X[:4000], y[:4000]), (X[6000:], y[6000:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--quantiles", type=float, nargs="+", default=[0.1, 0.9])
    parser.add_argument(
        "--variants", nargs="+", default=["default"], choices=list(VARIANTS)
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    (X, y), (X_test, y_test) = workload()
    lines = [
        "# Coverage of default quantile LSTMs (issue 36)\n",
        f"{platform.machine()}, Python {platform.python_version()}, sklstm "
        f"{sklstm.__version__}; train rows 0-3999, test rows 6000-8999, window 4.\n",
        "| quantile | variant | seed | coverage | off by | epochs | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for q in args.quantiles:
        for variant in args.variants:
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                model = LSTMRegressor(
                    loss="quantile", quantile=q, random_state=seed, **VARIANTS[variant]
                )
                start = time.perf_counter()
                pipeline = make_pipeline(SequenceWindower(window=4), model)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    pipeline.fit(X, y)
                covered = float(np.mean(y_test <= pipeline.predict(X_test)))
                line = (
                    f"| {q} | {variant} | {seed} | {covered:.4f} | "
                    f"{covered - q:+.4f} | {model.n_iter_} | "
                    f"{time.perf_counter() - start:.0f} |"
                )
                lines.append(line)
                print(line, flush=True)
    out = args.out or RESULTS / f"quantile_coverage_{datetime.date.today()}.md"
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
