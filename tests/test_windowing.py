"""SequenceWindower: alignment, padding, lag names, errors."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklstm import SequenceWindower


@st.composite
def series_and_window(draw):
    window = draw(st.integers(1, 8))
    n_rows = draw(st.integers(window, 30))
    n_features = draw(st.integers(1, 4))
    X = draw(arrays(np.float64, (n_rows, n_features), elements=st.floats(-1e6, 1e6)))
    return X, window


@settings(max_examples=60, deadline=None)
@given(series_and_window(), st.sampled_from(["edge", "zero"]))
def test_row_t_window_ends_at_row_t(data, padding):
    X, window = data
    windows = SequenceWindower(window=window, padding=padding).fit_transform(X)
    assert windows.shape == (len(X), window, X.shape[1])
    for t in range(len(X)):
        np.testing.assert_array_equal(windows[t, -1], X[t])
        for k in range(window):
            source = t - window + 1 + k
            if source >= 0:
                expected = X[source]
            else:
                expected = X[0] if padding == "edge" else np.zeros(X.shape[1])
            np.testing.assert_array_equal(windows[t, k], expected)


@settings(max_examples=30, deadline=None)
@given(series_and_window())
def test_flatten_is_the_windows_row_major(data):
    X, window = data
    windows = SequenceWindower(window=window).fit_transform(X)
    flat = SequenceWindower(window=window, flatten=True).fit_transform(X)
    np.testing.assert_array_equal(flat, windows.reshape(len(X), -1))


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


def test_pandas_output_with_flatten():
    frame = pd.DataFrame({"a": np.arange(5.0)})
    out = SequenceWindower(window=2, flatten=True).set_output(transform="pandas")
    result = out.fit_transform(frame)
    assert list(result.columns) == ["a_lag1", "a_lag0"]


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
        (np.ones((3, 2)), "needs at least 4 rows, got 3 sample.*smaller window"),
        (np.r_[np.ones(5), np.nan].reshape(-1, 1), "NaN"),
        (np.ones((6, 2, 2)), "Found array with dim 3"),
        (np.ones(6), "Expected 2D array"),
        (np.ones((0, 2)), "0 sample"),
    ],
)
def test_bad_input_raises_a_clear_value_error(X, match):
    with pytest.raises(ValueError, match=match):
        SequenceWindower(window=4).fit(X)


def test_transform_checks_length_and_features():
    windower = SequenceWindower(window=4).fit(np.ones((10, 2)))
    with pytest.raises(ValueError, match=r"needs at least 4 rows.*include the 3 rows"):
        windower.transform(np.ones((2, 2)))
    with pytest.raises(ValueError, match="X has 3 features"):
        windower.transform(np.ones((10, 3)))


def test_sparse_input_is_refused_with_the_fix():
    import scipy.sparse as sp

    with pytest.raises(ValueError, match="toarray"):
        SequenceWindower(window=2).fit(sp.eye(5, format="csr"))


@pytest.mark.parametrize("window", [0, -1, 2.5])
def test_window_must_be_a_positive_int(window):
    with pytest.raises(ValueError, match="window"):
        SequenceWindower(window=window).fit(np.ones((5, 1)))
