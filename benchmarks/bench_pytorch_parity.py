"""One LSTMClassifier with a PyTorch user's settings against a PyTorch loop.

Issue 36: a PyTorch user writes one layer of 32 units, Adam at 1e-2,
batch 32 and 200 epochs. This script fits, in the same run, on the
archive's own train/test splits of UCR/UEA data sets (sktime's offline
copies):

1. ``LSTMClassifier(hidden_layer_sizes=(32,), max_iter=200, batch_size=32,
   learning_rate_init=0.01)`` with its defaults (``"sklstm default"``:
   the cosine schedule, 200 epochs), and optionally with the constant step
   and the stopping rule (``"sklstm constant"``, the default before issue
   36), or the constant step for every epoch;
2. a plain PyTorch loop: ``nn.LSTM`` of 32 units, the last (real) hidden
   state, ``nn.Linear``, cross-entropy, Adam at 1e-2, batch 32, shuffled,
   200 epochs, PyTorch's own initialisation.

Both read the same sequences: channels standardised over the training
split's real steps, shorter sequences NaN-padded for sklstm and packed for
PyTorch. Both run on one thread. Each (data set, seed) writes one row;
the table gives the mean and median test accuracy over seeds, the PyTorch band
(lowest to highest seed) and the epochs each sklstm run took.

Run: ``python benchmarks/bench_pytorch_parity.py [--seeds 3]
[--datasets GunPoint ...] [--models "sklstm default" pytorch ...]`` with
sktime and torch installed; ``--table ROWS.jsonl ...`` prints the table of
rows measured before.
Rows go to ``benchmarks/results/pytorch_parity_<date>.jsonl`` as they are
measured, the table to ``.md`` beside it.
"""

import argparse
import datetime
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, str(Path(__file__).parent))
from bench_uea import ChannelScaler, load, pad

import sklstm
from sklstm import LSTMClassifier

DATASETS = (
    "GunPoint",
    "ItalyPowerDemand",
    "ArrowHead",
    "BasicMotions",
    "JapaneseVowels",
)
SETTINGS = dict(hidden_size=32, epochs=200, batch_size=32, learning_rate=1e-2)
RESULTS = Path(__file__).parent / "results"


def data_set(name):
    """Standardised, NaN-padded train/test arrays and labels, and lengths."""
    train, y_train = load(name, "train")
    test, y_test = load(name, "test")
    length = max(len(s) for s in train + test)
    X_train, X_test = pad(train, length, "nan"), pad(test, length, "nan")
    scaler = ChannelScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test), y_test


#: The sklstm rows: the plain settings with its defaults, and variants.
SKLSTM_VARIANTS = {
    "sklstm default": {},
    "sklstm constant": {"learning_rate": "constant"},
    "sklstm constant, 200 epochs": {
        "learning_rate": "constant",
        "n_iter_no_change": SETTINGS["epochs"],
    },
    "sklstm alpha=0": {"alpha": 0.0},
}


