"""Cross-validation on the training splits that chose bench_uea.py's LSTM design.

For each design (an ``LSTMClassifier``'s settings and ``steps``, the
``StepGrouper`` of bench_uea.py) and each seed, fits the pipeline of
bench_uea.py (``ChannelScaler -> StepGrouper -> LSTMClassifier``) on each
training part of bench_uea.py's folds (``CV``, on the archive's training
split only) and keeps its probabilities on the held-out part. Prints, per
design: the CV accuracy of single networks (mean over the seeds, and the
lowest and highest seed), and that of the soft vote of all the seeds (mean
± standard deviation over the folds), with the mean epochs run and fit
seconds. The test split is not read, except for its longest sequence (the
padded length, as in bench_uea.py).

The designs are listed in ``ROUNDS`` in the order they were tried: each
round was written after reading the CV scores of the ones before.

Run: ``python benchmarks/uea_design_cv.py [--cache DIR] [--n-jobs N]
[--out PATH]`` beside bench_uea.py, with the ``[bench]`` extra installed.
"""

import argparse
import hashlib
import json
import pickle
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

from sklstm import LSTMClassifier

_BASE = {
    "batch_size": 16,
    "alpha": 1e-4,
    "dropout": 0.3,
    "learning_rate": "constant",  # the default when these rounds ran
    "learning_rate_init": 1e-2,
}
_ALL = {"max_iter": 100, "n_iter_no_change": 1000}  # every epoch runs


def _d(**settings):
    return {**_BASE, "hidden_layer_sizes": [32], **settings}


def _grid():
    return [
        {**_BASE, **_ALL, "steps": steps, "hidden_layer_sizes": [hidden],
         "learning_rate_init": rate}
        for steps in (2, 4) for hidden in (32, 64) for rate in (3e-3, 1e-2)
    ]  # fmt: skip


#: (data set, seeds, designs), in the order they were tried.
ROUNDS = [
    # The chosen model of the grid before this one, stopped on a stalled
    # loss as before, then run for all its epochs.
    ("JapaneseVowels", 5, [_d(max_iter=200), _d(**_ALL)]),
    ("JapaneseVowels", 3, [
        _d(**_ALL, hidden_layer_sizes=[64]),
        _d(**_ALL, hidden_layer_sizes=[64], learning_rate_init=3e-3),
        _d(**_ALL, hidden_layer_sizes=[128], learning_rate_init=3e-3),
        _d(**_ALL, alpha=1e-2),
        _d(**_ALL, hidden_layer_sizes=[64], alpha=1e-2),
        _d(**_ALL, hidden_layer_sizes=[32, 32]),
        _d(**_ALL, steps=4, dropout=0.0),
        _d(**_ALL, steps=4, hidden_layer_sizes=[64]),
        _d(**_ALL, hidden_layer_sizes=[64], dropout=0.5),
        _d(**_ALL, batch_size=32),
        _d(learning_rate="adaptive", max_iter=200, n_iter_no_change=10),
        _d(**_ALL, hidden_layer_sizes=[64], gradient_clip=1.0),
    ]),
    ("JapaneseVowels", 3, [
        _d(**_ALL, steps=4, hidden_layer_sizes=[64], learning_rate_init=3e-3),
        _d(steps=4, hidden_layer_sizes=[64], learning_rate="adaptive",
           max_iter=200, n_iter_no_change=10),
        _d(**_ALL, steps=4, hidden_layer_sizes=[128], learning_rate_init=3e-3),
        _d(**_ALL, steps=2, hidden_layer_sizes=[64]),
        _d(**{**_ALL, "max_iter": 200}, steps=4, hidden_layer_sizes=[64]),
        _d(**_ALL, steps=4, hidden_layer_sizes=[64, 64]),
        _d(**_ALL, steps=4, hidden_layer_sizes=[64], alpha=1e-3),
        _d(**_ALL, steps=4),
        _d(**_ALL, steps=4, hidden_layer_sizes=[64], dropout=0.0),
    ]),
    # bench_uea.py's grid, five seeds: the search it runs.
    ("BasicMotions", 5, _grid()),
    ("JapaneseVowels", 5, _grid()),
]  # fmt: skip


def _fold(name, design, seed, fold, X, y, cache):
    """Probabilities of one seed's network on one fold's held-out part."""
    key = json.dumps([name, design, seed, fold], sort_keys=True)
    path = cache / f"{hashlib.md5(key.encode()).hexdigest()}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    train_rows, held_out = list(bench_uea.CV.split(X, y))[fold]
    settings = dict(design)
    steps = settings.pop("steps", 1)
    settings["hidden_layer_sizes"] = tuple(settings["hidden_layer_sizes"])
    model = Pipeline(
        [
            ("scale", bench_uea.ChannelScaler()),
            ("group", bench_uea.StepGrouper(steps)),
            ("lstm", LSTMClassifier(**settings, random_state=seed, n_threads=1)),
        ]
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X[train_rows], y[train_rows])
    result = dict(
        proba=model.predict_proba(X[held_out]),
        classes=model.classes_,
        val_idx=held_out,
        n_iter=model[-1].n_iter_,
        seconds=time.perf_counter() - start,
    )
    path.write_bytes(pickle.dumps(result))
    return result


def _accuracy(result, proba, y):
    return np.mean(result["classes"][proba.argmax(axis=1)] == y[result["val_idx"]])


def _round_lines(name, n_seeds, designs, cache, n_jobs):
    X, y = bench_uea.padded_training_split(name)
    n_folds = bench_uea.CV.get_n_splits()
    jobs = [
        (d, s, f) for d in range(len(designs)) for s in range(n_seeds)
        for f in range(n_folds)
    ]  # fmt: skip
    results = Parallel(n_jobs=n_jobs)(
        delayed(_fold)(name, designs[d], s, f, X, y, cache) for d, s, f in jobs
    )
    fits = dict(zip(jobs, results, strict=True))
    lines = []
    for d, design in enumerate(designs):
        single = [
            np.mean([_accuracy(fits[d, s, f], fits[d, s, f]["proba"], y)
                     for f in range(n_folds)])
            for s in range(n_seeds)
        ]  # fmt: skip
        vote = [
            _accuracy(
                fits[d, 0, f],
                np.mean([fits[d, s, f]["proba"] for s in range(n_seeds)], axis=0),
                y,
            )
            for f in range(n_folds)
        ]
        epochs = np.mean([fits[d, s, f]["n_iter"] for s in range(n_seeds)
                          for f in range(n_folds)])  # fmt: skip
        seconds = np.mean([fits[d, s, f]["seconds"] for s in range(n_seeds)
                           for f in range(n_folds)])  # fmt: skip
        shown = ", ".join(f"{k}={v}" for k, v in sorted(design.items()))
        lines.append(
            f"| {name} | {shown} | {np.mean(single):.3f} ({np.min(single):.3f} "
            f"to {np.max(single):.3f}) | {np.mean(vote):.3f} ± {np.std(vote):.3f} "
            f"| {epochs:.0f} | {seconds:.2f} |"
        )
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("uea_design_cache"))
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    lines = []
    for number, (name, n_seeds, designs) in enumerate(ROUNDS, start=1):
        lines += [
            "",
            f"Round {number}: {name}, seeds 0 to {n_seeds - 1}.",
            "",
            "| data set | design | single network: mean (lowest to highest seed)"
            f" | soft vote of {n_seeds} | epochs | fit s |",
            "|---|---|---|---|---:|---:|",
        ]
        lines += _round_lines(name, n_seeds, designs, args.cache, args.n_jobs)
        print("\n".join(lines[-len(designs) :]), flush=True)
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
