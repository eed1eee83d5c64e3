"""Quantile LSTMs (``loss="quantile"``) and conformal intervals with MAPIE.

The gradient of the pinball loss is checked against finite differences in
``test_network.py`` and against PyTorch in ``test_regressor.py``; here the
estimator's parameters, what its quantiles cover on held-out data, its early
stopping, and MAPIE's intervals around it.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import d2_pinball_score
from sklearn.pipeline import make_pipeline

from sklstm import LSTMRegressor, SequenceWindower

from ._helpers import assert_keeps_the_best_epoch

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

#: Offset and scale of the synthetic target, in "µg/m³": target scaling must
#: keep the quantile meaning of predictions in these units.
LEVEL, UNIT = 120.0, 40.0


def _heteroscedastic(n_rows, seed):
    """Time-ordered rows whose target's spread grows with the current value.

    ``y = LEVEL + UNIT * (x + (0.2 + 0.8 |x|) e)`` with ``x`` the row's
    first feature and ``e`` standard normal, so the ``q``-quantile of ``y``
    given the row is ``LEVEL + UNIT * (x + (0.2 + 0.8 |x|) z_q)``.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, 2))
    noise = (0.2 + 0.8 * np.abs(X[:, 0])) * rng.standard_normal(n_rows)
    return X, LEVEL + UNIT * (X[:, 0] + noise)


def _lstm(**params):
    defaults = dict(
        hidden_layer_sizes=16, learning_rate_init=0.003, max_iter=60, random_state=0
    )
    return LSTMRegressor(**{**defaults, **params})


def _forecaster(**params):
    """Rows → 4-row windows → LSTM, the way users meet MAPIE."""
    return make_pipeline(SequenceWindower(window=4), _lstm(**params))


@pytest.fixture(scope="module")
def data():
    """Train, calibration and test blocks, in this order (never shuffled)."""
    X, y = _heteroscedastic(9000, seed=0)
    return (X[:4000], y[:4000]), (X[4000:6000], y[4000:6000]), (X[6000:], y[6000:])


@pytest.fixture(scope="module")
def quantile_models(data):
    (X, y), _, _ = data
    return {
        q: _forecaster(loss="quantile", quantile=q).fit(X, y) for q in (0.1, 0.5, 0.9)
    }


def test_quantile_is_required_with_the_quantile_loss():
    X, y = _heteroscedastic(20, seed=1)
    with pytest.raises(ValueError, match=r"loss='quantile' needs .*quantile=0\.9"):
        LSTMRegressor(loss="quantile", max_iter=1).fit(X, y)


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error", "huber"])
def test_quantile_is_refused_with_other_losses(loss):
    X, y = _heteroscedastic(20, seed=1)
    model = LSTMRegressor(loss=loss, quantile=0.9, max_iter=1)
    with pytest.raises(ValueError, match="used only with loss='quantile'"):
        model.fit(X, y)
    assert not hasattr(model, "layers_")  # nothing fitted, nothing recorded
    assert not hasattr(model, "n_features_in_")


@pytest.mark.parametrize("quantile", [0.0, 1.0, -0.5, 2, "0.9"])
def test_quantile_outside_the_open_unit_interval_is_refused(quantile):
    X, y = _heteroscedastic(20, seed=1)
    with pytest.raises(ValueError, match="quantile"):
        LSTMRegressor(loss="quantile", quantile=quantile, max_iter=1).fit(X, y)


def test_quantile_round_trips_through_clone():
    model = LSTMRegressor(loss="quantile", quantile=0.25)
    assert clone(model).get_params()["quantile"] == 0.25
    assert model.set_params(quantile=0.75).quantile == 0.75


@pytest.mark.parametrize("quantile, low, high", [(0.9, 0.86, 0.94), (0.1, 0.06, 0.14)])
@pytest.mark.slow
def test_quantile_models_cover_their_share_of_new_points(
    data, quantile_models, quantile, low, high
):
    *_, (X_test, y_test) = data
    covered = np.mean(y_test <= quantile_models[quantile].predict(X_test))
    assert low <= covered <= high, covered


