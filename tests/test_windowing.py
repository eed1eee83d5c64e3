"""SequenceWindower: alignment, padding, lag names, output containers, errors."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sklstm import LSTMRegressor, SequenceWindower


@st.composite
def series_and_window(draw, min_rows=1, min_features=1):
    """A float table and a window; the table may be shorter than the window."""
    window = draw(st.integers(1, 8))
    # Up to three windows' worth, so about a third of the tables are short.
    n_rows = draw(st.integers(min_rows, 3 * window + 2))
    n_features = draw(st.integers(min_features, 4))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    elements = st.floats(-1e6, 1e6, width=np.finfo(dtype).bits)
    X = draw(arrays(dtype, (n_rows, n_features), elements=elements))
    return X, window


@st.composite
def series_with_non_finite_values(draw):
    """A table, possibly empty, with NaN or infinities at a few positions."""
    X, window = draw(series_and_window(min_rows=0, min_features=0))
    if X.size and draw(st.booleans()):
        positions = st.tuples(
            st.integers(0, X.shape[0] - 1),
            st.integers(0, X.shape[1] - 1),
            st.sampled_from([np.nan, np.inf, -np.inf]),
        )
        for row, column, value in draw(st.lists(positions, min_size=1, max_size=3)):
            X[row, column] = value
    return X, window


def reference_windows(X, window, padding):
    """The windows written as a plain loop over rows and steps."""
    n_rows, n_features = X.shape
    windows = np.empty((n_rows, window, n_features), dtype=X.dtype)
    for t in range(n_rows):
        for k in range(window):
            source = t - window + 1 + k
            if source >= 0:
                windows[t, k] = X[source]
            elif padding == "edge":
                windows[t, k] = X[0]
            else:
                windows[t, k] = 0.0
    return windows


@settings(max_examples=60, deadline=None)
@given(series_and_window(), st.sampled_from(["edge", "zero"]))
def test_windows_match_the_reference_loop(data, padding):
    X, window = data
    windows = SequenceWindower(window=window, padding=padding).fit_transform(X)
    assert windows.dtype == X.dtype
    np.testing.assert_array_equal(windows, reference_windows(X, window, padding))
    np.testing.assert_array_equal(windows[:, -1], X)


@settings(max_examples=30, deadline=None)
@given(series_and_window())
def test_flatten_is_the_windows_row_major(data):
    X, window = data
    windows = SequenceWindower(window=window).fit_transform(X)
    flat = SequenceWindower(window=window, flatten=True).fit_transform(X)
    np.testing.assert_array_equal(flat, windows.reshape(len(X), -1))


@settings(max_examples=30, deadline=None)
@given(series_and_window(), st.sampled_from(["edge", "zero"]), st.data())
def test_a_prefix_gets_the_first_windows_of_the_series(data, padding, draw):
    # A short input is padded exactly like the first rows of a longer one.
    X, window = data
    n_rows = draw.draw(st.integers(1, len(X)), label="n_rows")
    windower = SequenceWindower(window=window, padding=padding).fit(X)
    np.testing.assert_array_equal(
        windower.transform(X[:n_rows]), windower.transform(X)[:n_rows]
    )


def expected_error(X):
    """The message pattern the windower must raise for ``X``, or None."""
    if X.size == 0:
        return r"0 (sample|feature)\(s\) .*while a minimum of 1 is required"
    found = [
        kind
        for kind, present in (("NaN", np.isnan(X).any()), ("infinity", np.isinf(X)))
        if np.any(present)
    ]
    if not found:
        return None
    return rf"Input X contains {' and '.join(found)} .*Fill or drop"


@settings(max_examples=80, deadline=None)
@given(
    series_with_non_finite_values(),
    st.sampled_from(["edge", "zero"]),
    st.booleans(),
    st.sampled_from(["fit_transform", "transform"]),
)
def test_any_table_is_windowed_or_refused_with_the_fix(data, padding, flatten, step):
    X, window = data
    windower = SequenceWindower(window=window, flatten=flatten, padding=padding)

    def window_rows():
        if step == "fit_transform":
            return windower.fit_transform(X)
        return windower.fit(np.zeros((1, X.shape[1]), X.dtype)).transform(X)

    match = expected_error(X)
    if match is not None:
        with pytest.raises(ValueError, match=match):
            window_rows()
        return
    expected = reference_windows(X, window, padding)
    if flatten:
        expected = expected.reshape(len(X), -1)
    np.testing.assert_array_equal(window_rows(), expected)


@pytest.mark.parametrize("padding, fill", [("edge", 1.0), ("zero", 0.0)])
def test_fewer_rows_than_window_are_padded(padding, fill):
    windower = SequenceWindower(window=4, padding=padding).fit(np.ones((10, 1)))
    windows = windower.transform(np.array([[1.0], [2.0]]))
    np.testing.assert_array_equal(
        windows[:, :, 0], [[fill, fill, fill, 1.0], [fill, fill, 1.0, 2.0]]
    )


def test_one_row_fills_a_default_window():
    windows = SequenceWindower().fit_transform(np.array([[3.0, -4.0]]))
    assert windows.shape == (1, 24, 2)
    np.testing.assert_array_equal(windows[0], np.tile([3.0, -4.0], (24, 1)))


def test_lag_names_match_the_flattened_columns():
    frame = pd.DataFrame({"pollution": np.arange(6.0), "temp": -np.arange(6.0)})
    windower = SequenceWindower(window=3, flatten=True).fit(frame)
    names = list(windower.get_feature_names_out())
    assert names == [
        "pollution_lag2",
        "temp_lag2",
        "pollution_lag1",
        "temp_lag1",
        "pollution_lag0",
        "temp_lag0",
    ]
    flat = windower.transform(frame)
    # Row 4's "pollution_lag2" is pollution two rows earlier.
    assert flat[4, names.index("pollution_lag2")] == frame["pollution"].iloc[2]
    assert flat[4, names.index("temp_lag0")] == frame["temp"].iloc[4]


def short_frame():
    """Five rows, two columns, a non-default index: shorter than a window."""
    return pd.DataFrame(
        {"a": np.arange(5.0), "b": np.arange(5.0) ** 2}, index=np.arange(10, 15)
    )


def test_pandas_output_with_flatten_has_the_lag_names():
    frame = short_frame()
    windower = SequenceWindower(flatten=True).set_output(transform="pandas")
    result = windower.fit_transform(frame)
    assert isinstance(result, pd.DataFrame)
    assert list(result.columns) == list(windower.get_feature_names_out())
    assert list(result.columns[[0, 1, -2, -1]]) == [
        "a_lag23",
        "b_lag23",
        "a_lag0",
        "b_lag0",
    ]
    assert result.index.equals(frame.index)
    np.testing.assert_array_equal(
        result.to_numpy(), SequenceWindower(flatten=True).fit_transform(frame)
    )


@pytest.mark.parametrize("configure", ["set_output", "set_config"])
def test_three_d_windows_pass_through_pandas_output(configure):
    frame = short_frame()
    windower = SequenceWindower()
    with sklearn.config_context(
        transform_output="pandas" if configure == "set_config" else "default"
    ):
        if configure == "set_output":
            assert windower.set_output(transform="pandas") is windower
        windows = windower.fit_transform(frame)
        transformed = windower.transform(frame)
    for result in (windows, transformed):
        assert type(result) is np.ndarray
        assert result.shape == (5, 24, 2)
        np.testing.assert_array_equal(result, SequenceWindower().fit_transform(frame))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_pipeline_set_output_pandas_with_three_d_windows():
    frame = short_frame()
    y = frame["a"].to_numpy()
    pipeline = Pipeline(
        [
            ("win", SequenceWindower()),
            ("lstm", LSTMRegressor(max_iter=2, random_state=0)),
        ]
    )
    y_pred = clone(pipeline).set_output(transform="pandas").fit(frame, y).predict(frame)
    assert y_pred.shape == (5,)
    # The same model as on a plain array: pandas output changes only the type.
    expected = pipeline.fit(frame.to_numpy(), y).predict(frame.to_numpy())
    np.testing.assert_array_equal(y_pred, expected)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_global_pandas_output_end_to_end():
    frame = short_frame()
    y = frame["a"].to_numpy()
    pipeline = make_pipeline(
        StandardScaler(), SequenceWindower(), LSTMRegressor(max_iter=2, random_state=0)
    )
    with sklearn.config_context(transform_output="pandas"):
        y_pred = pipeline.fit(frame, y).predict(frame)
    # The scaler's DataFrame reached the windower: it recorded the names.
    assert list(pipeline[1].feature_names_in_) == ["a", "b"]
    assert y_pred.shape == (5,)
    expected = clone(pipeline).fit(frame.to_numpy(), y).predict(frame.to_numpy())
    np.testing.assert_array_equal(y_pred, expected)


def test_three_d_output_has_no_feature_names():
    windower = SequenceWindower(window=2).fit(np.ones((4, 2)))
    assert not hasattr(windower, "get_feature_names_out")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_dtype_is_kept(dtype):
    windows = SequenceWindower(window=2).fit_transform(np.ones((4, 2), dtype=dtype))
    assert windows.dtype == dtype


def test_in_a_pipeline_after_a_column_transformer():
    frame = pd.DataFrame({"x": np.arange(10.0), "y": np.arange(10.0) ** 2})
    pipeline = make_pipeline(
        ColumnTransformer([("scale", StandardScaler(), ["x", "y"])]),
        SequenceWindower(window=4),
    )
    windows = pipeline.fit_transform(frame)
    assert windows.shape == (10, 4, 2)
    assert windows[9, -1, 0] == pytest.approx((9 - 4.5) / np.std(np.arange(10.0)))


@pytest.mark.parametrize(
    "X, match",
    [
        (
            np.r_[np.ones(5), np.nan].reshape(-1, 1),
            r"contains NaN \(1 value\(s\), the first at row 5, column 0\).*ffill",
        ),
        (
            np.r_[np.ones(3), -np.inf, np.inf, 1.0].reshape(-1, 2),
            r"contains infinity \(2 value\(s\), the first at row 1, column 1\)"
            r".*replace\(\[np.inf, -np.inf\], np.nan\)",
        ),
        (np.ones((6, 2, 2)), "Found array with dim 3"),
        (np.ones(6), "Expected 2D array"),
        (np.ones((0, 2)), r"0 sample\(s\) \(shape=\(0, 2\)\) while a minimum of 1"),
    ],
)
def test_bad_input_raises_a_clear_value_error(X, match):
    with pytest.raises(ValueError, match=match):
        SequenceWindower(window=4).fit(X)


def test_transform_checks_rows_and_features():
    windower = SequenceWindower(window=4).fit(np.ones((10, 2)))
    with pytest.raises(ValueError, match="X has 3 features"):
        windower.transform(np.ones((10, 3)))
    with pytest.raises(ValueError, match=r"0 sample\(s\).*minimum of 1"):
        windower.transform(np.ones((0, 2)))


def test_sparse_input_is_refused_with_the_fix():
    import scipy.sparse as sp

    with pytest.raises(ValueError, match="toarray"):
        SequenceWindower(window=2).fit(sp.eye(5, format="csr"))


@pytest.mark.parametrize("window", [0, -1, 2.5])
def test_window_must_be_a_positive_int(window):
    with pytest.raises(ValueError, match="window"):
        SequenceWindower(window=window).fit(np.ones((5, 1)))


# --- columns that are not numbers --------------------------------------------


def _frame_with(column):
    """Three rows: a numeric column, and ``column`` named "odd"."""
    return pd.DataFrame({"temp": [1.0, 2.0, 3.0], "odd": column})


NOT_NUMBERS = {
    "text": (["NW", "SE", "NW"], r"Column 'odd' .*text, e\.g\. 'NW' at row 0"),
    "text after numbers": (
        pd.Series(["1", "2", "calm"], dtype=object),
        r"Column 'odd' .*text, e\.g\. 'calm' at row 2.*OneHotEncoder",
    ),
    "string dtype": (
        pd.array(["a", "b", "c"], dtype="string"),
        r"Column 'odd' .*text",
    ),
    "categories": (
        pd.Categorical(["NE", "NW", "NE"]),
        r"Column 'odd' .*categorical \(categories \['NE', 'NW'\]\).*OneHotEncoder",
    ),
    "numeric categories": (
        pd.Categorical([1, 3, 1]),
        r"Column 'odd' .*categorical.*\.astype\(float\)",
    ),
    "dates": (
        pd.date_range("2014-01-01", periods=3, freq="h"),
        r"Column 'odd' .*dates \(datetime64.*drop it.*\.dt\.hour",
    ),
    "dates with a time zone": (
        pd.date_range("2014-01-01", periods=3, freq="h", tz="Asia/Shanghai"),
        r"Column 'odd' .*dates \(datetime64.*Asia/Shanghai",
    ),
    "periods": (
        pd.period_range("2014-01-01", periods=3, freq="D"),
        r"Column 'odd' .*dates \(period\[D\]\)",
    ),
    "durations": (
        pd.to_timedelta([1, 2, 3], unit="h"),
        r"Column 'odd' .*durations.*total_seconds",
    ),
}


@pytest.mark.parametrize("column", NOT_NUMBERS.values(), ids=NOT_NUMBERS.keys())
@pytest.mark.parametrize("method", ["fit", "transform"])
def test_column_that_is_not_numbers_is_named(column, method):
    values, match = column
    X = _frame_with(values)
    windower = SequenceWindower(window=2)
    if method == "transform":
        windower.fit(_frame_with([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=match):
        getattr(windower, method)(X)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[1.0, "x"], [2.0, "y"]], dtype=object), r"Column 1 .*'x' at row 0"),
        (np.array([["1", "2"], ["3", "wind"]]), r"Column 1 .*'wind' at row 1"),
        (
            np.array(["2014-01-01", "2014-01-02"], dtype="datetime64[ns]")[:, None],
            r"Column 0 .*dates \(datetime64\[ns\]\)",
        ),
    ],
    ids=["object", "strings", "datetime64"],
)
def test_arrays_of_text_or_dates_name_the_column(X, match):
    with pytest.raises(ValueError, match=match):
        SequenceWindower(window=2).fit(X)


@pytest.mark.parametrize(
    "column",
    [
        [True, False, True],
        pd.Series([1, 2, 3], dtype=object),
        pd.Series(["1.5", "2", "3e1"], dtype=object),
        pd.array([1, 2, 3], dtype="Int64"),
    ],
    ids=["booleans", "numbers as objects", "numbers as text", "nullable ints"],
)
def test_columns_of_numbers_in_other_dtypes_are_windowed(column):
    X = _frame_with(column)
    windows = SequenceWindower(window=2).fit_transform(X)
    expected = np.column_stack([X["temp"], pd.to_numeric(pd.Series(column))])
    np.testing.assert_array_equal(windows[:, -1], expected.astype(float))


@settings(max_examples=40, deadline=None)
@given(
    n_columns=st.integers(1, 5),
    data=st.data(),
    kind=st.sampled_from(sorted(NOT_NUMBERS)),
)
def test_the_column_named_is_the_one_that_is_not_numbers(n_columns, data, kind):
    position = data.draw(st.integers(0, n_columns))
    values, _ = NOT_NUMBERS[kind]
    X = pd.DataFrame(
        {f"x{index}": np.arange(3.0) + index for index in range(n_columns)}
    )
    X.insert(position, "odd one", values)
    with pytest.raises(ValueError, match=r"^Column 'odd one' of X "):
        SequenceWindower(window=data.draw(st.integers(1, 4))).fit(X)
