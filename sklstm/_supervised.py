"""Turn a time-indexed frame into a supervised (X, y) forecasting problem."""

import numbers
from collections.abc import Iterable

import pandas as pd


def make_supervised(data, target, *, horizon=1, features=None):
    """Pair each row's features with the target ``horizon`` steps later.

    For every row ``t`` of ``data`` (rows in time order, one per step),
    ``X`` holds the ``features`` at row ``t`` and ``y`` holds ``target`` at
    row ``t + h`` for each horizon ``h``. Rows are matched by position, never
    by index label, so any index works; ``X`` and ``y`` keep the index label
    of row ``t``. The last ``max(horizon)`` rows, whose future is not in
    ``data``, are dropped.

    Missing values pass through unchanged, in ``X`` and in ``y`` alike:
    filling or dropping gaps is the caller's choice, made before or after.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per time step, in time order, with unique column names.
    target : hashable
        Name of the column to forecast.
    horizon : int or iterable of int, default=1
        Steps ahead to forecast, each >= 1. An int gives a Series ``y``; an
        iterable such as ``[1, 6, 24]`` or ``range(1, 25)`` gives a DataFrame
        ``y`` with one column per horizon, in the given order (direct
        multi-horizon forecasting).
    features : iterable of hashable, default=None
        Names of the columns to put in ``X``, in that order. None means all
        columns of ``data``, ``target`` included.

    Returns
    -------
    X : pandas.DataFrame of shape (n_rows - max(horizon), n_features)
        The feature columns at rows ``0 .. n_rows - max(horizon) - 1``, with
        their dtypes and index unchanged.
    y : pandas.Series or pandas.DataFrame
        The target ``h`` steps ahead of each row of ``X``, on ``X``'s index.
        A Series named ``f"{target}_h{h}"`` for an int ``horizon``, else a
        DataFrame with one column ``f"{target}_h{h}"`` per horizon.

    Raises
    ------
    TypeError
        If ``data`` is not a DataFrame, ``features`` is a single string, or
        ``horizon`` is not an int or an iterable of ints.
    ValueError
        If ``data`` is empty or has duplicate column names, ``target`` or a
        feature is not a column, ``features`` or ``horizon`` is empty or
        repeats itself, a horizon is below 1, or ``data`` has no more rows
        than the largest horizon.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklstm import make_supervised
    >>> data = pd.DataFrame(
    ...     {"temp": [1.0, 2.0, 3.0, 4.0], "load": [10.0, 20.0, 30.0, 40.0]},
    ...     index=pd.date_range("2024-01-01", periods=4, freq="h"),
    ... )
    >>> X, y = make_supervised(data, "load", horizon=1)
    >>> X
                         temp  load
    2024-01-01 00:00:00   1.0  10.0
    2024-01-01 01:00:00   2.0  20.0
    2024-01-01 02:00:00   3.0  30.0
    >>> y.tolist(), y.name
    ([20.0, 30.0, 40.0], 'load_h1')
    >>> X, Y = make_supervised(data, "load", horizon=[1, 2], features=["temp"])
    >>> Y
                         load_h1  load_h2
    2024-01-01 00:00:00     20.0     30.0
    2024-01-01 01:00:00     30.0     40.0
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"data must be a pandas DataFrame, got {type(data).__name__}. "
            "Wrap arrays with pandas.DataFrame(array, columns=names)."
        )
    if data.empty:
        raise ValueError(
            f"data is empty (shape {data.shape}); pass a frame with rows and columns."
        )
    if not data.columns.is_unique:
        repeated = data.columns[data.columns.duplicated()].unique().tolist()
        raise ValueError(f"data has duplicate column names {repeated}; rename them.")
    if target not in data.columns:
        raise ValueError(
            f"target {target!r} is not a column of data; "
            f"its columns are {data.columns.tolist()}."
        )
    features = _feature_names(data, features)
    horizons = _horizon_steps(horizon)
    n_samples = len(data) - max(horizons)
    if n_samples < 1:
        raise ValueError(
            f"make_supervised needs more than max(horizon)={max(horizons)} rows "
            f"to make one sample, got {len(data)}. Pass a longer series or a "
            "smaller horizon."
        )
    X = data[features].iloc[:n_samples]
    target_values = data[target]
    # .array drops the index, so rows line up by position, not by label.
    future = {
        f"{target}_h{step}": target_values.iloc[step : step + n_samples].array
        for step in horizons
    }
    y = pd.DataFrame(future, index=X.index)
    if _is_int(horizon):
        return X, y.iloc[:, 0]
    return X, y


def _is_int(value):
    # bool is an Integral, but horizon=True is a mistake, not a 1.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _horizon_steps(horizon):
    """Return ``horizon`` as a list of ints >= 1, checked."""
    if _is_int(horizon):
        steps = [horizon]
    elif isinstance(horizon, Iterable) and not isinstance(horizon, (str, bytes)):
        steps = list(horizon)
        not_ints = [step for step in steps if not _is_int(step)]
        if not_ints:
            raise TypeError(f"horizon must hold ints only, got {not_ints[:5]}.")
        if not steps:
            raise ValueError("horizon is empty; pass an int or a list such as [1, 6].")
    else:
        raise TypeError(
            f"horizon must be an int or an iterable of ints such as [1, 6, 24], "
            f"got {horizon!r}."
        )
    too_small = [step for step in steps if step < 1]
    if too_small:
        raise ValueError(
            f"every horizon must be >= 1 (1 is the next row), got {too_small[:5]}."
        )
    if len(set(steps)) != len(steps):
        raise ValueError(f"horizon repeats steps: {steps}; list each step once.")
    return [int(step) for step in steps]


def _feature_names(data, features):
    """Return the list of feature columns, checked against ``data``."""
    if features is None:
        return data.columns.tolist()
    if isinstance(features, str):
        raise TypeError(
            f"features must be a list of column names, got the string "
            f"{features!r}; pass [{features!r}]."
        )
    features = list(features)
    if not features:
        raise ValueError("features is empty; pass None to use every column.")
    unknown = [name for name in features if name not in data.columns]
    if unknown:
        raise ValueError(
            f"features {unknown} are not columns of data; "
            f"its columns are {data.columns.tolist()}."
        )
    if len(set(features)) != len(features):
        raise ValueError(f"features repeats names: {features}; list each once.")
    return features