@pytest.mark.slow
def test_quantiles_follow_the_spread_of_the_target(data, quantile_models):
    """The band is wide where |x| is large, narrow where it is small: the
    model learnt the conditional quantiles, not one constant offset."""
    *_, (X_test, _) = data
    width = quantile_models[0.9].predict(X_test) - quantile_models[0.1].predict(X_test)
    calm = np.abs(X_test[:, 0]) < 0.3
    wild = np.abs(X_test[:, 0]) > 1.5
    # True width 2 * 1.28 * UNIT * (0.2 + 0.8 |x|): a median ratio near 5
    # between the two groups; one constant offset would give 1.
    assert np.median(width[wild]) > 3 * np.median(width[calm])
    assert np.mean(width > 0) > 0.99


def test_early_stopping_scores_quantiles_with_the_pinball_loss():
    X, y = _heteroscedastic(1500, seed=2)
    X = SequenceWindower(window=4).fit_transform(X)
    model = _lstm(
        loss="quantile", quantile=0.8, early_stopping=True, validation_fraction=0.3,
        max_iter=15, n_iter_no_change=3,
    ).fit(X, y)  # fmt: skip
    held_out = slice(len(X) - int(np.ceil(0.3 * len(X))), None)
    # The best weights are restored: their score is the best one recorded.
    expected = d2_pinball_score(y[held_out], model.predict(X[held_out]), alpha=0.8)
    assert model.best_validation_score_ == pytest.approx(expected, rel=1e-5)
    assert_keeps_the_best_epoch(model, X, y, slice(0, held_out.start), rtol=1e-5)


@pytest.mark.slow
def test_target_scaling_keeps_the_quantile(data):
    """Scaled or not, a q = 0.9 model puts ~90 % of the targets below it."""
    (X, y), _, (X_test, y_test) = data
    unscaled = _forecaster(
        loss="quantile", quantile=0.9, scale_target=False, learning_rate_init=0.05
    )
    covered = np.mean(y_test <= unscaled.fit(X, y).predict(X_test))
    assert 0.86 <= covered <= 0.94, covered


@pytest.mark.slow
def test_mapie_conformalized_quantile_regressor(data, quantile_models):
    regression = pytest.importorskip("mapie.regression")
    _, (X_cal, y_cal), (X_test, y_test) = data
    # FrozenEstimator, scikit-learn's wrapper of a fitted model: MAPIE 1.6
    # probes a bare Pipeline's last step with a 2-D row, which the LSTM
    # refuses (it reads windows); through the wrapper it probes the whole
    # pipeline, which windows the row.
    estimators = [FrozenEstimator(quantile_models[q]) for q in (0.1, 0.9, 0.5)]
    mapie = regression.ConformalizedQuantileRegressor(
        estimators, confidence_level=0.8, prefit=True
    )
    mapie.conformalize(X_cal, y_cal)
    _, bounds = mapie.predict_interval(X_test)
    lower, upper = bounds[:, 0, 0], bounds[:, 1, 0]
    covered = np.mean((lower <= y_test) & (y_test <= upper))
    assert 0.77 <= covered <= 0.83, covered
    assert np.all(upper >= lower)


@pytest.mark.slow
def test_mapie_split_conformal_around_a_point_lstm(data):
    regression = pytest.importorskip("mapie.regression")
    (X, y), (X_cal, y_cal), (X_test, y_test) = data
    point = _forecaster().fit(X, y)
    mapie = regression.SplitConformalRegressor(
        FrozenEstimator(point), confidence_level=0.8
    )
    mapie.conformalize(X_cal, y_cal)
    y_pred, bounds = mapie.predict_interval(X_test)
    np.testing.assert_array_equal(y_pred, point.predict(X_test))
    covered = np.mean((bounds[:, 0, 0] <= y_test) & (y_test <= bounds[:, 1, 0]))
    assert 0.77 <= covered <= 0.83, covered
