"""LSTMClassifier on two UEA data sets against sktime's classifiers and an MLP.

Loads JapaneseVowels (12 channels, 7 to 29 steps, 9 classes) and BasicMotions
(6 channels, 100 steps, 4 classes) from the copies that sktime ships in its
wheel, with the archive's own train/test splits, and fits on the training
split, in one run:

1. sktime's 1-nearest-neighbour DTW classifier
   (``KNeighborsTimeSeriesClassifier(n_neighbors=1, distance="dtw")``). Its
   numba DTW takes equal lengths only, so shorter sequences are padded with
   their last step;
2. MiniRocket (sktime's ``MiniRocketMultivariateVariable``, which takes
   sequences of different lengths as they are) and scikit-learn's
   ``RidgeClassifierCV`` on the standardised features, the classifier of the
   ROCKET papers;
3. scikit-learn's ``MLPClassifier`` on the flattened sequences (channels
   standardised, the padding steps set to 0, the channel mean), its size and
   ``alpha`` chosen by cross-validation on the training split;
4. ``LSTMClassifier`` on the NaN-padded sequences (channels standardised over
   the real steps, the padding left NaN), as a soft vote of
   ``N_SEEDS`` networks that differ only in ``random_state``
   (``SeedEnsemble``): with 270 or 40 training sequences, one network's
   accuracy depends on its seed by several points, and the vote scored
   above the seeds' mean in every design tried. Each network
   reads ``steps`` consecutive steps as one (``StepGrouper``: 4 steps of
   6 channels become one step of 24), uses dropout 0.3 and trains for all
   ``max_iter`` epochs (``n_iter_no_change=max_iter``: no stop when the
   noisy dropout loss stalls). ``steps``, the hidden size and the learning
   rate are chosen by cross-validation on the training split.

The design of item 4 (seed ensemble, dropout, epochs, the grid) was chosen
from cross-validation scores on the training splits, with the folds of the
search (``benchmarks/uea_design_cv.py``); the test split was not scored to
choose it. The test split is used only to score the refitted models. Fit time is
the wall time of the final fit on the whole training split (the search
before it is timed apart); predict time is that of the test split. Prints a
Markdown table and writes it to ``benchmarks/results/uea_<date>.md``.

Run: ``python benchmarks/bench_uea.py [--quick] [--out PATH] [--n-jobs N]``
with the ``[bench]`` extra installed (sktime, numba).
"""

import argparse
import datetime
import os
import platform
import time
import warnings
from collections import namedtuple
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeClassifierCV
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import sklstm
from sklstm import LSTMClassifier

DATASETS = ("JapaneseVowels", "BasicMotions")
SEED = 0
CV = StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED)

# The LSTM's grid, searched by CV on the training split only; every
# candidate is a soft vote of N_SEEDS networks (random_state SEED, SEED + 1...).
N_SEEDS = 5
LSTM_GRID = {
    "group__steps": [2, 4],
    "lstm__estimator__hidden_layer_sizes": [(32,), (64,)],
    "lstm__estimator__learning_rate_init": [3e-3, 1e-2],
}
# n_iter_no_change=max_iter: every epoch runs (the dropout loss is noisy, and
# stopping when it stalls for 10 epochs ended training after about 40).
LSTM_FIXED = {
    "learning_rate": "constant",  # the default when this design was chosen
    "max_iter": 100,
    "n_iter_no_change": 100,
    "batch_size": 16,
    "alpha": 1e-4,
    "dropout": 0.3,
}
MLP_MAX_ITER = 1000
MLP_GRID = {
    "mlp__hidden_layer_sizes": [(100,), (256,)],
    "mlp__alpha": [1e-4, 1e-1],
}


# -- data -----------------------------------------------------------------


Split = namedtuple("Split", "train test y_train y_test length")


