"""The study's models as scikit-learn pipelines, and how each is fitted.

Every model that reads the inputs is a :class:`~sklearn.pipeline.Pipeline`
from raw hourly rows to forecasts::

    columns  (ColumnTransformer fitted on the train period, then frozen)
      → windows (SequenceWindower: the ``window`` hours ending at each row)
      → model   (LSTMRegressor, or Ridge / HistGradientBoosting on lags)

With a look-ahead (``_input_sets``), the windows also hold ``lead`` hours
of the known-ahead columns after each row.

Why the column step is frozen: protocol P fits scalers on the train period
only, and the same fitted columns must window the validation rows that
early stopping scores (``X_val`` of the LSTM and of gradient boosting,
:func:`validation_set`) and the test rows. The ColumnTransformer is
therefore fitted first on the train rows and wrapped in
:class:`~sklearn.frozen.FrozenEstimator`, whose ``fit`` does nothing: the
pipeline's ``fit`` then windows the rows it is given with the train-period
scaling. Rows whose target would fall outside the train period and the
warm-up rows that only supply history get ``sample_weight=0``: they do not
train. The fitted pipeline predicts from raw rows; give it the ``window -
1`` hours before the first row to predict, and the ``lead`` hours after the
last (:func:`._protocol.predict_rows`).
"""

import time

import numpy as np
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from .. import CalendarFeatures, LSTMRegressor, SequenceWindower
from ._input_sets import TIME, as_input_set
from ._protocol import WINDOW, history_start, rows_in, windower_of

WIND_DIRECTION = "wnd_dir"
#: Hours in a season of the seasonal-naive forecast: PM2.5 follows a daily
#: cycle, so this stays 24 whatever the input window.
SEASON = 24


def lstm_columns(inputs):
    """One-hot wind direction, standard-scale every other feature, and the
    calendar where the set reads it.

    Parameters
    ----------
    inputs : InputSet or sequence of str
        An input set (``_input_sets.INPUT_SETS``), or input columns, a
        subset of ``_protocol.FEATURES``, read up to the origin.

    Returns
    -------
    columns : ColumnTransformer
        Not fitted.
    """
    return _columns(
        as_input_set(inputs),
        OneHotEncoder(sparse_output=False, handle_unknown="ignore"),
    )


def lag_columns(inputs):
    """Label-encode wind direction, then standard-scale every feature.

    The encoding of the reference baselines (Ridge and gradient boosting on
    the window's lags). A category unseen in fit, and a missing wind
    direction (the past-only values of future rows,
    :meth:`InputSet.rows`), encode as NaN.
    """
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan)
    return _columns(as_input_set(inputs), make_pipeline(encoder, StandardScaler()))


#: The transformers of ``_columns`` whose outputs are known ahead.
_KNOWN_AHEAD = ("ahead", "wind ahead", "calendar")


def _columns(inputs, wind_encoder):
    numeric = [name for name in inputs.features if name != WIND_DIRECTION]
    ahead = [name for name in numeric if name in inputs.known_ahead]
    past = [name for name in numeric if name not in ahead]
    transformers = [("scale", StandardScaler(), past)]
    if ahead:
        transformers.append(("ahead", StandardScaler(), ahead))
    if WIND_DIRECTION in inputs.features:
        wind = "wind ahead" if WIND_DIRECTION in inputs.known_ahead else "wind"
        transformers.append((wind, wind_encoder, [WIND_DIRECTION]))
    if inputs.calendar:
        transformers.append(("calendar", CalendarFeatures(), [TIME]))
    return ColumnTransformer(transformers, verbose_feature_names_out=False)


def known_ahead_positions(columns):
    """Output positions of the known-ahead columns of fitted ``columns``
    (from :func:`lstm_columns` or :func:`lag_columns`, frozen or not)."""
    fitted = columns.estimator if isinstance(columns, FrozenEstimator) else columns
    slices = fitted.output_indices_
    return [
        position
        for name in _KNOWN_AHEAD
        if name in slices
        for position in range(slices[name].start, slices[name].stop)
    ]


def fit_columns(columns, frame, protocol, inputs):
    """Fit ``columns`` on the rows of the train period and freeze it."""
    inputs = as_input_set(inputs)
    in_train = np.flatnonzero(protocol.train.contains(frame.index))
    rows = inputs.rows(frame, in_train[0], in_train[-1] + 1)
    return FrozenEstimator(columns.fit(rows))


def _windower(columns, window, lead, flatten):
    """The windows of ``columns``' output: ``lead`` hours of its known-ahead
    columns after each row (``columns`` fitted when ``lead > 0``)."""
    known = known_ahead_positions(columns) if lead else None
    return SequenceWindower(
        window=window, flatten=flatten, known_ahead=known, lead=lead
    )


