"""SequenceWindower: rows of a time-ordered table to windows of past rows."""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from . import _known_ahead
from ._persistence import SavedStateMixin
from ._sklearn_compat import (
    Interval,
    StrOptions,
    _check_feature_names_in,
    _fit_context,
    set_transform_output,
    transform_output,
    validate_data,
)
from ._validation import FLOAT_DTYPES, reject_sparse
from ._window_checks import reject_non_finite, reject_non_numeric_columns


class SequenceWindower(SavedStateMixin, TransformerMixin, BaseEstimator):
    """Turn each row of a time-ordered table into the window of rows ending there.

    Row ``t`` of the output holds input rows ``t - window + 1 … t``, oldest
    first, so its last step is row ``t`` itself. The output keeps the number
    of rows, so a target ``y`` stays aligned with ``X`` inside a
    :class:`~sklearn.pipeline.Pipeline`. The first ``window - 1`` rows lack
    part of their history; ``padding`` says how it is filled. Any input with
    at least one row is windowed, even one shorter than ``window``: its rows
    are padded exactly like the first rows of a longer input, so windowing
    the first ``n`` rows of a series gives the first ``n`` windows of the
    whole series.

    The windower has no state beyond the number (and names) of features: it
    windows whatever rows it is given, so give ``transform`` the history that
    the first rows need (for a test period, start ``window - 1`` rows early
    and drop the first ``window - 1`` outputs).

    Parameters
    ----------
    window : int, default=24
        Number of rows (time steps) in each window.
    flatten : bool, default=False
        If False, output ``(n_rows, window, n_features)`` for
        :class:`LSTMRegressor`. If True, output ``(n_rows, window *
        n_features)`` lag features for non-sequence models (linear models,
        gradient boosting), named by :meth:`get_feature_names_out`.
    padding : {"edge", "zero"}, default="edge"
        How the missing history of the first ``window - 1`` rows is filled:
        ``"edge"`` repeats the first row (a flat past, no jump at the first
        real row); ``"zero"`` fills zeros (the mean, after standard
        scaling). With ``lead > 0`` the known-ahead values past the end of
        the table are filled the same way (``"edge"``: the last row's).
    known_ahead : array-like of int or str, default=None
        The columns known ahead (calendar, weather forecasts, planned
        events), by position or, for a DataFrame, by name. Only read with
        ``lead > 0``; every other column is *past-only*, never read after
        row ``t``.
    lead : int, default=0
        Rows after row ``t`` whose known-ahead values the window of row
        ``t`` also holds. With ``lead > 0``:

        - 3-D output: ``(n_rows, window + lead, n_features + 1)``. Steps
          ``0 … window - 1`` are rows ``t - window + 1 … t``, every column,
          then 0 in the last column; steps ``window … window + lead - 1``
          are rows ``t + 1 … t + lead``: the known-ahead columns, 0 in every
          past-only column, and 1 in the last column, the flag of a future
          step. An LSTM reads the known-ahead values as the rest of the
          sequence.
        - ``flatten=True``: the ``window * n_features`` lags, then
          ``lead * len(known_ahead)`` leads (``x_lead1 … x_leadH``), without
          the masked past-only values or the flag.
        - Future rows: the last rows of ``X`` whose every past-only value
          is NaN, appended after the last observed hour for their
          known-ahead values, give no output row. Without them, the
          look-ahead past the end of the table is padded as ``padding``
          says, so ``X`` and ``y`` keep their rows in a ``Pipeline``.

    Notes
    -----
    Columns must hold numbers (booleans count as 0 and 1). A column of text,
    a categorical column, or a column of dates or durations is refused with
    an error that names it, never converted silently: encode categories
    first (e.g. :class:`~sklearn.preprocessing.OneHotEncoder` in a
    :class:`~sklearn.compose.ColumnTransformer` before the windower), and
    drop dates (the order of the rows is the time axis) or turn them into
    numbers such as the hour of the day.

    :meth:`set_output` is always available, so the windower fits in a
    :class:`~sklearn.pipeline.Pipeline` whose output is set to pandas or
    polars (by ``Pipeline.set_output`` or by
    ``sklearn.set_config(transform_output=...)``). With ``flatten=True`` the
    lag features then come as a DataFrame whose columns are
    :meth:`get_feature_names_out`. With ``flatten=False`` the 3-D windows have
    no table form: they pass through as an ndarray whatever the output
    setting, which is what :class:`LSTMRegressor` reads.

    Attributes
    ----------
    n_features_in_ : int
        Number of features (columns) per row.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` was a DataFrame with string column names.
    known_ahead_ : ndarray of int
        Positions of the known-ahead columns, increasing; empty unless
        ``known_ahead`` names some.

    See Also
    --------
    LSTMRegressor : The sequence model that reads these windows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import SequenceWindower
    >>> X = np.arange(5.0).reshape(-1, 1)
    >>> SequenceWindower(window=3).fit_transform(X)[:, :, 0]
    array([[0., 0., 0.],
           [0., 0., 1.],
           [0., 1., 2.],
           [1., 2., 3.],
           [2., 3., 4.]])
    >>> SequenceWindower(window=2, flatten=True).fit(X).get_feature_names_out()
    array(['x0_lag1', 'x0_lag0'], dtype=object)

    Column 1 known one row ahead; the last column flags the future step:

    >>> X = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    >>> SequenceWindower(window=2, known_ahead=[1], lead=1).fit_transform(X)[1]
    array([[ 1., 10.,  0.],
           [ 2., 20.,  0.],
           [ 0., 30.,  1.]])
    """

    _parameter_constraints = {
        "window": [Interval(Integral, 1, None, closed="left")],
        "flatten": ["boolean"],
        "padding": [StrOptions({"edge", "zero"})],
        "known_ahead": ["array-like", None],
        "lead": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self, window=24, *, flatten=False, padding="edge", known_ahead=None, lead=0
    ):
        self.window = window
        self.flatten = flatten
        self.padding = padding
        self.known_ahead = known_ahead
        self.lead = lead

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the number (and names) of features of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Time-ordered rows, oldest first; with ``lead > 0``, possibly
            followed by future rows (every past-only value NaN).
        y : None
            Ignored.

        Returns
        -------
        self : SequenceWindower
            The fitted transformer.
        """
        X = self._validate_table(X, reset=True)
        known = _known_ahead.resolve_columns(
            self.known_ahead,
            self.lead,
            X.shape[1],
            getattr(self, "feature_names_in_", None),
        )
        self._check_rows(X, known)
        self.known_ahead_ = known
        return self

    def transform(self, X):
        """Window the rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Time-ordered rows, oldest first; at least one. Rows with fewer
            than ``window - 1`` rows before them are padded as ``padding``
            says. With ``lead > 0``, future rows may follow the observed
            ones (every past-only value NaN): they give no output row.

        Returns
        -------
        windows : ndarray of shape (n_observed, window, n_features) or \
                (n_observed, window * n_features)
            ``windows[t, window - 1]`` is row ``t``; 2-D when
            ``flatten=True``; ``n_observed`` is ``n_rows`` without future
            rows. With ``lead > 0``, of shape ``(n_observed, window + lead,
            n_features + 1)`` or ``(n_observed, window * n_features + lead
            * len(known_ahead_))``.
        """
        check_is_fitted(self)
        original = X
        X = self._validate_table(X, reset=False)
        n_observed = self._check_rows(X, self.known_ahead_)
        past = _past_windows(X[:n_observed], self.window, self.padding)
        if not self.lead:
            if self.flatten:
                return past.reshape(n_observed, -1)
            return past
        known = self.known_ahead_
        ahead = _known_ahead.look_ahead(X, n_observed, known, self.lead, self.padding)
        if not self.flatten:
            return _known_ahead.sequence_windows(past, ahead, known)
        features = _known_ahead.flat_features(past, ahead)
        if n_observed < len(X) and transform_output(self) == "pandas":
            # The wrapper of set_output("pandas") would give the features the
            # input's index, future rows included: give it the right rows.
            index = getattr(original, "index", None)
            index = None if index is None else index[:n_observed]
            features = pd.DataFrame(features, index=index)
        return features

    def set_output(self, *, transform=None):
        """Set the output container of ``transform`` and ``fit_transform``.

        Available whatever ``flatten`` is, so that ``Pipeline.set_output``
        works on a pipeline holding the windower.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"}, default=None
            Output of ``transform`` and ``fit_transform``:

            - ``"default"``: an ndarray;
            - ``"pandas"`` or ``"polars"``: with ``flatten=True``, a DataFrame
              whose columns are :meth:`get_feature_names_out`; with
              ``flatten=False``, the 3-D ndarray unchanged, since windows
              have no table form;
            - ``None``: the setting is left unchanged.

        Returns
        -------
        self : SequenceWindower
            The transformer, its output configured.

        Examples
        --------
        >>> import pandas as pd
        >>> from sklstm import SequenceWindower
        >>> frame = pd.DataFrame({"temp": [1.0, 2.0, 3.0]})
        >>> windower = SequenceWindower(window=2, flatten=True)
        >>> windower.set_output(transform="pandas").fit_transform(frame)
           temp_lag1  temp_lag0
        0        1.0        1.0
        1        1.0        2.0
        2        2.0        3.0
        >>> windows = SequenceWindower(window=2).set_output(transform="pandas")
        >>> windows.fit_transform(frame).shape
        (3, 2, 1)
        """
        # Stored where _SetOutputMixin.set_output stores it; the mixin
        # offers its method only when get_feature_names_out exists, i.e. with
        # flatten=True, and wraps the output only then, so the 3-D windows
        # pass through as an ndarray.
        if transform is None:
            return self
        set_transform_output(self, transform)
        return self

    @available_if(lambda windower: windower.flatten)
    def get_feature_names_out(self, input_features=None):
        """Get the output feature names: the lag features (``flatten=True`` only).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; defaults to ``feature_names_in_`` or
            ``x0, x1, …``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``f"{name}_lag{k}"``, oldest lag first: ``k`` rows before row
            ``t``, in the order of the flattened output; with ``lead > 0``,
            then ``f"{name}_lead{j}"`` for the known-ahead columns, ``j =
            1 … lead`` rows after row ``t``.
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        lags = [
            f"{name}_lag{k}" for k in range(self.window - 1, -1, -1) for name in names
        ]
        leads = _known_ahead.lead_names(names, self.known_ahead_, self.lead)
        return np.asarray(lags + leads, dtype=object)

    def _validate_table(self, X, *, reset):
        reject_sparse(self, X)
        reject_non_numeric_columns(X)
        # validate_data refuses empty input (0 rows or 0 columns) with a clear
        # message; non-finite values are reported by _check_rows, with their
        # position and a fix, which its own message for infinity lacks.
        return validate_data(
            self, X, reset=reset, dtype=FLOAT_DTYPES, ensure_all_finite=False
        )

    def _check_rows(self, X, known):
        """Refuse non-finite values where read; return the observed row count."""
        if not self.lead:
            reject_non_finite(X, self.window)
            return len(X)
        names = _check_feature_names_in(self, None)
        return _known_ahead.observed_rows(X, known, self.window, self.lead, names)


def _past_windows(X, window, padding):
    """Windows of rows ``t - window + 1 … t``: ``(n_rows, window, n_features)``."""
    history = np.repeat(X[:1], window - 1, axis=0)
    if padding == "zero":
        history[...] = 0
    padded = np.concatenate([history, X])
    windows = np.lib.stride_tricks.sliding_window_view(padded, window, axis=0)
    return np.ascontiguousarray(np.swapaxes(windows, 1, 2))
