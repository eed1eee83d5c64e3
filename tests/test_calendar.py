"""CalendarFeatures: cycles as sine/cosine pairs, from every place time is kept."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklstm import CalendarFeatures, SequenceWindower


def angles(features):
    """The angle of each sine/cosine pair of ``features``, in [0, 2π)."""
    return np.arctan2(features[:, 0::2], features[:, 1::2]) % (2 * np.pi)


def test_angles_of_known_times():
    times = pd.DatetimeIndex(
        [
            "2014-01-06 00:00",  # a Monday, the first hour of day 6
            "2014-01-01 06:00",  # a Wednesday
            "2014-07-02 12:30",  # day 183 of 365
            "2012-12-31 00:00",  # day 366 of a leap year
        ]
    )
    features = CalendarFeatures().fit_transform(pd.DataFrame(index=times))
    assert features.shape == (4, 6)
    full = 2 * np.pi
    expected = [
        [0.0, 0.0, full * 5 / 365],
        [full / 4, full * (2 + 0.25) / 7, full * 0.25 / 365],
        [full * 12.5 / 24, full * (2 + 0.5) / 7, full * (182 + 0.5) / 365],
        [0.0, 0.0, full * 365 / 366],
    ]
    np.testing.assert_allclose(angles(features), expected, atol=1e-12)
    np.testing.assert_allclose(features[:, 0::2] ** 2 + features[:, 1::2] ** 2, 1.0)


def test_the_end_of_a_cycle_meets_its_start():
    times = pd.date_range("2014-12-31 22:00", periods=3, freq="h")
    features = CalendarFeatures().fit_transform(pd.Series(0.0, index=times))
    steps = np.linalg.norm(np.diff(features, axis=0), axis=1)
    # 22:00 → 23:00 → 00:00 on 1 January: equal small steps, no jump.
    np.testing.assert_allclose(steps[0], steps[1], rtol=1e-6)


@pytest.mark.parametrize(
    "source",
    ["index", "named column", "one column", "series", "datetime index", "array"],
)
def test_timestamps_are_read_wherever_they_are(source):
    times = pd.date_range("2014-03-01", periods=30, freq="7h")
    frame = pd.DataFrame({"temp": np.arange(30.0), "time": times})
    X, time = {
        "index": (frame.set_index("time"), None),
        "named column": (frame, "time"),
        "one column": (frame[["time"]], None),
        "series": (frame["time"], None),
        "datetime index": (times, None),
        "array": (times.to_numpy()[:, None], None),
    }[source]
    features = CalendarFeatures(time=time).fit_transform(X)
    expected = CalendarFeatures().fit_transform(pd.DataFrame(index=times))
    np.testing.assert_array_equal(features, expected)


def test_calendar_columns_known_ahead_in_a_pipeline():
    # y is the hour-of-day cycle two hours ahead: only known-ahead calendar
    # columns give it, exactly, to a linear model.
    times = pd.date_range("2014-01-01", periods=200, freq="h")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"pm": rng.standard_normal(200), "time": times})
    y = np.sin(2 * np.pi * ((times.hour + 2) % 24) / 24)
    columns = ColumnTransformer(
        [
            ("scale", StandardScaler(), ["pm"]),
            ("calendar", CalendarFeatures(features=["hour"]), ["time"]),
        ],
        verbose_feature_names_out=False,
    )
    windower = SequenceWindower(
        window=3, known_ahead=["hour_sin", "hour_cos"], lead=2, flatten=True
    )
    model = make_pipeline(columns, windower, LinearRegression())
    # Trained on 148 observed rows, the 2 after them lending their time.
    trained = pd.concat([frame.iloc[:148], frame.iloc[148:150].assign(pm=np.nan)])
    model.set_output(transform="pandas").fit(trained, y[:148])
    assert "hour_sin_lead2" in model[:-1].get_feature_names_out()
    # Two future rows appended: pm unknown, the time known.
    future = frame.iloc[150:152].assign(pm=np.nan)
    forecast = model.predict(pd.concat([frame.iloc[:150], future]))
    assert forecast.shape == (150,)
    np.testing.assert_allclose(forecast[100:], y[100:150], atol=1e-8)


def test_pandas_output_has_the_feature_names():
    times = pd.date_range("2014-01-01", periods=5, freq="h")
    calendar = CalendarFeatures(features=["day_of_week", "hour"])
    out = calendar.set_output(transform="pandas").fit_transform(
        pd.DataFrame({"x": np.ones(5)}, index=times)
    )
    assert list(out.columns) == [
        "day_of_week_sin", "day_of_week_cos", "hour_sin", "hour_cos",
    ]  # fmt: skip
    assert out.index.equals(times)


@pytest.mark.parametrize(
    "params, X, match",
    [
        (dict(features=["minute"]), None, r"features=\['minute'\].*'hour'"),
        (dict(features=["hour", "hour"]), None, "each once"),
        (dict(features=[]), None, "each once"),
        (dict(time="when"), None, "time='when'.*no such column"),
        ({}, pd.DataFrame({"a": [1.0], "b": [2.0]}), "no DatetimeIndex"),
        (
            {},
            pd.DataFrame({"t": ["2014-01-01"]}),
            r"reads datetimes, got values of dtype .*to_datetime",
        ),
        (
            {},
            pd.DataFrame({"t": pd.to_datetime(["2014-01-01", None])}),
            r"NaT\) at row 1",
        ),
    ],
)
def test_bad_input_is_named(params, X, match):
    if X is None:
        X = pd.DataFrame(index=pd.date_range("2014-01-01", periods=3, freq="h"))
    with pytest.raises(ValueError, match=match):
        CalendarFeatures(**params).fit(X)
