"""LSTMClassifier's class_weight: weights that cannot train are refused by
name, and "balanced" counts the samples by their weights."""

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_sample_weight

from sklstm import LSTMClassifier

from ._helpers import fitted_weights

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(n_samples=30, seed=0):
    X = np.random.default_rng(seed).standard_normal((n_samples, 4, 2))
    return X, np.arange(n_samples) % 3


def _model(**params):
    settings = dict(hidden_layer_sizes=3, max_iter=3, random_state=0, dtype="float64")
    return LSTMClassifier(**{**settings, **params})


@pytest.mark.parametrize(
    "class_weight, match",
    [
        ({0: 0, 1: 0, 2: 0}, r"class_weight=.* gives every sample of y a zero weight"),
        ({0: 0.0, 1: 0.0, 2: 1.0, 3: 5.0}, "gives every sample"),
        ({0: np.nan, 1: 1, 2: 1}, r"class_weight must map .* got \{0: nan\}"),
        ({0: np.inf, 1: 1, 2: 1}, r"class_weight must map .* got \{0: inf\}"),
        ({0: -1.0, 1: 1, 2: 1}, r"class_weight must map .* >= 0"),
        ({0: "heavy", 1: 1, 2: 1}, "class_weight must map"),
    ],
    ids=["all-zero", "zero-for-the-classes-of-y", "nan", "inf", "negative", "text"],
)
def test_weights_that_cannot_train_are_refused_by_name(class_weight, match):
    X, y = _data()
    if len(class_weight) == 4:  # the only weighted class is absent from y
        y = y % 2
    with pytest.raises(ValueError, match=match):
        _model(class_weight=class_weight).fit(X, y)
    with pytest.raises(ValueError, match=match):
        _model(class_weight=class_weight).partial_fit(X, y, classes=[0, 1, 2, 3])


def test_a_dict_for_multilabel_y_is_refused_with_advice_that_works():
    X, y = _data()
    Y = np.column_stack([y == 0, y == 1]).astype(int)
    with pytest.raises(ValueError, match="label indicator matrix") as error:
        _model(class_weight={0: 1.0, 1: 2.0}).fit(X, Y)
    message = str(error.value)
    assert "list of dicts" not in message
    assert "class_weight='balanced'" in message and "class_weight=None" in message
    # Each way out that the message names is accepted.
    balanced = _model(class_weight="balanced").fit(X, Y)
    expected = _model().fit(X, Y, sample_weight=compute_sample_weight("balanced", Y))
    np.testing.assert_array_equal(fitted_weights(balanced), fitted_weights(expected))
    _model(class_weight=None).fit(X, Y, sample_weight=np.where(Y[:, 0], 2.0, 1.0))


@pytest.mark.parametrize("multilabel", [False, True], ids=["multiclass", "multilabel"])
def test_balanced_weights_count_samples_by_their_weight(multilabel):
    """Integer sample weights (zeros included) give the model of the rows
    repeated that many times, with class_weight="balanced" too."""
    X, y = _data(n_samples=36, seed=1)
    y = np.where(np.arange(36) < 24, 0, y)  # class 0 the most frequent
    if multilabel:
        y = np.column_stack([y == 0, y == 2]).astype(int)
    repeats = np.random.default_rng(2).integers(0, 4, len(X))
    params = dict(class_weight="balanced", batch_size=200, shuffle=False)
    weighted = _model(**params).fit(X, y, sample_weight=repeats)
    repeated = _model(**params).fit(
        np.repeat(X, repeats, axis=0), np.repeat(y, repeats, axis=0)
    )
    np.testing.assert_allclose(
        fitted_weights(weighted), fitted_weights(repeated), rtol=1e-9, atol=1e-12
    )
    unweighted = _model(**params).fit(X, y)
    assert np.abs(fitted_weights(unweighted) - fitted_weights(weighted)).max() > 1e-6


def test_a_dict_weighs_the_classes_missing_from_a_partial_fit_call():
    """partial_fit weighs a call's classes from the whole classes list, so a
    call without some class gives each of its samples the same weight."""
    X, y = _data()
    weights = {0: 3.0, 2: 0.5}  # class 1 weighs 1
    by_class = _model(class_weight=weights).partial_fit(
        X[y != 2], y[y != 2], classes=[0, 1, 2]
    )
    by_sample = _model().partial_fit(
        X[y != 2], y[y != 2], classes=[0, 1, 2],
        sample_weight=np.where(y[y != 2] == 0, 3.0, 1.0),
    )  # fmt: skip
    np.testing.assert_array_equal(fitted_weights(by_class), fitted_weights(by_sample))
