"""Training-split CV of the stopping and step-size defaults (issue 36).

Issue 36 asks for the defaults of ``LSTMClassifier`` (``max_iter``, ``tol``,
``n_iter_no_change``, the learning rate) to be kept or changed on a design
study that reads only the archive's training splits. For each candidate and
seed, this script fits ``ChannelScaler -> LSTMClassifier`` (bench_uea.py's
scaler) on each training part of bench_uea.py's folds (StratifiedKFold(3,
shuffled, seed 0), on the training split only) and scores it on the
held-out part. The test split is not read, except for its longest sequence
(the padded length, as in bench_uea.py and bench_pytorch_parity.py).

Candidates change one thing at a time, on two bases:

- the PyTorch user's settings of the issue (one layer of 32 units, Adam at
  1e-2, batch 32, ``max_iter=200``), stopping by the default rule with
  patience (``n_iter_no_change``) 10 (MLP's), 20 or 30 (the current
  default), or running every epoch, or with ``learning_rate="cosine"``;
- every parameter at its default, and the same with ``"cosine"``.

Prints one Markdown row per data set and candidate: the CV accuracy (mean
over seeds and folds, and the lowest and highest seed's mean), the epochs
run (mean, lowest, highest) and the fit seconds.

Run: ``python benchmarks/defaults_design_cv.py [--seeds 2] [--n-jobs 2]
[--datasets GunPoint ...] [--out PATH]`` beside bench_uea.py, with the
``[bench]`` extra and sktime (for its offline UCR/UEA copies) installed.
"""

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline

sys.path.insert(0, str(Path(__file__).parent))
import bench_uea
from bench_pytorch_parity import DATASETS, SETTINGS

import sklstm
from sklstm import LSTMClassifier

#: The defaults when the study ran: the constant step (the study chose
#: "cosine" in their place; benchmarks/README.md).
THEN = {"learning_rate": "constant"}
#: The issue's PyTorch user's settings, as LSTMClassifier parameters.
USER = {
    **THEN,
    "hidden_layer_sizes": (SETTINGS["hidden_size"],),
    "max_iter": SETTINGS["epochs"],
    "batch_size": SETTINGS["batch_size"],
    "learning_rate_init": SETTINGS["learning_rate"],
}
#: name -> LSTMClassifier parameters (on top of its defaults; "defaults"
#: are those of the study's time, THEN).
CANDIDATES = {
    "user, patience 10": {**USER, "n_iter_no_change": 10},
    "user, patience 20": {**USER, "n_iter_no_change": 20},
    "user, patience 30 (default)": USER,
    "user, every epoch": {**USER, "n_iter_no_change": SETTINGS["epochs"]},
    "user, cosine": {**USER, "learning_rate": "cosine"},
    "defaults": THEN,
    "defaults, cosine": {"learning_rate": "cosine"},
    "user, patience 50": {**USER, "n_iter_no_change": 50},
    "user, patience 100": {**USER, "n_iter_no_change": 100},
    "defaults, patience 50": {**THEN, "n_iter_no_change": 50},
    "defaults, every epoch": {**THEN, "n_iter_no_change": 200},
}
#: The candidates of each round, in the order they were run: round 2 was
#: written after reading round 1's scores (patience 30 still stopped
#: BasicMotions' user settings 0.06 below every epoch).
ROUNDS = {
    1: list(CANDIDATES)[:7],
    2: list(CANDIDATES)[7:],
}


def _fold(X, y, candidate, seed, fold):
    """Held-out accuracy, epochs and fit seconds of one fit."""
    train_rows, held_out = list(bench_uea.CV.split(X, y))[fold]
    model = Pipeline(
        [
            ("scale", bench_uea.ChannelScaler()),
            (
                "lstm",
                LSTMClassifier(**CANDIDATES[candidate], random_state=seed, n_threads=1),
            ),
        ]
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X[train_rows], y[train_rows])
    seconds = time.perf_counter() - start
    accuracy = model.score(X[held_out], y[held_out])
    return candidate, seed, accuracy, model[-1].n_iter_, seconds


def _rows(name, results, candidates):
    lines = []
    for candidate in candidates:
        runs = [r for r in results if r[0] == candidate]
        by_seed = {}
        for _, seed, accuracy, _, _ in runs:
            by_seed.setdefault(seed, []).append(accuracy)
        seed_means = [np.mean(v) for v in by_seed.values()]
        epochs = [r[3] for r in runs]
        lines.append(
            f"| {name} | {candidate} | {np.mean(seed_means):.4f} | "
            f"{min(seed_means):.4f}-{max(seed_means):.4f} | "
            f"{np.mean(epochs):.0f} ({min(epochs)}-{max(epochs)}) | "
            f"{sum(r[4] for r in runs):.0f} |"
        )
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--rounds", type=int, nargs="+", default=list(ROUNDS))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    lines = [
        "| data set | candidate | CV accuracy | seeds' range | epochs | fit s |",
        "|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    start = time.perf_counter()
    candidates = [c for r in args.rounds for c in ROUNDS[r]]
    for name in args.datasets:
        X, y = bench_uea.padded_training_split(name)
        results = Parallel(n_jobs=args.n_jobs)(
            delayed(_fold)(X, y, candidate, seed, fold)
            for candidate in candidates
            for seed in range(args.seeds)
            for fold in range(bench_uea.CV.get_n_splits())
        )
        rows = _rows(name, results, candidates)
        print("\n".join(rows), flush=True)
        lines += rows
    header = (
        f"# Training-split CV of the defaults (issue 36)\n\n"
        f"- Command: `python benchmarks/defaults_design_cv.py "
        f"{' '.join(argv or sys.argv[1:])}`\n"
        f"- {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}, sklstm {sklstm.__version__}; "
        f"{args.seeds} seeds x {bench_uea.CV.get_n_splits()} folds per cell, "
        f"{args.n_jobs} fits at a time; {time.perf_counter() - start:.0f} s.\n\n"
    )
    if args.out:
        args.out.write_text(header + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
