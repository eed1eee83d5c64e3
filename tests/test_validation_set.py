"""Early stopping on a validation set given to ``fit`` (``X_val``,
``y_val``, ``sample_weight_val``), as ``HistGradientBoostingRegressor.fit``
takes one: it scores those rows as a split would score the same rows held
out last, the rules and errors are scikit-learn's, and ``X_val`` is read
as ``X`` is."""

from functools import partial

import numpy as np
import pytest
import sklearn
from sklearn.metrics import accuracy_score, r2_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklstm import LSTMClassifier, LSTMRegressor, SequenceWindower
from sklstm._validation_split import fraction_holding_out

from ._helpers import fitted_weights, sequences

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _model(estimator, **params):
    """``estimator`` with early stopping, seeded, in float64."""
    settings = dict(
        early_stopping=True, learning_rate_init=0.05, random_state=0, dtype="float64"
    )
    return estimator(**{**settings, **params})


_regressor = partial(
    _model,
    LSTMRegressor,
    hidden_layer_sizes=5,
    max_iter=12,
    n_iter_no_change=4,
    batch_size=16,
)
_classifier = partial(_model, LSTMClassifier, hidden_layer_sizes=4, max_iter=8)


def _labels(X):
    return np.where(X[:, -1, 0] + 0.5 * X[:, 0, 1] > 0, "up", "down")


def _pad(X, n_steps):
    """``X`` with its last ``n_steps`` steps of every other row NaN."""
    X = X.copy()
    X[::2, X.shape[1] - n_steps :] = np.nan
    return X


@pytest.mark.parametrize("padded", [False, True], ids=["whole", "nan-padded"])
def test_the_validation_set_is_scored_as_the_same_rows_held_out_last(padded):
    X, y = sequences(100)
    if padded:
        X = _pad(X, 2)
    weights = np.linspace(0.5, 1.5, 100)
    given = _regressor().fit(
        X[:80],
        y[:80],
        weights[:80],
        X_val=X[80:],
        y_val=y[80:],
        sample_weight_val=weights[80:],
    )
    split = _regressor(validation_fraction=fraction_holding_out(20, 100))
    split.fit(X, y, weights)
    assert len(given.validation_scores_) == given.n_iter_ > 1
    np.testing.assert_allclose(
        given.validation_scores_, split.validation_scores_, rtol=1e-10
    )
    np.testing.assert_allclose(fitted_weights(given), fitted_weights(split), rtol=1e-10)
    assert given.target_mean_ == pytest.approx(np.average(y[:80], weights=weights[:80]))
    # The kept weights are those of the best epoch on the given rows.
    best = r2_score(y[80:], given.predict(X[80:]), sample_weight=weights[80:])
    assert best == pytest.approx(given.best_validation_score_, abs=1e-9)


def test_the_validation_set_replaces_the_split_whatever_validation_fraction():
    X, y = sequences(100)
    fits = [
        _regressor(validation_fraction=fraction).fit(
            X[:80], y[:80], X_val=X[80:], y_val=y[80:]
        )
        for fraction in (0.1, 0.5)
    ]
    np.testing.assert_allclose(
        fits[0].validation_scores_, fits[1].validation_scores_, rtol=1e-10
    )
    # All of X trained: the target scaling is that of its 80 rows.
    assert fits[0].target_mean_ == pytest.approx(y[:80].mean())


def test_flattened_rows_take_a_flattened_validation_set():
    X, y = sequences(100, steps=4)
    flat = X.reshape(100, -1)
    windows = _regressor().fit(X[:80], y[:80], X_val=X[80:], y_val=y[80:])
    rows = _regressor(n_timesteps=4).fit(
        flat[:80], y[:80], X_val=flat[80:], y_val=y[80:]
    )
    np.testing.assert_allclose(
        rows.validation_scores_, windows.validation_scores_, rtol=1e-10
    )


def test_sample_weight_val_weighs_the_validation_score():
    X, y = sequences(100)
    weights = np.r_[np.ones(10), np.full(10, 5.0)]
    model = _regressor().fit(
        X[:80], y[:80], X_val=X[80:], y_val=y[80:], sample_weight_val=weights
    )
    unweighted = r2_score(y[80:], model.predict(X[80:]))
    weighted = r2_score(y[80:], model.predict(X[80:]), sample_weight=weights)
    assert weighted != pytest.approx(unweighted, abs=1e-6)
    assert model.best_validation_score_ == pytest.approx(weighted, abs=1e-9)


def test_sample_weight_val_alone_is_ignored_as_scikit_learn_does():
    X, y = sequences(60)
    model = _regressor(early_stopping=False, max_iter=2)
    alone = model.fit(X, y, sample_weight_val=np.zeros(7)).predict(X)
    np.testing.assert_allclose(alone, model.fit(X, y).predict(X), rtol=1e-12)


def test_the_classifier_scores_its_validation_set():
    X, _ = sequences(160)
    y = _labels(X)
    weights = np.where(y[120:] == "up", 3.0, 1.0)
    model = _classifier().fit(
        X[:120], y[:120], X_val=X[120:], y_val=y[120:], sample_weight_val=weights
    )
    assert len(model.validation_scores_) == model.n_iter_
    accuracy = accuracy_score(y[120:], model.predict(X[120:]), sample_weight=weights)
    assert model.best_validation_score_ == pytest.approx(accuracy, abs=1e-12)