def load(name, split):
    """Sequences (list of (length, n_channels) arrays) and labels of a split."""
    from sktime.datasets import load_UCR_UEA_dataset

    X, y = load_UCR_UEA_dataset(name, split=split, return_type="nested_univ")
    sequences = [
        np.column_stack([np.asarray(cell, dtype=float) for cell in row])
        for row in X.itertuples(index=False)
    ]
    return sequences, np.asarray(y)


def pad(sequences, length, mode):
    """One (n, length, n_channels) array; ``mode`` "nan" or "last" fills the end."""
    out = np.full((len(sequences), length, sequences[0].shape[1]), np.nan)
    for row, sequence in enumerate(sequences):
        out[row, : len(sequence)] = sequence
        if mode == "last":
            out[row, len(sequence) :] = sequence[-1]
    return out


def padded_training_split(name):
    """The training split of ``name``, NaN-padded to the longest sequence of
    both splits (the only thing read from the test split), and its labels:
    what the design scripts cross-validate on."""
    train, y_train = load(name, "train")
    test, _ = load(name, "test")
    length = max(len(sequence) for sequence in train + test)
    return pad(train, length, "nan"), y_train


class ChannelScaler(TransformerMixin, BaseEstimator):
    """Standardise each channel of (n, steps, channels) over its non-NaN steps.

    The padding stays NaN; the statistics are those of the data ``fit`` sees.
    """

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        self.mean_ = np.nanmean(X, axis=(0, 1))
        self.scale_ = np.nanstd(X, axis=(0, 1))
        self.scale_[self.scale_ == 0] = 1.0
        return self

    def transform(self, X):
        return (np.asarray(X, dtype=float) - self.mean_) / self.scale_


