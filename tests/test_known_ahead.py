"""SequenceWindower with known-ahead columns: look-ahead, future rows, errors."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklstm import SequenceWindower


@st.composite
def tables_with_known_columns(draw):
    """A float table, a window, a lead, and a non-empty set of known columns."""
    window = draw(st.integers(1, 5))
    lead = draw(st.integers(1, 4))
    n_rows = draw(st.integers(1, 3 * (window + lead)))
    n_features = draw(st.integers(1, 4))
    X = draw(arrays(np.float64, (n_rows, n_features), elements=st.floats(-1e6, 1e6)))
    known = draw(
        st.lists(
            st.integers(0, n_features - 1), min_size=1, max_size=n_features, unique=True
        )
    )
    return X, window, lead, sorted(known)


def reference(X, window, lead, known, padding):
    """The 3-D windows written as a loop over rows and steps."""
    n_rows, n_features = X.shape
    windows = np.zeros((n_rows, window + lead, n_features + 1))
    for t in range(n_rows):
        for k in range(window):
            source = t - window + 1 + k
            if source >= 0:
                windows[t, k, :n_features] = X[source]
            elif padding == "edge":
                windows[t, k, :n_features] = X[0]
        for j in range(1, lead + 1):
            source = t + j
            if source < n_rows:
                windows[t, window + j - 1, known] = X[source, known]
            elif padding == "edge":
                windows[t, window + j - 1, known] = X[-1, known]
            windows[t, window + j - 1, -1] = 1.0
    return windows


def test_windows_of_a_hand_built_example():
    # Column "temp" is past-only; "hour" is known ahead.
    X = pd.DataFrame({"temp": [1.0, 2.0, 3.0, 4.0], "hour": [10.0, 11.0, 12.0, 13.0]})
    windower = SequenceWindower(window=2, known_ahead=["hour"], lead=2).fit(X)
    windows = windower.transform(X)
    assert windows.shape == (4, 4, 3)
    np.testing.assert_array_equal(
        windows[1],
        [
            [1.0, 10.0, 0.0],  # row 0
            [2.0, 11.0, 0.0],  # row 1, the issue time
            [0.0, 12.0, 1.0],  # row 2: the hour only, flagged as future
            [0.0, 13.0, 1.0],  # row 3
        ],
    )
    # Row 3's look-ahead runs past the end: the last row is repeated.
    np.testing.assert_array_equal(windows[3, 2:], [[0.0, 13.0, 1.0]] * 2)
    flat = SequenceWindower(window=2, known_ahead=["hour"], lead=2, flatten=True).fit(X)
    assert list(flat.get_feature_names_out()) == [
        "temp_lag1", "hour_lag1", "temp_lag0", "hour_lag0",
        "hour_lead1", "hour_lead2",
    ]  # fmt: skip
    np.testing.assert_array_equal(
        flat.transform(X)[1], [1.0, 10.0, 2.0, 11.0, 12.0, 13.0]
    )


@settings(max_examples=60, deadline=None)
@given(tables_with_known_columns(), st.sampled_from(["edge", "zero"]))
def test_windows_match_the_reference_loop(data, padding):
    X, window, lead, known = data
    windower = SequenceWindower(
        window=window, padding=padding, known_ahead=known, lead=lead
    )
    expected = reference(X, window, lead, known, padding)
    np.testing.assert_array_equal(windower.fit_transform(X), expected)
    flat = windower.set_params(flatten=True).fit_transform(X)
    past_only = [c for c in range(X.shape[1]) if c not in known]
    # Flattened: the lags, then the leads without masked values or flags.
    leads = expected[:, window:][:, :, known].reshape(len(X), -1)
    np.testing.assert_array_equal(
        flat, np.hstack([expected[:, :window, : X.shape[1]].reshape(len(X), -1), leads])
    )
    assert not past_only or (expected[:, window:][:, :, past_only] == 0).all()


@settings(max_examples=60, deadline=None)
@given(
    tables_with_known_columns(),
    st.data(),
    st.sampled_from([np.nan, 1e30]),
    st.booleans(),
)
def test_past_only_values_after_t_are_never_read(data, draw, poison, flatten):
    X, window, lead, known = data
    past_only = [c for c in range(X.shape[1]) if c not in known]
    t = draw.draw(st.integers(0, len(X) - 1), label="t")
    windower = SequenceWindower(
        window=window, known_ahead=known, lead=lead, flatten=flatten
    ).fit(X)
    poisoned = X.copy()
    poisoned[t + 1 :, past_only] = poison
    if past_only and np.isnan(poison) and 0 < len(X) - t - 1 < lead:
        # Fewer future rows than the lead: refused, not padded.
        with pytest.raises(ValueError, match="future row"):
            windower.transform(poisoned)
        return
    windows = windower.transform(poisoned)
    if past_only and np.isnan(poison):
        # NaN in every past-only value marks the rows after t as future rows.
        assert len(windows) == t + 1
    np.testing.assert_array_equal(windows[t], windower.transform(X)[t])


def test_forecast_from_the_last_observed_row():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((60, 3)), columns=["pm", "wind", "hour"])
    y = frame["wind"].shift(-2).to_numpy()  # known-ahead wind two rows later
    # pandas output: the scaler passes the column names on to the windower.
    model = make_pipeline(
        StandardScaler(),
        SequenceWindower(window=3, known_ahead=["wind", "hour"], lead=2, flatten=True),
        LinearRegression(),
    ).set_output(transform="pandas")
    # Trained with the true look-ahead of its last rows too: the two rows
    # after them appended as future rows, y for the 48 observed rows.
    model.fit(pd.concat([frame.iloc[:48], frame.iloc[48:50].assign(pm=np.nan)]), y[:48])
    # 50 rows observed; the next two hours' wind and hour are known ahead.
    future = frame.iloc[50:52].assign(pm=np.nan)
    forecast = model.predict(pd.concat([frame.iloc[:50], future]))
    assert forecast.shape == (50,)
    # The same forecast as with every later value known: pm is never read.
    np.testing.assert_allclose(forecast[-1], model.predict(frame)[49], rtol=1e-12)
    np.testing.assert_allclose(forecast[-1], y[49], atol=1e-8)


def test_rows_stay_aligned_with_y_in_a_pipeline():
    # y[t] is the known-ahead column three rows later: a linear model finds
    # it exactly only if output row t is row t's window.
    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 2))
    y = np.r_[X[3:, 1], np.zeros(3)]
    model = make_pipeline(
        SequenceWindower(window=4, known_ahead=[1], lead=3, flatten=True),
        LinearRegression(),
    )
    # The last three rows lend their look-ahead as future rows (past-only
    # column NaN): 77 windows, for the 77 targets.
    appended = X.copy()
    appended[-3:, 0] = np.nan
    model.fit(appended, y[:-3])
    np.testing.assert_allclose(model.predict(appended), y[:-3], atol=1e-8)
    # Without future rows, the last three rows are padded but kept.
    assert model.predict(X).shape == (80,)
    np.testing.assert_allclose(model.predict(X)[:-3], y[:-3], atol=1e-8)


def test_pandas_output_drops_the_future_rows_index():
    frame = pd.DataFrame(
        {"pm": [1.0, 2.0, 3.0, np.nan], "hour": [0.0, 1.0, 2.0, 3.0]},
        index=pd.date_range("2014-01-01", periods=4, freq="h"),
    )
    windower = SequenceWindower(window=2, known_ahead=["hour"], lead=1, flatten=True)
    with sklearn.config_context(transform_output="pandas"):
        features = windower.fit_transform(frame)
    assert list(features.columns) == list(windower.get_feature_names_out())
    assert features.index.equals(frame.index[:3])
    np.testing.assert_array_equal(features["hour_lead1"], [1.0, 2.0, 3.0])
    assert type(windower.transform(frame)) is np.ndarray


def test_future_rows_need_their_known_ahead_values():
    frame = pd.DataFrame(
        {"pm": [1.0, 2.0, 3.0, np.nan, np.nan], "wind": [1.0, 2.0, 3.0, 4.0, np.nan]}
    )
    windower = SequenceWindower(window=2, known_ahead=["wind"], lead=2).fit(
        frame.iloc[:3]
    )
    with pytest.raises(
        ValueError, match=r"Known-ahead column 'wind' is nan at row 4, a future row"
    ):
        windower.transform(frame)
    with pytest.raises(ValueError, match=r"ends with 1 future row.*Append 2 future"):
        windower.transform(frame.iloc[:4])
    # A gap in a past-only column before the last rows is a missing value.
    gap = frame.assign(pm=[1.0, np.nan, 3.0, np.nan, np.nan], wind=np.arange(5.0))
    with pytest.raises(ValueError, match=r"row 1, column 0.*future rows"):
        windower.transform(gap)
    with pytest.raises(ValueError, match="no observed row"):
        windower.transform(frame.assign(pm=np.nan))


@pytest.mark.parametrize(
    "params, X, match",
    [
        (dict(lead=2), np.ones((4, 2)), r"lead=2.*known_ahead names none"),
        (dict(known_ahead=[2], lead=1), np.ones((4, 2)), r"position 2.*2 column"),
        (dict(known_ahead=["a"], lead=1), np.ones((4, 2)), "no column names"),
        (
            dict(known_ahead=["c"], lead=1),
            pd.DataFrame({"a": [1.0], "b": [2.0]}),
            r"'c', which X lacks.*\['a', 'b'\]",
        ),
        (dict(known_ahead=[0, 0], lead=1), np.ones((4, 2)), "twice"),
        (dict(known_ahead=[0.5], lead=1), np.ones((4, 2)), "positions"),
        (dict(known_ahead="a", lead=1), np.ones((4, 2)), "known_ahead"),
        (dict(known_ahead=[0], lead=-1), np.ones((4, 2)), "lead"),
    ],
)
def test_bad_known_ahead_parameters_are_named(params, X, match):
    with pytest.raises(ValueError, match=match):
        SequenceWindower(window=2, **params).fit(X)


def test_known_ahead_without_lead_is_the_plain_windower():
    X = np.arange(12.0).reshape(6, 2)
    np.testing.assert_array_equal(
        SequenceWindower(window=3, known_ahead=[1]).fit_transform(X),
        SequenceWindower(window=3).fit_transform(X),
    )
