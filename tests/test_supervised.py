"""Tests for sklstm._supervised.make_supervised."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklstm._supervised import make_supervised

FLOATS = st.floats(allow_nan=True, allow_infinity=False, width=32)


@st.composite
def frames(draw, min_rows=1):
    """Small float frames with a shuffled, non-positional index."""
    n_rows = draw(st.integers(min_rows, 30))
    n_columns = draw(st.integers(1, 4))
    values = draw(arrays(np.float64, (n_rows, n_columns), elements=FLOATS))
    # Labels that disagree with positions catch label-based alignment.
    labels = draw(st.permutations(range(100, 100 + n_rows)))
    columns = [f"c{i}" for i in range(n_columns)]
    return pd.DataFrame(values, index=pd.Index(labels, name="t"), columns=columns)


@st.composite
def frames_and_horizons(draw):
    data = draw(frames(min_rows=2))
    n_rows = len(data)
    steps = st.integers(1, n_rows - 1)
    horizon = draw(
        steps
        | st.lists(steps, min_size=1, max_size=5, unique=True)
        | st.builds(range, st.just(1), st.integers(2, n_rows))
    )
    target = draw(st.sampled_from(list(data.columns)))
    return data, target, horizon


def _steps(horizon):
    return [horizon] if isinstance(horizon, int) else list(horizon)


def _same(a, b):
    return a == b or (np.isnan(a) and np.isnan(b))


@settings(max_examples=150, deadline=None)
@given(frames_and_horizons())
def test_rows_line_up_with_the_future(case):
    data, target, horizon = case
    X, y = make_supervised(data, target, horizon=horizon)
    steps = _steps(horizon)
    n_samples = len(data) - max(steps)
    assert len(X) == len(y) == n_samples
    assert X.index.equals(data.index[:n_samples])
    assert y.index.equals(X.index)
    y_frame = y.to_frame() if isinstance(y, pd.Series) else y
    for position in range(n_samples):
        assert X.iloc[position].equals(data.iloc[position])
        for step in steps:
            expected = data[target].iloc[position + step]
            assert _same(y_frame[f"{target}_h{step}"].iloc[position], expected)


@settings(max_examples=50, deadline=None)
@given(frames(min_rows=2), st.data())
def test_features_select_and_order_columns(data, draw):
    features = draw.draw(st.permutations(list(data.columns)).map(lambda c: c[:2]))
    X, _ = make_supervised(data, data.columns[0], features=features)
    assert list(X.columns) == list(features)
    assert X.equals(data[list(features)].iloc[:-1])


def test_int_horizon_gives_named_series():
    data = pd.DataFrame({"load": [1.0, 2.0, 3.0, 4.0], "temp": [5.0, 6, 7, 8]})
    X, y = make_supervised(data, "load", horizon=2)
    assert isinstance(y, pd.Series)
    assert y.name == "load_h2"
    assert y.tolist() == [3.0, 4.0]
    assert list(X.columns) == ["load", "temp"]  # target included by default


@pytest.mark.parametrize(
    "horizon", [[1], [3, 1, 2], range(1, 4), (2,), np.array([1, 3])]
)
def test_iterable_horizon_gives_one_column_per_step(horizon):
    data = pd.DataFrame({"load": np.arange(10.0)})
    X, y = make_supervised(data, "load", horizon=horizon)
    assert isinstance(y, pd.DataFrame)
    assert list(y.columns) == [f"load_h{step}" for step in horizon]
    assert len(X) == 10 - max(horizon)
    for step in horizon:
        np.testing.assert_array_equal(y[f"load_h{step}"], np.arange(len(X)) + step)


def test_keeps_datetime_index_dtypes_and_nan():
    index = pd.date_range("2024-01-01", periods=5, freq="h", name="date")
    data = pd.DataFrame(
        {
            "load": [1.0, np.nan, 3.0, 4.0, 5.0],
            "wind": pd.Categorical(["N", "S", "N", "S", "N"]),
            "count": pd.array([1, None, 3, 4, 5], dtype="Int64"),
        },
        index=index,
    )
    X, y = make_supervised(data, "count", horizon=[1, 2])
    assert X.index.equals(index[:3]) and X.index.name == "date"
    assert X.dtypes.equals(data.dtypes)
    assert (y.dtypes == "Int64").all()
    assert np.isnan(X["load"].iloc[1])
    assert y["count_h1"].isna().tolist() == [True, False, False]


def test_duplicate_index_labels_are_fine():
    data = pd.DataFrame({"a": [1.0, 2.0, 3.0]}, index=[7, 7, 7])
    _, y = make_supervised(data, "a")
    assert y.tolist() == [2.0, 3.0]
    assert y.index.tolist() == [7, 7]


def test_does_not_modify_data():
    data = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]})
    before = data.copy()
    X, y = make_supervised(data, "a")
    X.iloc[0, 0] = -1.0
    y.iloc[0] = -1.0
    assert data.equals(before)


DATA = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]})


@pytest.mark.parametrize(
    ("data", "kwargs", "error", "match"),
    [
        (DATA.to_numpy(), {}, TypeError, "must be a pandas DataFrame"),
        (DATA["a"], {}, TypeError, "must be a pandas DataFrame"),
        (DATA.iloc[:0], {}, ValueError, "data is empty"),
        (
            DATA.set_axis(["a", "a"], axis=1),
            {},
            ValueError,
            r"duplicate column names \['a'\]",
        ),
        (DATA, {"target": "z"}, ValueError, "target 'z' is not a column"),
        (DATA, {"features": ["a", "z"]}, ValueError, r"features \['z'\] are not"),
        (DATA, {"features": "a"}, TypeError, r"pass \['a'\]"),
        (DATA, {"features": []}, ValueError, "features is empty"),
        (DATA, {"features": ["a", "a"]}, ValueError, "features repeats"),
        (DATA, {"horizon": 0}, ValueError, r"must be >= 1.*\[0\]"),
        (DATA, {"horizon": [1, -2]}, ValueError, r"must be >= 1.*\[-2\]"),
        (DATA, {"horizon": 1.0}, TypeError, "must be an int or an iterable"),
        (DATA, {"horizon": True}, TypeError, "must be an int or an iterable"),
        (DATA, {"horizon": "1"}, TypeError, "must be an int or an iterable"),
        (DATA, {"horizon": [1, 2.5]}, TypeError, r"ints only, got \[2.5\]"),
        (DATA, {"horizon": []}, ValueError, "horizon is empty"),
        (DATA, {"horizon": [1, 1]}, ValueError, "repeats steps"),
        (DATA, {"horizon": 3}, ValueError, "more than max.horizon.=3 rows.*got 3"),
        (DATA, {"horizon": range(1, 5)}, ValueError, "smaller horizon"),
    ],
)
def test_errors(data, kwargs, error, match):
    kwargs = {"target": "a", **kwargs}
    with pytest.raises(error, match=match):
        make_supervised(data, **kwargs)