def lstm_pipeline(columns, *, window=WINDOW, lead=0, **lstm_params):
    """Frozen columns → ``window``-hour windows, and ``lead`` hours of the
    known-ahead columns after them → :class:`LSTMRegressor`."""
    return Pipeline(
        [
            ("columns", columns),
            ("windows", _windower(columns, window, lead, flatten=False)),
            ("lstm", LSTMRegressor(**lstm_params)),
        ]
    )


def lag_pipeline(columns, regressor, *, window=WINDOW, lead=0):
    """Frozen columns → flattened ``window``-hour lags, and ``lead`` leads
    of the known-ahead columns → ``regressor``."""
    return Pipeline(
        [
            ("columns", columns),
            ("lags", _windower(columns, window, lead, flatten=True)),
            ("model", regressor),
        ]
    )


#: The gradient-boosting baseline's name in the tables.
HGB = "hist gradient boosting"

#: The lag baselines of the reference table, by display name. Gradient
#: boosting's settings were chosen on the validation years 2011-2013 alone
#: (``docs/_static/beijing/hgb_settings.py``): its step and leaves, and, in
#: each fold, its iterations, by early stopping on the fold's validation
#: year as the LSTM's epochs are (:func:`fit_lags`), up to the study's
#: ``hgb_max_iter``, which the fit sets (``StudySettings``, the one place of
#: that cap).
LAG_REGRESSORS = {
    "ridge": lambda: Ridge(alpha=1.0),
    HGB: lambda: HistGradientBoostingRegressor(
        learning_rate=0.05,
        max_leaf_nodes=15,
        early_stopping=True,
        n_iter_no_change=20,
        random_state=0,
    ),
}


def fit_lstm(pipeline, frame, y, protocol, inputs, horizons):
    """Fit an LSTM pipeline on the train rows, stopping early on the
    validation period.

    The rows from the train period's first (minus its ``window - 1`` hours
    of history) up to the validation period's first (or, with a look-ahead,
    the windower's ``lead`` hours after the train period's last row, as
    that row reads them) are given in time order; rows whose targets are
    not all in the train period get weight 0. Early
    stopping scores the rows whose targets are all in the validation period,
    given as ``X_val`` and ``y_val`` (:func:`validation_set`): windowed by the
    pipeline's own steps from their true past, so the scaling stays the train
    period's.

    Parameters
    ----------
    pipeline : Pipeline
        From :func:`lstm_pipeline`, with ``early_stopping=True``.
    frame : pandas.DataFrame
        All rows, time-ordered.
    y : pandas.Series or pandas.DataFrame
        Targets of every row (columns of ``_protocol.targets``), one column
        per horizon of ``horizons``.
    protocol : Protocol
    inputs : InputSet or sequence of str
        The input set, or the columns read up to the origin.
    horizons : sequence of int

    Returns
    -------
    fit_time : float
        Seconds spent in ``pipeline.fit``.
    """
    inputs = as_input_set(inputs)
    windows = pipeline["windows"]
    trained = rows_in(protocol.train, frame.index, horizons)
    validated = rows_in(protocol.validation, frame.index, horizons)
    start = history_start(trained, windows.window)
    # Up to the validation period (the rows between, whose targets cross
    # into it, have weight 0), and the look-ahead of the last train rows.
    first_validated = int(np.flatnonzero(validated)[0])
    stop = max(int(np.flatnonzero(trained)[-1]) + 1 + windows.lead, first_validated)
    X_val, y_val = validation_set(pipeline, frame, y, inputs, validated)
    return _timed_fit(
        pipeline,
        inputs.rows(frame, start, stop),
        y.iloc[start:stop],
        trained[start:stop].astype(float),
        "lstm",
        params={"lstm__X_val": X_val, "lstm__y_val": y_val},
    )