def run_sklstm(X_train, y_train, X_test, y_test, seed, variant):
    model = LSTMClassifier(
        hidden_layer_sizes=(SETTINGS["hidden_size"],),
        max_iter=SETTINGS["epochs"],
        batch_size=SETTINGS["batch_size"],
        learning_rate_init=SETTINGS["learning_rate"],
        random_state=seed,
        n_threads=1,
        **SKLSTM_VARIANTS[variant],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    return model.score(X_test, y_test), model.n_iter_


def run_torch(X_train, y_train, X_test, y_test, seed, one_logit=False):
    """The PyTorch loop; ``one_logit`` gives a binary problem one output and
    the binary cross-entropy (as ``LSTMClassifier`` and ``MLPClassifier``
    do) instead of two logits and a softmax."""
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    classes, y_index = np.unique(y_train, return_inverse=True)

    def tensors(X):
        lengths = (~np.isnan(X).all(axis=2)).sum(axis=1)
        return torch.tensor(np.nan_to_num(X), dtype=torch.float32), lengths

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(
                X_train.shape[2], SETTINGS["hidden_size"], batch_first=True
            )
            outputs = 1 if one_logit else len(classes)
            self.head = nn.Linear(SETTINGS["hidden_size"], outputs)

        def forward(self, X, lengths):
            packed = pack_padded_sequence(
                X, torch.as_tensor(lengths), batch_first=True, enforce_sorted=False
            )
            _, (hidden, _) = self.lstm(packed)
            return self.head(hidden[-1])

    net = Net()
    optimizer = torch.optim.Adam(net.parameters(), lr=SETTINGS["learning_rate"])
    X, lengths = tensors(X_train)
    y = torch.as_tensor(y_index)
    for _ in range(SETTINGS["epochs"]):
        order = torch.randperm(len(X))
        for start in range(0, len(X), SETTINGS["batch_size"]):
            batch = order[start : start + SETTINGS["batch_size"]]
            optimizer.zero_grad()
            logits = net(X[batch], lengths[batch])
            if one_logit:
                loss = nn.functional.binary_cross_entropy_with_logits(
                    logits[:, 0], y[batch].float()
                )
            else:
                loss = nn.functional.cross_entropy(logits, y[batch])
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        X, lengths = tensors(X_test)
        logits = net(X, lengths)
        index = (logits[:, 0] > 0).long() if one_logit else logits.argmax(dim=1)
        predicted = classes[index.numpy()]
    return float(np.mean(predicted == y_test)), SETTINGS["epochs"]


def table(rows):
    """Per data set and model: mean accuracy, whether it is in the PyTorch
    band (lowest to highest seed), and the epochs of each seed."""
    lines = [
        "| data set | model | mean accuracy | median | seeds | in PyTorch band "
        "| epochs |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(row["dataset"] for row in rows):
        of = {}
        for row in rows:
            if row["dataset"] == name:
                of.setdefault(row["model"], []).append(row)
        torch_scores = [r["accuracy"] for r in of.get("pytorch", [])]
        low, high = min(torch_scores, default=0), max(torch_scores, default=1)
        for model, runs in of.items():
            scores = [r["accuracy"] for r in runs]
            mean = np.mean(scores)
            band = (
                f"{low:.4f}-{high:.4f}"
                if model == "pytorch"
                else ("yes" if low <= mean <= high else "no")
            )
            lines.append(
                f"| {name} | {model} | {mean:.4f} | {np.median(scores):.4f} | "
                f"{', '.join(f'{s:.3f}' for s in scores)} | {band} | "
                f"{', '.join(str(r['epochs']) for r in runs)} |"
            )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument(
        "--models",
        nargs="+",
        default=["sklstm default", "pytorch"],
        choices=["pytorch", "pytorch one logit", *SKLSTM_VARIANTS],
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--table", type=Path, nargs="+", help="only print the table of these rows"
    )
    args = parser.parse_args(argv)
    if args.table:
        rows = [json.loads(line) for path in args.table for line in path.open()]
        print(table(rows))
        return
    import torch

    stem = args.out or RESULTS / f"pytorch_parity_{datetime.date.today()}"
    jsonl = stem.with_suffix(".jsonl")
    header = (
        "# LSTMClassifier vs a PyTorch loop (issue 36)\n\n"
        f"{platform.processor() or ''} {platform.machine()}, "
        f"Python {platform.python_version()}, sklstm "
        f"{sklstm.__version__}, torch {torch.__version__}; settings {SETTINGS}, "
        f"seeds 0..{args.seeds - 1}, one thread each.\n"
    )
    print(header)
    rows = []
    models = args.models
    for name in args.datasets:
        X_train, y_train, X_test, y_test = data_set(name)
        for seed in range(args.seeds):
            for model in models:
                start = time.perf_counter()
                if model.startswith("pytorch"):
                    accuracy, epochs = run_torch(
                        X_train, y_train, X_test, y_test, seed, model.endswith("logit")
                    )
                else:
                    accuracy, epochs = run_sklstm(
                        X_train,
                        y_train,
                        X_test,
                        y_test,
                        seed,
                        model,
                    )
                row = dict(
                    dataset=name, seed=seed, model=model, accuracy=accuracy,
                    epochs=int(epochs), seconds=round(time.perf_counter() - start, 1),
                )  # fmt: skip
                rows.append(row)
                print(json.dumps(row), flush=True)
                with jsonl.open("a") as file:
                    file.write(json.dumps(row) + "\n")
    text = f"{header}\n{table(rows)}\n"
    stem.with_suffix(".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