def test_the_classifier_takes_a_validation_set_of_some_classes_only():
    X, _ = sequences(160)
    y = np.array(["a", "b", "c"])[np.arange(160) % 3]
    val = y[120:] != "c"
    model = _classifier(max_iter=2).fit(
        X[:120], y[:120], X_val=X[120:][val], y_val=y[120:][val]
    )
    accuracy = accuracy_score(y[120:][val], model.predict(X[120:][val]))
    assert model.best_validation_score_ == pytest.approx(accuracy, abs=1e-12)


def test_a_pipeline_transforms_the_validation_set_as_x():
    """``transform_input`` windows ``X_val`` as ``X``: a validation period
    given with the ``window - 1`` rows before it at weight 0 (their windows
    lack the past) scores as the split that holds out that period last."""
    rng = np.random.default_rng(0)
    table = rng.standard_normal((130, 2))
    y = table[:, 0] + np.r_[0.0, table[:-1, 1]]
    window = 3
    history = np.r_[np.zeros(window - 1), np.ones(30)]

    def pipeline(model, **params):
        steps = [("window", SequenceWindower(window=window)), ("lstm", model)]
        return Pipeline(steps, **params)

    with sklearn.config_context(enable_metadata_routing=True):
        model = _regressor(max_iter=4).set_fit_request(
            X_val=True, y_val=True, sample_weight_val=True
        )
        given = pipeline(model, transform_input=["X_val"]).fit(
            table[:100],
            y[:100],
            X_val=table[100 - window + 1 :],
            y_val=y[100 - window + 1 :],
            sample_weight_val=history,
        )
    split = pipeline(
        _regressor(max_iter=4, validation_fraction=fraction_holding_out(30, 130))
    ).fit(table, y)
    np.testing.assert_allclose(
        given[-1].validation_scores_, split[-1].validation_scores_, rtol=1e-10
    )
    assert given[-1].n_iter_ == 4


def test_a_scaler_in_the_pipeline_transforms_x_val_as_fitted_on_x():
    rng = np.random.default_rng(0)
    table = rng.standard_normal((130, 2)) * [1.0, 5.0] + [0.0, 3.0]
    y = table[:, 0] + np.r_[0.0, table[:-1, 1]]
    with sklearn.config_context(enable_metadata_routing=True):
        model = _regressor(max_iter=4).set_fit_request(X_val=True, y_val=True)
        steps = [
            ("scale", StandardScaler()),
            ("window", SequenceWindower(window=3)),
            ("lstm", model),
        ]
        pipe = Pipeline(steps, transform_input=["X_val"])
        pipe.fit(table[:100], y[:100], X_val=table[100:], y_val=y[100:])
    best = r2_score(y[100:], pipe.predict(table[100:]))
    assert pipe[-1].best_validation_score_ == pytest.approx(best, abs=1e-9)


# --- misuse: scikit-learn's errors, and X_val read as X ----------------------


@pytest.mark.parametrize(
    "given, match",
    [
        ("X_val", "X_val is provided, but y_val was not provided."),
        ("y_val", "y_val is provided, but X_val was not provided."),
    ],
)
def test_one_of_x_val_and_y_val_alone_is_refused(given, match):
    X, y = sequences(60)
    validation = {"X_val": X[50:], "y_val": y[50:]}
    with pytest.raises(ValueError, match=match):
        _regressor().fit(X[:50], y[:50], **{given: validation[given]})


def test_a_validation_set_without_early_stopping_is_refused():
    X, y = sequences(60)
    with pytest.raises(ValueError, match="early_stopping is False"):
        _regressor(early_stopping=False).fit(X[:50], y[:50], X_val=X[50:], y_val=y[50:])


def _misused():
    X, y = sequences(60)
    nan = X[50:].copy()
    nan[0, 1, 0] = np.nan  # a NaN step that real steps follow
    return (
        X,
        y,
        [
            ({"X_val": X[50:, :, :2]}, "features"),
            ({"X_val": X[50:, :3]}, "time steps"),
            ({"X_val": nan}, "NaN"),
            ({"X_val": X[50:, -1]}, "steps"),
            ({"X_val": X[50:51], "y_val": y[50:51]}, "at least 2"),
            ({"y_val": y[50:59]}, "inconsistent numbers of samples"),
            ({"y_val": np.c_[y[50:], y[50:]]}, "y_val has 2 output"),
            ({"sample_weight_val": np.zeros(10)}, "sample_weight_val: .*non-zero"),
            ({"sample_weight_val": np.ones(3)}, "sample_weight_val: "),
        ],
    )


@pytest.mark.parametrize("case", range(len(_misused()[2])))
def test_a_validation_set_not_read_as_x_is_refused(case):
    X, y, cases = _misused()
    changes, match = cases[case]
    validation = {"X_val": X[50:], "y_val": y[50:], **changes}
    model = _regressor()
    with pytest.raises(ValueError, match=match):
        model.fit(X[:50], y[:50], **validation)
    assert not hasattr(model, "n_features_in_")  # a fit that raises changes nothing


@pytest.mark.parametrize(
    "y_val, match",
    [
        (np.array(["up", "sideways"] * 5), r"y_val has labels \['sideways'\]"),
        (np.eye(2, dtype=int)[np.arange(10) % 2], "label indicator matrix"),
        (np.linspace(0, 1, 10), "Unknown label type"),
    ],
    ids=["unknown-label", "indicator", "continuous"],
)
def test_the_classifier_refuses_a_y_val_outside_its_classes(y_val, match):
    X, _ = sequences(60)
    with pytest.raises(ValueError, match=match):
        _classifier().fit(X[:50], _labels(X[:50]), X_val=X[50:], y_val=y_val)
