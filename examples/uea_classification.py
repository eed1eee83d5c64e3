"""
Classifying spoken vowels of different lengths (UEA JapaneseVowels)
===================================================================

JapaneseVowels, from the UEA multivariate time-series archive, holds 640
utterances of a Japanese vowel by nine speakers: 12 LPC cepstrum
coefficients per step, 7 to 29 steps per utterance. The task is to name the
speaker. :class:`~sklstm.LSTMClassifier` takes the utterances as they are,
in one 3-D array whose shorter sequences end in NaN steps
(:ref:`variable-length`), and is scored on the archive's own test split.

This script needs sktime, which ships the data set in its wheel
(``pip install sktime``, or sklstm's ``[bench]`` extra); it is not run when
the documentation is built. ``benchmarks/bench_uea.py`` compares the same
model with 1-NN DTW, MiniRocket and an MLP (:doc:`/classification`).
"""

# %%
# The archive's train and test splits
# -----------------------------------
# sktime returns one pandas Series per utterance and channel; each utterance
# becomes a ``(length, 12)`` array, and the utterances are stacked with NaN
# steps at the end of the shorter ones.

import numpy as np
from sktime.datasets import load_UCR_UEA_dataset

from sklstm import LSTMClassifier


def load(split):
    X, y = load_UCR_UEA_dataset(
        "JapaneseVowels", split=split, return_type="nested_univ"
    )
    sequences = [
        np.column_stack([np.asarray(cell, dtype=float) for cell in row])
        for row in X.itertuples(index=False)
    ]
    return sequences, np.asarray(y)


def pad_with_nan(sequences, length):
    X = np.full((len(sequences), length, sequences[0].shape[1]), np.nan)
    for row, sequence in enumerate(sequences):
        X[row, : len(sequence)] = sequence
    return X


train, y_train = load("train")
test, y_test = load("test")
longest = max(len(sequence) for sequence in train + test)
X_train = pad_with_nan(train, longest)
X_test = pad_with_nan(test, longest)
print(f"train {X_train.shape}, test {X_test.shape}, classes {np.unique(y_train)}")

# %%
# Standardise the channels, keep the padding
# ------------------------------------------
# Each channel is centred and scaled with the mean and standard deviation of
# its real steps in the training split; NaN stays NaN.

mean = np.nanmean(X_train, axis=(0, 1))
scale = np.nanstd(X_train, axis=(0, 1))
X_train = (X_train - mean) / scale
X_test = (X_test - mean) / scale

# %%
# Fit and score
# -------------
# The settings are those that ``benchmarks/bench_uea.py`` chose by 3-fold
# cross-validation on the training split.

model = LSTMClassifier(
    hidden_layer_sizes=(32,),
    learning_rate_init=1e-2,
    dropout=0.3,
    batch_size=16,
    max_iter=200,
    random_state=0,
)
model.fit(X_train, y_train)
print(f"epochs run: {model.n_iter_}")
print(f"test accuracy: {model.score(X_test, y_test):.3f}")
