"""The figure of docs/training.rst: noisy epoch losses and where each rule stops.

An ``LSTMClassifier`` with a PyTorch user's settings (one layer of 32
units, Adam at 1e-2, batch 32) is trained for 200 epochs on two UCR/UEA
data sets (sktime's offline copies, as ``bench_pytorch_parity.py`` reads
them), one epoch per ``partial_fit`` call so that the test accuracy of every
epoch is known. On the epoch losses, the script then marks where
``MLPRegressor``'s rule (``tol=1e-4``, ``n_iter_no_change=10``) and
sklstm's rule (:class:`sklstm._lstm._stopping.StoppingRule`, its defaults)
would have stopped, and prints the test accuracy there and at epoch 200.

Run: ``python benchmarks/stopping_curves.py`` (sktime and matplotlib);
writes ``docs/_static/stopping_curves.png``. ``--table`` instead compares
the rules (sklstm's at several patiences) over data sets, seeds and dropout:
for each run, the epoch each rule stops at and the test accuracy there minus
that after all 200 epochs (the held-out gain of stopping), written to
``benchmarks/results/stopping_rules_<date>.md``; the curves are kept in the
``.npz`` beside it, and read from there when it exists.
"""

import argparse
import datetime
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_pytorch_parity import SETTINGS, data_set

from sklstm import LSTMClassifier
from sklstm._lstm._stopping import StoppingRule

OUT = Path(__file__).parents[1] / "docs" / "_static" / "stopping_curves.png"
PANELS = (("ItalyPowerDemand", 0), ("JapaneseVowels", 0))


def mlp_stop(losses, tol=1e-4, n_iter_no_change=10):
    """The epoch at which ``MLPRegressor``'s rule stops, or None."""
    best, count = np.inf, 0
    for epoch, loss in enumerate(losses, start=1):
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count > n_iter_no_change:
            return epoch
    return None


def sklstm_stop(losses, n_iter_no_change=None):
    """The epoch at which sklstm's rule stops, or None; its defaults unless
    ``n_iter_no_change`` is given."""
    defaults = LSTMClassifier().get_params()
    rule = StoppingRule(
        defaults["tol"],
        n_iter_no_change or defaults["n_iter_no_change"],
        validation=False,
    )
    for epoch, loss in enumerate(losses, start=1):
        if rule(loss):
            return epoch
    return None


def curves(name, seed, dropout=0.0):
    """Epoch losses and test accuracies of 200 one-epoch ``partial_fit`` calls."""
    X_train, y_train, X_test, y_test = data_set(name)
    model = LSTMClassifier(
        hidden_layer_sizes=(SETTINGS["hidden_size"],),
        batch_size=SETTINGS["batch_size"],
        learning_rate="constant",  # the stopping rule reads a constant step's loss
        learning_rate_init=SETTINGS["learning_rate"],
        dropout=dropout,
        random_state=seed,
        n_threads=1,
    )
    classes = np.unique(y_train)
    accuracy = []
    for _ in range(SETTINGS["epochs"]):
        model.partial_fit(X_train, y_train, classes=classes)
        accuracy.append(model.score(X_test, y_test))
    return np.array(model.loss_curve_), np.array(accuracy)


TABLE_DATASETS = (
    "BasicMotions",
    "ItalyPowerDemand",
    "ArrowHead",
    "JapaneseVowels",
    "GunPoint",
)
#: The patiences of sklstm's rule that the table compares.
PATIENCES = (10, 20, 30, 40, 50)


def all_curves(path, seeds):
    """``{"name|dropout|seed": (losses, accuracy)}``, read from the ``.npz``
    at ``path`` if it exists, else measured (``seeds`` seeds without
    dropout, 3 with 0.3) and saved there."""
    if path.exists():
        with np.load(path) as saved:
            return {key: saved[key] for key in saved.files}
    runs = {}
    for name in TABLE_DATASETS:
        for dropout in (0.0, 0.3):
            for seed in range(seeds if dropout == 0 else 3):
                runs[f"{name}|{dropout}|{seed}"] = np.stack(curves(name, seed, dropout))
                print(name, dropout, seed, flush=True)
    np.savez(path, **runs)
    return runs


