"""The study's models as scikit-learn pipelines, and how each is fitted.

Every model that reads the inputs is a :class:`~sklearn.pipeline.Pipeline`
from raw hourly rows to forecasts::

    columns  (ColumnTransformer fitted on the train period, then frozen)
      → windows (SequenceWindower: the ``window`` hours ending at each row)
      → model   (LSTMRegressor, or Ridge / HistGradientBoosting on lags)

Why the column step is frozen: protocol P fits scalers on the train period
only, while the LSTM is fitted in one call on train *and* validation rows
(``early_stopping=True`` validates on the last ``validation_fraction`` of
the rows it is given, in time order, here the 2013 rows). The
ColumnTransformer is therefore fitted first on the train rows and wrapped
in :class:`~sklearn.frozen.FrozenEstimator`, whose ``fit`` does nothing: the
pipeline's ``fit`` then windows the contiguous 2010-2013 rows (so the 2013
windows read their true past in 2012) and trains the LSTM on them, with the
train-period scaling. Rows whose target would fall outside their own period
(the last hours of 2012, whose targets are in 2013) and the warm-up rows that
only supply history get ``sample_weight=0``: they neither train nor
validate. The fitted pipeline predicts from raw rows; give it the
``window - 1`` hours before the first row to predict
(:func:`._protocol.predict_rows`).
"""

import time

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from .. import LSTMRegressor, SequenceWindower
from .._validation_split import fraction_holding_out
from ._protocol import WINDOW, history_start, rows_in

WIND_DIRECTION = "wnd_dir"
#: Hours in a season of the seasonal-naive forecast: PM2.5 follows a daily
#: cycle, so this stays 24 whatever the input window.
SEASON = 24


def lstm_columns(features):
    """One-hot wind direction, standard-scale every other feature.

    Parameters
    ----------
    features : sequence of str
        Input columns, a subset of ``_protocol.FEATURES``.

    Returns
    -------
    columns : ColumnTransformer
        Not fitted.
    """
    return _columns(
        features, OneHotEncoder(sparse_output=False, handle_unknown="ignore")
    )


def lag_columns(features):
    """Label-encode wind direction, then standard-scale every feature.

    The encoding of the reference baselines (Ridge and gradient boosting on
    the window's lags).
    """
    return _columns(features, make_pipeline(OrdinalEncoder(), StandardScaler()))


def _columns(features, wind_encoder):
    numeric = [name for name in features if name != WIND_DIRECTION]
    transformers = [("scale", StandardScaler(), numeric)]
    if WIND_DIRECTION in features:
        transformers.append(("wind", wind_encoder, [WIND_DIRECTION]))
    return ColumnTransformer(transformers, verbose_feature_names_out=False)


def fit_columns(columns, frame, protocol, features):
    """Fit ``columns`` on the rows of the train period and freeze it."""
    in_train = protocol.train.contains(frame.index)
    return FrozenEstimator(columns.fit(frame.loc[in_train, list(features)]))


def lstm_pipeline(columns, *, window=WINDOW, **lstm_params):
    """Frozen columns → ``window``-hour windows → :class:`LSTMRegressor`."""
    return Pipeline(
        [
            ("columns", columns),
            ("windows", SequenceWindower(window=window)),
            ("lstm", LSTMRegressor(**lstm_params)),
        ]
    )


def lag_pipeline(columns, regressor, *, window=WINDOW):
    """Frozen columns → flattened ``window``-hour lags → ``regressor``."""
    return Pipeline(
        [
            ("columns", columns),
            ("lags", SequenceWindower(window=window, flatten=True)),
            ("model", regressor),
        ]
    )


#: The gradient-boosting baseline's name in the tables.
HGB = "hist gradient boosting"

#: The lag baselines of the reference table, by display name.
LAG_REGRESSORS = {
    "ridge": lambda: Ridge(alpha=1.0),
    # No early stopping: its random 10% split would change the score with the
    # seed (by up to ~1 µg/m³ at h=6); the reference ran all 300 iterations.
    HGB: lambda: HistGradientBoostingRegressor(
        max_iter=300, early_stopping=False, random_state=0
    ),
}


def fit_lstm(pipeline, frame, y, protocol, features, horizons):
    """Fit an LSTM pipeline on train and validation rows in one call.

    The rows from the train period's first (minus its history) to the
    validation period's last are given in time order; rows whose targets
    are not all in the train period, or all in the validation period, get
    weight 0. ``validation_fraction`` is set so that early stopping holds
    out exactly the rows from the first validation row on. The history
    before the first train row is the pipeline's ``window`` minus one hours.

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
    features : sequence of str
    horizons : sequence of int

    Returns
    -------
    fit_time : float
        Seconds spent in ``pipeline.fit``.
    """
    trained = rows_in(protocol.train, frame.index, horizons)
    validated = rows_in(protocol.validation, frame.index, horizons)
    start = history_start(trained, pipeline["windows"].window)
    first_validated = int(np.flatnonzero(validated)[0])
    stop = int(np.flatnonzero(validated)[-1]) + 1
    n_validation = stop - first_validated
    fraction = fraction_holding_out(n_validation, stop - start)
    pipeline.set_params(lstm__validation_fraction=fraction)
    weight = (trained | validated)[start:stop].astype(float)
    return _timed_fit(pipeline, frame, y, features, start, stop, weight, "lstm")


def fit_lags(pipeline, frame, y, protocol, features, horizon):
    """Fit a lag-feature pipeline on the train rows of one horizon.

    The pipeline is given exactly those rows, without the hours before them:
    their history would need ``sample_weight=0`` rows, and sample weights
    make HistGradientBoostingRegressor's binning some 40 times slower
    (scikit-learn 1.9). On protocol P the train rows start with the data, so
    nothing is lost; on the ``--quick`` slice the first ``window - 1``
    windows are padded (``SequenceWindower(padding="edge")``) instead of
    reading August 2012.

    Returns
    -------
    fit_time : float
        Seconds spent in ``pipeline.fit``.
    """
    rows = np.flatnonzero(rows_in(protocol.train, frame.index, horizon))
    return _timed_fit(pipeline, frame, y, features, rows[0], rows[-1] + 1)


def _timed_fit(pipeline, frame, y, features, start, stop, weight=None, step=None):
    """Fit on rows ``start:stop``, zero-weight rows with a neutral target."""
    X = frame.iloc[start:stop][list(features)]
    target = np.array(y.iloc[start:stop], dtype=float)
    params = {}
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