def fit_lags(pipeline, frame, y, protocol, inputs, horizon):
    """Fit a lag-feature pipeline on the train rows of one horizon.

    The pipeline is given exactly those rows, without the hours before them:
    their history would need ``sample_weight=0`` rows, and sample weights
    make HistGradientBoostingRegressor's binning some 40 times slower
    (scikit-learn 1.9). On protocol P the train rows start with the data, so
    nothing is lost; on the ``--quick`` slice the first ``window - 1``
    windows are padded (``SequenceWindower(padding="edge")``) instead of
    reading August 2012. With a look-ahead (the windower's ``lead``), the
    ``lead`` hours after the last row follow as future rows
    (:meth:`InputSet.rows`): they lend their known-ahead values and give no
    training row. A final step with ``early_stopping=True`` (gradient
    boosting) stops on the rows of the validation period, as the LSTM does
    (:func:`validation_set`).

    Parameters
    ----------
    pipeline : Pipeline
        From :func:`lag_pipeline`.
    frame : pandas.DataFrame
        All rows, time-ordered.
    y : pandas.Series or pandas.DataFrame
        Targets of every row at ``horizon`` (one column per horizon).
    protocol : Protocol
    inputs : InputSet or sequence of str
    horizon : int or sequence of int

    Returns
    -------
    fit_time : float
        Seconds spent in ``pipeline.fit``.
    """
    inputs = as_input_set(inputs)
    params = {}
    if getattr(pipeline["model"], "early_stopping", False) is True:
        validated = rows_in(protocol.validation, frame.index, horizon)
        X_val, y_val = validation_set(pipeline, frame, y, inputs, validated)
        params = {"model__X_val": X_val, "model__y_val": y_val}
    rows = np.flatnonzero(rows_in(protocol.train, frame.index, horizon))
    start, stop = rows[0], rows[-1] + 1
    X = inputs.rows(frame, start, stop, pipeline["lags"].lead)
    return _timed_fit(pipeline, X, y.iloc[start:stop], params=params)


def validation_set(pipeline, frame, y, inputs, mask):
    """The rows of ``mask`` as the final step of ``pipeline`` reads them.

    They are windowed by the pipeline's own steps (frozen columns, then the
    windower) from their true past (``window - 1`` hours before the first)
    and their true look-ahead (``lead`` hours after the last, as far as the
    data goes): what the final step's ``X_val`` must be.

    Parameters
    ----------
    pipeline : Pipeline
        Raw rows → frozen columns → :class:`~sklstm.SequenceWindower` (→
        further steps) → the final step.
    frame : pandas.DataFrame
        All rows, time-ordered.
    y : pandas.Series or pandas.DataFrame
        Targets of every row.
    inputs : InputSet
    mask : ndarray of bool
        Contiguous rows.

    Returns
    -------
    X_val : ndarray
    y_val : ndarray
        ``y``'s rows of ``mask``, as floats.
    """
    windower = windower_of(pipeline)
    rows = np.flatnonzero(mask)
    first = history_start(mask, windower.window)
    stop = min(rows[-1] + 1 + windower.lead, len(frame))
    windows = clone(pipeline[:-1]).fit_transform(inputs.rows(frame, first, stop))
    drop = rows[0] - first  # the rows that only lend their past
    return windows[drop : drop + len(rows)], np.asarray(y.iloc[rows], dtype=float)


def _timed_fit(pipeline, X, y, weight=None, step=None, params=None):
    """Fit on ``X`` and ``y``, zero-weight rows with a neutral target."""
    target = np.array(y, dtype=float)
    params = dict(params or {})
    if weight is not None and (weight == 0).any():
        # Zero-weight rows only lend their past; their targets may lie
        # outside the period (or past the data), so they are blanked.
        target[weight == 0] = 0.0
        params[f"{step}__sample_weight"] = weight
    began = time.perf_counter()
    pipeline.fit(X, target, **params)
    return time.perf_counter() - began


def persistence(pollution, horizon):
    """Forecast ``pollution[t + horizon]`` by ``pollution[t]``.

    Parameters
    ----------
    pollution : array-like of shape (n_rows,)
        The series, one value per hour.
    horizon : int

    Returns
    -------
    forecast : ndarray of shape (n_rows,)
        Forecast issued at each row.
    """
    return np.asarray(pollution, dtype=float).copy()


def seasonal_naive(pollution, horizon, season=SEASON):
    """Forecast ``pollution[t + horizon]`` by the same hour one season before.

    That is ``pollution[t + horizon - season]`` for ``horizon <= season``
    (``k`` seasons back for longer horizons, the latest value known at
    ``t``).

    Parameters
    ----------
    pollution : array-like of shape (n_rows,)
    horizon : int
    season : int, default=24

    Returns
    -------
    forecast : ndarray of shape (n_rows,)
        NaN for the first rows, which lack that past.
    """
    pollution = np.asarray(pollution, dtype=float)
    lag = season * -(-horizon // season) - horizon  # rows back from t
    forecast = np.full(pollution.shape, np.nan)
    forecast[lag:] = pollution[: len(pollution) - lag]
    return forecast


NAIVE_FORECASTS = {"persistence": persistence, "seasonal naive": seasonal_naive}

#: The models in the order of the tables.
MODELS = ("persistence", "seasonal naive", "ridge", HGB, "lstm")
