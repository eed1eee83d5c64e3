"""CalendarFeatures: the hour, weekday and day of the year as sine/cosine pairs."""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._sklearn_compat import _fit_context

#: Each feature's position in its cycle, in [0, 1), from a DatetimeIndex.
CYCLES = {
    "hour": lambda times: (times.hour + times.minute / 60) / 24,
    "day_of_week": lambda times: (times.day_of_week + times.hour / 24) / 7,
    "day_of_year": lambda times: (
        (times.day_of_year - 1 + times.hour / 24) / (365 + times.is_leap_year)
    ),
}


class CalendarFeatures(TransformerMixin, BaseEstimator):
    """Encode timestamps as the hour of day, day of week and day of year.

    Each feature is a position in a cycle, given as a sine/cosine pair so
    that the end of the cycle meets its start (23:00 lies next to 00:00,
    31 December next to 1 January). The calendar of every future hour is
    known, so these columns are the usual known-ahead inputs of
    :class:`SequenceWindower` (``known_ahead``).

    Parameters
    ----------
    features : sequence of {"hour", "day_of_week", "day_of_year"}, \
            default=("hour", "day_of_week", "day_of_year")
        The cycles to encode, in the order of the output. The hour counts
        minutes (12:30 is half past 12); the day of the week and of the year
        count hours (Monday noon is 0.5 days into the week).
    time : str or None, default=None
        Where the timestamps are: None reads the ``DatetimeIndex`` of a
        DataFrame or Series, or else ``X`` itself when it is one column of
        datetimes (a Series, a DatetimeIndex, a one-column DataFrame or
        array, as a :class:`~sklearn.compose.ColumnTransformer` hands it
        over); a string names a column of datetimes of a DataFrame.

    Attributes
    ----------
    n_features_in_ : int
        Columns of ``X`` in ``fit`` (1 for a Series or DatetimeIndex).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` was a DataFrame with string column names.

    See Also
    --------
    SequenceWindower : Reads these columns ahead of each row with
        ``known_ahead`` and ``lead``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklstm import CalendarFeatures
    >>> times = pd.date_range("2014-01-06 00:00", periods=3, freq="6h")
    >>> calendar = CalendarFeatures(features=["hour"])
    >>> calendar.fit_transform(pd.DataFrame(index=times)).round(3)
    array([[ 0.,  1.],
           [ 1.,  0.],
           [ 0., -1.]])
    >>> calendar.get_feature_names_out()
    array(['hour_sin', 'hour_cos'], dtype=object)
    """

    _parameter_constraints = {
        "features": ["array-like"],
        "time": [str, None],
    }

    def __init__(self, features=("hour", "day_of_week", "day_of_year"), *, time=None):
        self.features = features
        self.time = time

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check that ``X`` holds timestamps where ``time`` says.

        Parameters
        ----------
        X : DataFrame, Series, DatetimeIndex or array of datetimes
        y : None
            Ignored.

        Returns
        -------
        self : CalendarFeatures
        """
        features = list(self.features)
        unknown = [name for name in features if name not in CYCLES]
        if unknown or not features or len(set(features)) != len(features):
            raise ValueError(
                f"CalendarFeatures(features={self.features!r}): pass some of "
                f"{list(CYCLES)}, each once."
            )
        self._timestamps(X)
        columns = getattr(X, "columns", None)
        self.n_features_in_ = 1 if columns is None else len(columns)
        if columns is None and np.ndim(X) == 2:
            self.n_features_in_ = np.shape(X)[1]
        if columns is not None and all(isinstance(name, str) for name in columns):
            self.feature_names_in_ = np.asarray(columns, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self

    def transform(self, X):
        """Encode the timestamps of ``X``.

        Parameters
        ----------
        X : DataFrame, Series, DatetimeIndex or array of datetimes
            As in :meth:`fit`.

        Returns
        -------
        features : ndarray of shape (n_rows, 2 * len(features))
            ``sin`` then ``cos`` of each feature's angle, in the order of
            ``features``.
        """
        check_is_fitted(self)
        times = self._timestamps(X)
        angles = [2 * np.pi * np.asarray(CYCLES[name](times)) for name in self.features]
        pairs = [[np.sin(angle), np.cos(angle)] for angle in angles]
        return np.column_stack([part for pair in pairs for part in pair]).astype(float)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: ``f"{feature}_sin"``, ``f"{feature}_cos"``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored: the output names come from ``features``.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        return np.asarray(
            [f"{name}_{part}" for name in self.features for part in ("sin", "cos")],
            dtype=object,
        )

    def _timestamps(self, X):
        """The DatetimeIndex that ``time`` points at in ``X``."""
        if self.time is not None:
            if not isinstance(X, pd.DataFrame) or self.time not in X.columns:
                raise ValueError(
                    f"CalendarFeatures(time={self.time!r}) reads that column of a "
                    "DataFrame, but X has no such column. Pass a DataFrame with "
                    "it, or time=None to read the index."
                )
            values = X[self.time]
        elif isinstance(X, pd.DataFrame | pd.Series) and isinstance(
            X.index, pd.DatetimeIndex
        ):
            values = X.index
        elif isinstance(X, pd.DataFrame) and X.shape[1] == 1:
            values = X.iloc[:, 0]
        elif np.ndim(X) == 2 and np.shape(X)[1] == 1:
            values = np.asarray(X)[:, 0]
        else:
            values = X
        if isinstance(values, pd.DataFrame) or np.ndim(values) != 1:
            raise ValueError(
                "CalendarFeatures found no timestamps: X has no DatetimeIndex "
                "and is not one column of datetimes. Pass a DataFrame indexed "
                "by time, one column of datetimes, or time='<column name>'."
            )
        if not (
            isinstance(values, pd.DatetimeIndex)
            or pd.api.types.is_datetime64_any_dtype(getattr(values, "dtype", None))
        ):
            raise ValueError(
                f"CalendarFeatures reads datetimes, got values of dtype "
                f"{getattr(values, 'dtype', type(values).__name__)}. Convert "
                "them first, e.g. with pandas.to_datetime."
            )
        times = pd.DatetimeIndex(values)
        if times.isna().any():
            row = int(np.flatnonzero(times.isna())[0])
            raise ValueError(
                f"CalendarFeatures found a missing timestamp (NaT) at row {row}. "
                "Every row needs its time: fill or drop that row."
            )
        return times
