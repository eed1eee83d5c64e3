"""Protocol P of the Beijing study: its periods and folds, the data it
refuses, its targets and rows, how the LSTM is fitted on them, and the
naive baselines."""

import re

import numpy as np
import pandas as pd
import pytest

from sklstm import LSTMRegressor
from sklstm.beijing._models import (
    fit_columns,
    fit_lstm,
    lstm_columns,
    lstm_pipeline,
    persistence,
    seasonal_naive,
)
from sklstm.beijing._protocol import (
    FEATURES,
    FULL,
    QUICK,
    WINDOW,
    Period,
    check_values,
    fill_gaps,
    history_start,
    rows_in,
    target_times,
    targets,
)


def test_protocol_boundaries():
    assert FULL.train.first == pd.Timestamp("2010-01-01 00:00")
    assert FULL.train.last == pd.Timestamp("2012-12-31 23:00")
    assert FULL.validation.first == pd.Timestamp("2013-01-01 00:00")
    assert FULL.validation.last == pd.Timestamp("2013-12-31 23:00")
    assert FULL.test.first == pd.Timestamp("2014-01-01 00:00")
    assert FULL.test.last == pd.Timestamp("2014-12-31 23:00")
    for protocol in (FULL, QUICK):
        assert protocol.train.last < protocol.validation.first
        assert protocol.validation.last < protocol.test.first


def test_the_folds_of_the_rolling_origin():
    earlier = FULL.year_earlier()
    assert earlier.train == Period.between("2010-01-01 00:00", "2011-12-31 23:00")
    assert earlier.validation == Period.between("2012-01-01 00:00", "2012-12-31 23:00")
    assert earlier.test == FULL.validation
    assert earlier.plot_start == pd.Timestamp("2013-02-12 00:00")
    assert FULL.fold(2014) == FULL
    assert FULL.fold(2013) == earlier
    first = FULL.fold(2012)
    assert first.train == Period.between("2010-01-01 00:00", "2010-12-31 23:00")
    assert first.validation == Period.between("2011-01-01 00:00", "2011-12-31 23:00")
    assert first.test == Period.between("2012-01-01 00:00", "2012-12-31 23:00")
    assert QUICK.fold(2012).train == Period.between(
        "2010-09-01 00:00", "2010-12-31 23:00"
    )
    for year in (2011, 2015):
        with pytest.raises(ValueError, match="from 2012 to 2014"):
            FULL.fold(year)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("temp", np.inf, "Column 'temp' of the Beijing data holds 1 infinite"),
        ("press", 1e300, "Column 'press' of the Beijing data holds 1e+300"),
        ("pollution", np.nan, "Column 'pollution' of the Beijing data is measured"),
    ],
)
def test_data_a_study_cannot_use_is_refused_by_name(frame, column, value, message):
    raw = frame.copy()
    if np.isnan(value):  # one measured value left
        raw.iloc[1:, raw.columns.get_loc(column)] = np.nan
    else:
        raw.iloc[100, raw.columns.get_loc(column)] = value
    with pytest.raises(ValueError, match=re.escape(message)):
        check_values(raw)
    assert check_values(frame) is frame


def test_fill_gaps_interpolates_in_time_and_backfills_the_start():
    index = pd.date_range("2014-01-01", periods=6, freq="h")
    data = pd.DataFrame(
        {"pollution": [np.nan, np.nan, 10.0, np.nan, 30.0, 40.0]}, index=index
    )
    filled = fill_gaps(data)
    np.testing.assert_allclose(filled["pollution"], [10, 10, 10, 20, 30, 40])
    assert data["pollution"].isna().sum() == 3  # the input is left alone


def test_fill_gaps_on_the_data_set(frame):
    assert not frame.isna().any().any()
    assert list(frame.columns) == list(FEATURES)
    assert len(frame) == 43_824


@pytest.mark.parametrize("horizon", [1, 6, 24])
def test_rows_belong_to_the_period_of_their_target(frame, horizon):
    times = target_times(frame.index, horizon)
    for period, n_hours in [(FULL.train, 26_304), (FULL.validation, 8_760),
                            (FULL.test, 8_760)]:  # fmt: skip
        rows = rows_in(period, frame.index, horizon)
        # No target from outside its period, and every hour of it targeted.
        # (The data start on the train period's first hour: nothing targets it.)
        gap = horizon if period is FULL.train else 0
        assert times[rows].min() == period.first + pd.Timedelta(hours=gap)
        assert times[rows].max() == period.last
        assert rows.sum() == n_hours - gap
    test = rows_in(FULL.test, frame.index, horizon)
    first = frame.index[test][0]
    assert first == FULL.test.first - pd.Timedelta(hours=horizon)
    # The test windows reach back into 2013 for their past.
    start = history_start(test)
    assert frame.index[start] == first - pd.Timedelta(hours=WINDOW - 1)
    assert frame.index[start].year == 2013


def test_targets_are_pollution_h_hours_later(frame):
    y = targets(frame, (1, 24))
    assert list(y.columns) == ["pollution_h1", "pollution_h24"]
    pollution = frame["pollution"].to_numpy()
    np.testing.assert_array_equal(y["pollution_h1"].to_numpy()[:-1], pollution[1:])
    np.testing.assert_array_equal(y["pollution_h24"].to_numpy()[:-24], pollution[24:])
    assert y["pollution_h1"].isna().sum() == 1
    assert y["pollution_h24"].isna().sum() == 24