def table(seeds):
    """Both rules (sklstm's at several patiences) on the same runs: the
    epoch each stops at and the held-out gain there."""
    stem = Path(__file__).parent / "results" / f"stopping_rules_{datetime.date.today()}"
    runs = all_curves(stem.with_suffix(".npz"), seeds)
    rules = {"MLP (10)": mlp_stop}
    rules.update(
        {f"sklstm ({n})": lambda losses, n=n: sklstm_stop(losses, n) for n in PATIENCES}
    )
    lines = [
        "| data set, dropout, seed | acc. at 200 | "
        + " | ".join(f"{rule}: epoch, gain" for rule in rules)
        + " |",
        "|---" * (len(rules) + 2) + "|",
    ]
    gains = {rule: [] for rule in rules}
    for key, (losses, accuracy) in runs.items():
        cells = []
        for rule, stop_at in rules.items():
            epoch = stop_at(losses) or len(losses)
            gains[rule].append((accuracy[epoch - 1] - accuracy[-1], epoch))
            cells.append(f"{epoch}, {gains[rule][-1][0]:+.3f}")
        lines.append(
            f"| {key.replace('|', ', ')} | {accuracy[-1]:.3f} | "
            + " | ".join(cells)
            + " |"
        )
    lines += ["", "| rule | mean gain | worst gain | mean share of the epochs |"]
    lines.append("|---|---|---|---|")
    for rule, values in gains.items():
        gain, epochs = np.array(values).T
        lines.append(
            f"| {rule} | {gain.mean():+.4f} | {gain.min():+.3f} | "
            f"{epochs.mean() / SETTINGS['epochs']:.0%} |"
        )
    text = (
        "# Where each rule stops, on the same runs (issue 36)\n\n"
        f"LSTMClassifier{tuple(SETTINGS.items())}, one epoch per partial_fit, "
        f"{len(runs)} runs; gain: test accuracy at the stop minus that at "
        "epoch 200 (a rule that does not stop runs 200). sklstm's rule with "
        "its tol=1e-4 at the patience (n_iter_no_change) in brackets; MLP's "
        "with tol=1e-4, n_iter_no_change=10.\n\n" + "\n".join(lines) + "\n"
    )
    stem.with_suffix(".md").write_text(text)
    print(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    if args.table:
        table(args.seeds)
        return
    fig, axes = plt.subplots(1, len(PANELS), figsize=(11, 3.8))
    for ax, (name, seed) in zip(axes, PANELS, strict=True):
        losses, accuracy = curves(name, seed)
        epochs = np.arange(1, len(losses) + 1)
        ax.plot(epochs, losses, color="0.35", lw=1, label="epoch training loss")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(f"{name}, seed {seed}")
        twin = ax.twinx()
        twin.plot(epochs, accuracy, color="tab:green", lw=1, alpha=0.7)
        twin.set_ylabel("test accuracy", color="tab:green")
        for stop, label, color in (
            (mlp_stop(losses), "MLPRegressor's rule", "tab:red"),
            (sklstm_stop(losses), "sklstm's rule", "tab:blue"),
        ):
            if stop is None:
                print(f"{name}: {label} does not stop in {len(losses)} epochs")
                continue
            ax.axvline(stop, color=color, ls="--", label=f"{label}: epoch {stop}")
            print(
                f"{name} seed {seed}: {label} stops at epoch {stop}, test accuracy "
                f"{accuracy[stop - 1]:.4f} (epoch {len(losses)}: {accuracy[-1]:.4f})"
            )
        ax.legend(loc="upper right", fontsize=8)
    axes[0].set_ylabel("mean training loss (log)")
    fig.tight_layout()
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
