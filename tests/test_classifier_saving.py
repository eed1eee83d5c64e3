"""LSTMClassifier in skops files (its trust list is one type, as the
regressor's), and models fitted on NaN-padded sequences, saved and loaded."""

import numpy as np
import pytest

from sklstm import LSTMClassifier, LSTMRegressor

from ._helpers import fitted_weights

sio = pytest.importorskip("skops.io")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

#: The trust list of docs/saving.rst for a classifier.
TRUSTED = ["sklstm._classifier.LSTMClassifier"]


def _padded(n_samples=48, steps=6, n_features=2, seed=0):
    """Sequences of 2 to ``steps`` real steps, ended by NaN steps."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, steps, n_features))
    lengths = rng.integers(2, steps + 1, n_samples)
    X[np.arange(steps) >= lengths[:, None]] = np.nan
    return X


def _round_trip(model):
    data = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=data)
    return sio.loads(data, trusted=untrusted), untrusted


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["down", "up", "flat"]),
        np.array(["down", "up", "flat"], dtype=object),
        np.array([-1, 1]),
        "multilabel",
    ],
    ids=["strings", "objects", "integers", "multilabel"],
)
def test_classifier_round_trips_through_skops_with_its_trust_list(labels):
    X = _padded()
    if isinstance(labels, str):
        y = (np.nan_to_num(X[:, :2, 0]) > 0).astype(int)
        classes = None
    else:
        y = labels[np.arange(len(X)) % len(labels)]
        classes = labels
    model = LSTMClassifier(hidden_layer_sizes=3, max_iter=2, random_state=0)
    model.fit(X, y)
    loaded, untrusted = _round_trip(model)
    assert untrusted == TRUSTED
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    # Both continue alike: the same random stream and optimiser state.
    for estimator in (model, loaded):
        estimator.partial_fit(X[:24], y[:24], classes=classes)
    np.testing.assert_array_equal(fitted_weights(loaded), fitted_weights(model))


def test_regressor_fitted_on_padded_sequences_round_trips():
    X = _padded()
    y = np.nansum(X[:, :, 0], axis=1)
    model = LSTMRegressor(hidden_layer_sizes=3, max_iter=2, random_state=0)
    loaded, untrusted = _round_trip(model.fit(X, y))
    assert untrusted == ["sklstm._regressor.LSTMRegressor"]
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    model.partial_fit(X, y)
    loaded.partial_fit(X, y)
    np.testing.assert_array_equal(fitted_weights(loaded), fitted_weights(model))
