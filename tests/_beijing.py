"""Helpers shared by the tests of the Beijing study (tests/test_beijing_*.py)."""

import functools

import numpy as np

from sklstm.beijing._protocol import load_frame

from .conftest import shared_data_env

MODELS = ["persistence", "seasonal naive", "ridge", "hist gradient boosting", "lstm"]

#: The options of the fast end-to-end runs: one LSTM epoch, one seed.
FAST = ["--quick", "--epochs", "1", "--seeds", "0", "--jobs", "1"]


@functools.cache
def study_frame():
    """The gap-filled data set, loaded once per session (do not modify it)."""
    with shared_data_env():
        return load_frame()


def scores(y_true, y_pred):
    """RMSE and MAE, computed here rather than by scikit-learn."""
    error = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
    return np.sqrt(np.mean(error**2)), np.mean(np.abs(error))


def best_constant_rmse(y_true):
    """The lowest RMSE any constant forecast gets on ``y_true``: that of the
    rows' own mean, their standard deviation. A model that learnt nothing
    (it forecasts one value, the training mean, say) does no better."""
    y_true = np.asarray(y_true, dtype=float)
    return np.sqrt(np.mean((y_true - y_true.mean()) ** 2))


#: The most a fitted LSTM's one-hour RMSE may be, as a share of the best
#: constant forecast's, even after one epoch on the quick slice (measured:
#: 0.35-0.44 on its test months).
LEARNT = 0.6


def quiet(line):
    """A ``log`` for run_study that prints nothing."""