class _RecordingLSTM(LSTMRegressor):
    """An LSTMRegressor that keeps what its ``fit`` was given."""

    def fit(self, X, y, sample_weight=None, **validation):
        self.fit_X_, self.fit_y_ = np.asarray(X), np.asarray(y)
        self.fit_sample_weight_ = np.asarray(sample_weight)
        self.fit_validation_ = validation
        return super().fit(X, y, sample_weight=sample_weight, **validation)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_lstm_fit_scales_on_train_and_validates_on_the_next_period(frame):
    features = FEATURES
    columns = fit_columns(lstm_columns(features), frame, QUICK, features)
    model = lstm_pipeline(columns, hidden_layer_sizes=4, max_iter=1,
                          early_stopping=True, random_state=0)  # fmt: skip
    model.steps[-1] = ("lstm", _RecordingLSTM(**model[-1].get_params()))
    horizons = (1, 24)
    y = targets(frame, horizons)
    fit_lstm(model, frame, y, QUICK, features, horizons)

    # Scalers: fitted on the rows of the train period, and only those.
    scaler = model["columns"].named_transformers_["scale"]
    in_train = QUICK.train.contains(frame.index)
    assert scaler.n_samples_seen_ == in_train.sum()
    numeric = [name for name in features if name != "wnd_dir"]
    np.testing.assert_allclose(scaler.mean_, frame.loc[in_train, numeric].mean())

    lstm = model[-1]
    weight = lstm.fit_sample_weight_
    n_rows = len(weight)
    # The rows given: from 23 hours of history before the first train row to
    # the last row before the validation period, in time order.
    trained = rows_in(QUICK.train, frame.index, horizons)
    validated = rows_in(QUICK.validation, frame.index, horizons)
    start = history_start(trained)
    rows = np.arange(start, start + n_rows)
    # (The first train row is the first whose targets all fall in the period.)
    first_trained = QUICK.train.first - pd.Timedelta(hours=min(horizons))
    assert frame.index[start] == first_trained - pd.Timedelta(hours=WINDOW - 1)
    assert rows[-1] + 1 == np.flatnonzero(validated)[0]
    # Weighted rows have all their targets inside the train period.
    used = rows[weight > 0]
    for horizon in horizons:
        assert QUICK.train.contains(target_times(frame.index, horizon)[used]).all()
    np.testing.assert_array_equal(weight > 0, trained[rows])
    # Weighted rows train on their true targets, at every horizon.
    np.testing.assert_array_equal(
        lstm.fit_y_[weight > 0], y.to_numpy()[rows][weight > 0]
    )
    # History rows only lend their past.
    assert (weight[: WINDOW - 1] == 0).all()
    # The windows are the transformed rows, with their true past.
    np.testing.assert_allclose(
        lstm.fit_X_[WINDOW - 1, :, :],
        columns.transform(frame.iloc[start : start + WINDOW][list(features)]),
    )
    # Early stopping scores exactly the validation period's rows, windowed
    # from their true past (the end of the train period) with the train
    # period's scaling.
    X_val, y_val = lstm.fit_validation_["X_val"], lstm.fit_validation_["y_val"]
    first = np.flatnonzero(validated)[0]
    assert len(X_val) == len(y_val) == validated.sum()
    np.testing.assert_array_equal(y_val, y.to_numpy()[validated])
    np.testing.assert_allclose(
        X_val[0], columns.transform(frame.iloc[first - WINDOW + 1 : first + 1])
    )


@pytest.mark.parametrize("horizon", [1, 6, 24])
def test_persistence_forecasts_the_target_by_the_value_h_hours_before(horizon):
    index = pd.date_range("2014-01-01", periods=60, freq="h")
    steps = np.arange(60.0)
    toy = pd.DataFrame({"pollution": steps**2}, index=index)
    value = toy["pollution"].to_numpy()
    y = targets(toy, [horizon])[f"pollution_h{horizon}"].to_numpy()
    forecast = persistence(value, horizon)
    rows = np.arange(len(index) - horizon)
    # Row t forecasts y[t] = value[t + h], due at target_times(t), by the value
    # h hours before that time: (t + h)² - t² = 2th + h² off.
    due = target_times(index, horizon)[rows]
    known = toy["pollution"].reindex(due - pd.Timedelta(hours=horizon))
    np.testing.assert_array_equal(forecast[rows], known.to_numpy())
    np.testing.assert_array_equal(
        y[rows] - forecast[rows], 2 * steps[rows] * horizon + horizon**2
    )


@pytest.mark.parametrize("horizon, lag", [(1, 23), (6, 18), (24, 0), (30, 18)])
def test_seasonal_naive_is_the_value_at_t_plus_h_minus_24(horizon, lag):
    series = np.arange(100.0) ** 2
    forecast = seasonal_naive(series, horizon)
    assert np.isnan(forecast[:lag]).all()
    np.testing.assert_array_equal(forecast[lag:], series[: len(series) - lag])
    # The forecast issued at t for t + h is the value 24 hours before t + h
    # (48 hours before, for horizons past a day).
    t = 60
    assert forecast[t] == series[t + horizon - 24 * (1 + (horizon > 24))]
