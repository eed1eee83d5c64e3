"""The training state an estimator keeps between calls: a call that raises
leaves all of it as it was, and ``loss_`` and verbose output report it."""

import copy
import pickle

import numpy as np
import pytest
import skops.io as sio

from sklstm import LSTMClassifier, LSTMRegressor

from ._helpers import fitted_weights, sequences

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def assert_same_state(actual, expected, path="state"):
    """Equal saved states: the same keys, values and array bits."""
    if isinstance(expected, dict):
        assert actual.keys() == expected.keys(), path
        for key in expected:
            assert_same_state(actual[key], expected[key], f"{path}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), path
        for index, (left, right) in enumerate(zip(actual, expected, strict=True)):
            assert_same_state(left, right, f"{path}[{index}]")
    elif isinstance(expected, np.random.RandomState):
        assert_same_state(
            actual.get_state(legacy=False), expected.get_state(legacy=False), path
        )
    elif isinstance(expected, np.ndarray):
        np.testing.assert_array_equal(actual, expected, err_msg=path)
    elif hasattr(expected, "get_params"):  # a fitted LabelBinarizer
        assert_same_state(vars(actual), vars(expected), path)
    else:
        assert actual == expected or (actual != actual and expected != expected), path


def _regressor(**params):
    settings = dict(hidden_layer_sizes=(4, 3), batch_size=16, dtype="float64")
    return LSTMRegressor(**{**settings, "random_state": 0, **params})


def _diverging(y):
    """``y`` with one target too large to square: the loss of its batch
    (without shuffling, the second of 16 rows) becomes infinite."""
    y = y.copy()
    y[20] = 1e200
    return y


#: In order, the failure comes in the middle of the epoch, after a batch
#: that moved the optimiser and drew dropout masks from the random stream.
SETTINGS = [
    dict(solver="adam", shuffle=False, dropout=0.1),
    dict(solver="sgd", momentum=0.9, shuffle=True),
]


@pytest.mark.parametrize("settings", SETTINGS, ids=["adam-in-order", "sgd-shuffled"])
def test_a_partial_fit_that_raises_mid_epoch_changes_nothing(settings):
    X, y = sequences(96)
    model = _regressor(**settings).partial_fit(X[:48], y[:48])
    twin = copy.deepcopy(model)
    with pytest.raises(RuntimeError, match="diverged"):
        model.partial_fit(X[48:], _diverging(y[48:]))
    assert_same_state(model.__getstate__(), twin.__getstate__())
    # The next call continues as if the failed one had not happened: the
    # same shuffle, optimiser step count and moments, hence the same bits.
    model.partial_fit(X[48:], y[48:])
    twin.partial_fit(X[48:], y[48:])
    assert_same_state(model.__getstate__(), twin.__getstate__())
    np.testing.assert_array_equal(model.predict(X), twin.predict(X))


def test_a_warm_start_fit_that_raises_puts_back_the_given_random_state():
    """A RandomState given as random_state is shared with the caller; a warm
    fit that raises leaves it where it was, as every other piece of state."""
    X, y = sequences(96)
    model = _regressor(
        random_state=np.random.RandomState(3), warm_start=True, max_iter=2
    ).fit(X, y)
    twin = copy.deepcopy(model)
    with pytest.raises(RuntimeError, match="diverged"):
        model.fit(X, _diverging(y))
    assert_same_state(model.__getstate__(), twin.__getstate__())
    model.fit(X, y)
    twin.fit(X, y)
    assert_same_state(model.__getstate__(), twin.__getstate__())


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_a_classifier_partial_fit_that_raises_mid_epoch_changes_nothing():
    X, _ = sequences(96)
    y = np.arange(96) % 3
    model = LSTMClassifier(
        hidden_layer_sizes=3,
        batch_size=16,
        shuffle=False,
        dropout=0.1,
        dtype="float64",
        random_state=0,
    )
    model.partial_fit(X[:48], y[:48], classes=[0, 1, 2])
    twin = copy.deepcopy(model)
    # Weights whose sum overflows, in the second batch: its loss is NaN.
    heavy = np.ones(48)
    heavy[20:22] = 1e308
    with pytest.raises(RuntimeError, match="diverged"):
        model.partial_fit(X[48:], y[48:], sample_weight=heavy)
    assert_same_state(model.__getstate__(), twin.__getstate__())
    model.partial_fit(X[48:], y[48:])
    twin.partial_fit(X[48:], y[48:])
    np.testing.assert_array_equal(fitted_weights(model), fitted_weights(twin))
    np.testing.assert_array_equal(model.predict_proba(X), twin.predict_proba(X))


@pytest.mark.parametrize("bit_generator", ["PCG64", "PCG64DXSM", "Philox", "SFC64"])
def test_a_random_state_on_another_bit_generator_is_rebuilt(bit_generator):
    """The training state's stream is rebuilt on any of NumPy's bit
    generators (by pickle: skops saves a RandomState parameter as MT19937)."""
    X, y = sequences(60)
    stream = np.random.RandomState(getattr(np.random, bit_generator)(0))
    model = LSTMRegressor(hidden_layer_sizes=3, random_state=stream)
    model.partial_fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))
    model.partial_fit(X, y)
    loaded.partial_fit(X, y)
    np.testing.assert_array_equal(fitted_weights(loaded), fitted_weights(model))


# --- loss_ and verbose output -------------------------------------------------


@pytest.mark.parametrize("estimator", [LSTMRegressor, LSTMClassifier])
def test_loss_is_the_last_epoch_loss_through_partial_fit_and_saving(estimator):
    X, y = sequences(48)
    if estimator is LSTMClassifier:
        y = (y > 0).astype(int)
    model = estimator(hidden_layer_sizes=3, max_iter=3, random_state=0).fit(X, y)
    assert model.loss_ == model.loss_curve_[-1] and len(model.loss_curve_) == 3
    model.partial_fit(X[:24], y[:24])
    assert model.loss_ == model.loss_curve_[-1] and len(model.loss_curve_) == 4
    for loaded in (
        pickle.loads(pickle.dumps(model)),
        sio.loads(
            sio.dumps(model), trusted=sio.get_untrusted_types(data=sio.dumps(model))
        ),
    ):
        assert loaded.loss_ == model.loss_
    # A file saved before loss_ existed gets it from loss_curve_.
    old = model.__getstate__()
    del old["loss_"]
    restored = estimator.__new__(estimator)
    restored.__setstate__(old)
    assert restored.loss_ == model.loss_curve_[-1]


def test_verbose_partial_fit_reports_its_iteration_not_an_epoch_count(capsys):
    X, y = sequences(48)
    model = _regressor(verbose=True, max_iter=200)
    model.partial_fit(X, y).partial_fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"Iteration {n}, loss = {loss:.8f}"
        for n, loss in enumerate(model.loss_curve_, start=1)
    ]