class StepGrouper(TransformerMixin, BaseEstimator):
    """Read ``steps`` consecutive steps as one: (n, T, C) -> (n, ceil(T/k), k*C).

    A sequence whose length is not a multiple of ``steps`` has its last group
    completed with its last real step; the padding beyond stays NaN. Fewer,
    wider steps shorten the chain that backpropagation runs through.
    """

    def __init__(self, steps=1):
        self.steps = steps

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=float)
        n, length, channels = X.shape
        groups = -(-length // self.steps)
        out = np.full((n, groups * self.steps, channels), np.nan)
        out[:, :length] = X
        real = (~np.isnan(X).all(axis=2)).sum(axis=1)
        for row, end in enumerate(real):
            out[row, end : -(-end // self.steps) * self.steps] = X[row, end - 1]
        return out.reshape(n, groups, self.steps * channels)


class SeedEnsemble(ClassifierMixin, BaseEstimator):
    """Soft vote of ``n_seeds`` clones of a classifier that differ only in seed.

    Clone ``i`` gets ``random_state=random_state + i``; ``predict_proba`` is
    the mean of the clones' probabilities, ``predict`` its most probable
    class.
    """

    def __init__(self, estimator, n_seeds=5, random_state=0):
        self.estimator = estimator
        self.n_seeds = n_seeds
        self.random_state = random_state

    def fit(self, X, y):
        self.estimators_ = [
            clone(self.estimator).set_params(random_state=self.random_state + i)
            for i in range(self.n_seeds)
        ]
        for estimator in self.estimators_:
            estimator.fit(X, y)
        self.classes_ = self.estimators_[0].classes_
        return self

    def predict_proba(self, X):
        return np.mean([model.predict_proba(X) for model in self.estimators_], axis=0)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def _flatten_filled(X):
    return np.nan_to_num(X, nan=0.0).reshape(len(X), -1)


# -- models ---------------------------------------------------------------


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def lstm_settings(quick):
    """The LSTM's fixed settings: 10 epochs with ``--quick``."""
    epochs = 10 if quick else LSTM_FIXED["max_iter"]
    return {**LSTM_FIXED, "max_iter": epochs, "n_iter_no_change": epochs}


def mlp_max_iter(quick):
    return 50 if quick else MLP_MAX_ITER


def run_dtw(data, n_jobs, quick):
    train, test, y_train, y_test, length = data
    from sktime.classification.distance_based import KNeighborsTimeSeriesClassifier

    # sktime's numpy3D is (n, channels, steps).
    X_train = pad(train, length, "last").transpose(0, 2, 1)
    X_test = pad(test, length, "last").transpose(0, 2, 1)
    model = KNeighborsTimeSeriesClassifier(n_neighbors=1, distance="dtw")
    # A first call compiles numba's DTW; that is not what is timed.
    clone(model).fit(X_train[:4], y_train[:4]).predict(X_test[:2])
    _, fit_s = timed(lambda: model.fit(X_train, y_train))
    predicted, predict_s = timed(lambda: model.predict(X_test))
    equal = len({len(s) for s in train + test}) == 1
    note = "full window" + ("" if equal else "; padded with the last step")
    note += "; numba compiled before timing"
    return dict(
        model="1-NN DTW (sktime)",
        accuracy=np.mean(predicted == y_test),
        fit_s=fit_s,
        predict_s=predict_s,
        note=note,
    )


def _frames(sequences):
    return [pd.DataFrame(sequence) for sequence in sequences]


def run_minirocket(data, n_jobs, quick):
    train, test, y_train, y_test, _ = data
    from sktime.transformations.panel.rocket import MiniRocketMultivariateVariable

    rocket = MiniRocketMultivariateVariable(
        # MiniRocket's kernels span 9 steps; shorter sequences are padded.
        pad_value_short_series=0.0,
        random_state=SEED,
    )
    head = make_pipeline(
        StandardScaler(with_mean=False),
        RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)),
    )

    # A first call compiles numba's kernels; that is not what is timed.
    clone(rocket).fit_transform(_frames(train[:4]))

    def fit():
        features = rocket.fit_transform(_frames(train))
        head.fit(features, y_train)

    _, fit_s = timed(fit)
    predicted, predict_s = timed(lambda: head.predict(rocket.transform(_frames(test))))
    return dict(
        model="MiniRocket + RidgeClassifierCV (sktime)",
        accuracy=np.mean(predicted == y_test),
        fit_s=fit_s,
        predict_s=predict_s,
        note="10,000 kernels; variable-length transform; numba compiled before timing",
    )


def _short(key):
    """A grid key without its step names: ``lstm__estimator__alpha`` -> ``alpha``."""
    return key.rsplit("__", 1)[1]


def _searched(name, pipeline, grid, data, n_jobs):
    """Search on the NaN-padded training split, refit the best, score on test."""
    X_train = pad(data.train, data.length, "nan")
    X_test = pad(data.test, data.length, "nan")
    y_train, y_test = data.y_train, data.y_test
    search = GridSearchCV(pipeline, grid, cv=CV, scoring="accuracy", n_jobs=n_jobs)
    _, search_s = timed(lambda: search.fit(X_train, y_train))
    final = clone(pipeline).set_params(**search.best_params_)
    _, fit_s = timed(lambda: final.fit(X_train, y_train))
    predicted, predict_s = timed(lambda: final.predict(X_test))
    chosen = ", ".join(
        f"{_short(key)}={value}" for key, value in search.best_params_.items()
    )
    return dict(
        model=name,
        accuracy=np.mean(predicted == y_test),
        fit_s=fit_s,
        predict_s=predict_s,
        search_s=search_s,
        note=f"CV {search.best_score_:.3f}: {chosen}",
        cv=search.cv_results_,
    )


def run_mlp(data, n_jobs, quick):
    pipeline = Pipeline(
        [
            ("scale", ChannelScaler()),
            ("flatten", FunctionTransformer(_flatten_filled)),
            ("mlp", MLPClassifier(max_iter=mlp_max_iter(quick), random_state=SEED)),
        ]
    )
    return _searched(
        "MLPClassifier, flattened (sklearn)", pipeline, MLP_GRID, data, n_jobs
    )


def run_lstm(data, n_jobs, quick):
    lstm = LSTMClassifier(**lstm_settings(quick), n_threads=1)
    pipeline = Pipeline(
        [
            ("scale", ChannelScaler()),
            ("group", StepGrouper()),
            ("lstm", SeedEnsemble(lstm, n_seeds=N_SEEDS, random_state=SEED)),
        ]
    )
    return _searched("LSTMClassifier (sklstm)", pipeline, LSTM_GRID, data, n_jobs)


# -- report ---------------------------------------------------------------


def header(args):
    import numba
    import sktime

    return [
        f"# LSTMClassifier on UEA data ({datetime.date.today().isoformat()})",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores "
        f"({platform.processor() or platform.platform()}); Python "
        f"{platform.python_version()}, sklstm {sklstm.__version__}, scikit-learn "
        f"{sklearn.__version__}, sktime {sktime.__version__}, numba "
        f"{numba.__version__}, NumPy {np.__version__}, pandas {pd.__version__}.",
        f"Command: `python benchmarks/bench_uea.py"
        f"{' --quick' if args.quick else ''} --n-jobs {args.n_jobs}`. Searches: "
        f"GridSearchCV, StratifiedKFold(3, shuffled, seed {SEED}), accuracy, on "
        "the training split only; the best settings refitted on it.",
        "",
    ]


def grids_text(quick):
    fixed = ", ".join(f"{k}={v}" for k, v in lstm_settings(quick).items())
    return [
        f"LSTM grid: {LSTM_GRID} with {fixed}, float32, n_threads=1; each "
        f"candidate a soft vote of {N_SEEDS} networks, random_state "
        f"{SEED} to {SEED + N_SEEDS - 1}.",
        f"MLP grid: {MLP_GRID} with max_iter={mlp_max_iter(quick)}, "
        f"random_state={SEED}.",
        "",
    ]


def table(rows):
    lines = [
        "| data set | model | test accuracy | fit s | predict s | CV search s "
        "| notes |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        search = f"{row['search_s']:.1f}" if "search_s" in row else ""
        lines.append(
            f"| {row['dataset']} | {row['model']} | {row['accuracy']:.4f} "
            f"| {row['fit_s']:.2f} | {row['predict_s']:.2f} | {search} "
            f"| {row['note']} |"
        )
    return lines


def cv_lines(rows):
    lines = ["", "CV accuracy of every candidate (mean over 3 folds):", ""]
    for row in rows:
        if "cv" not in row:
            continue
        lines.append(f"- {row['dataset']}, {row['model']}:")
        cv = row["cv"]
        for params, score, std in zip(
            cv["params"], cv["mean_test_score"], cv["std_test_score"], strict=True
        ):
            short = ", ".join(f"{_short(k)}={v}" for k, v in params.items())
            lines.append(f"  - {short}: {score:.3f} ± {std:.3f}")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs")
    parser.add_argument("--out", type=Path, default=None, help="write the table here")
    parser.add_argument(
        "--n-jobs", type=int, default=2, help="GridSearchCV's n_jobs (default 2)"
    )
    args = parser.parse_args(argv)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name in DATASETS:
            train, y_train = load(name, "train")
            test, y_test = load(name, "test")
            length = max(len(s) for s in train + test)
            data = Split(train, test, y_train, y_test, length)
            for run in (run_dtw, run_minirocket, run_mlp, run_lstm):
                row = {"dataset": name, **run(data, args.n_jobs, args.quick)}
                print(
                    f"{name}: {row['model']}: {row['accuracy']:.4f} "
                    f"({row['fit_s']:.1f} s) {row['note']}",
                    flush=True,
                )
                rows.append(row)
    text = "\n".join(
        header(args) + grids_text(args.quick) + table(rows) + cv_lines(rows) + [""]
    )
    print(text)
    out = args.out or Path(__file__).parent / "results" / (
        f"uea_{datetime.date.today().isoformat()}{'_quick' if args.quick else ''}.md"
    )
    out.write_text(text)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
