"""Input and parameter checks that both estimators share (sklstm/_validation.py,
sklstm/_parameters.py): what they refuse, and that the message says what
is wrong as the user gave it."""

import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm._lstm import _threads

ESTIMATORS = [LSTMRegressor, LSTMClassifier]


def _fitted(Estimator, X, **params):
    y = np.arange(len(X)) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return Estimator(hidden_layer_sizes=2, max_iter=1, **params).fit(X, y)


@pytest.mark.parametrize(
    "shape, what",
    [((0, 24, 5), "sample"), ((7, 0, 5), "time step"), ((7, 24, 0), "feature")],
)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_an_empty_axis_is_named_with_the_shape_as_given(Estimator, shape, what):
    """Steps and features are quoted in X's order (n_samples, n_timesteps,
    n_features), in fit and predict, not in the order of the view that
    scikit-learn's validation is handed."""
    X = np.ones(shape)
    expected = re.escape(f"0 {what}(s) (shape={shape})")
    with pytest.raises(ValueError, match=expected):
        Estimator().fit(X, np.zeros(len(X)))
    model = _fitted(Estimator, np.ones((10, 24, 5)))
    with pytest.raises(ValueError, match=expected):
        model.predict(X)


@pytest.fixture
def no_thread_starts(monkeypatch):
    """Fail a test that starts a thread to probe the system's thread limit."""

    class NoThread:
        def __init__(self, *args, **kwargs):
            raise AssertionError("a thread was started before refusing n_threads")

    monkeypatch.setattr(_threads.threading, "Thread", NoThread)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_an_absurd_thread_count_is_refused_before_any_thread_starts(
    Estimator, no_thread_starts
):
    X = np.ones((10, 3, 2))
    too_many = _threads.MAX_THREADS + 1
    with pytest.raises(ValueError, match=rf"'n_threads'.*{_threads.MAX_THREADS}"):
        Estimator(n_threads=too_many).fit(X, np.arange(10) % 2)
    # predict validates no parameter: the engine refuses it there.
    model = _fitted(Estimator, X, n_threads=1).set_params(n_threads=too_many)
    with pytest.raises(ValueError, match=rf"n_threads={too_many}.*n_threads=None"):
        model.predict(X)


def test_the_largest_thread_count_is_accepted():
    """The cap is a bound, not a typo'd off-by-one: MAX_THREADS itself passes
    parameter validation (the engine then runs what the work needs)."""
    model = LSTMRegressor(n_threads=_threads.MAX_THREADS)
    model._validate_params()
    _threads.check_thread_count(_threads.MAX_THREADS)
