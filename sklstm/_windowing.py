"""SequenceWindower: rows of a time-ordered table to windows of past rows."""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._persistence import SavedStateMixin
from ._sklearn_compat import (
    Interval,
    StrOptions,
    _check_feature_names_in,
    _fit_context,
    validate_data,
)
from ._validation import FLOAT_DTYPES, reject_sparse


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
        scaling).

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
    """

    _parameter_constraints = {
        "window": [Interval(Integral, 1, None, closed="left")],
        "flatten": ["boolean"],
        "padding": [StrOptions({"edge", "zero"})],
    }

    def __init__(self, window=24, *, flatten=False, padding="edge"):
        self.window = window
        self.flatten = flatten
        self.padding = padding

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
            Time-ordered rows, oldest first.
        y : None
            Ignored.

        Returns
        -------
        self : SequenceWindower
            The fitted transformer.
        """
        self._validate(X, reset=True)
        return self

    def transform(self, X):
        """Window the rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Time-ordered rows, oldest first; at least one. Rows with fewer
            than ``window - 1`` rows before them are padded as ``padding``
            says.

        Returns
        -------
        windows : ndarray of shape (n_rows, window, n_features) or \
                (n_rows, window * n_features)
            ``windows[t, -1]`` is row ``t``; 2-D when ``flatten=True``.
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        n_rows, n_features = X.shape
        history = np.repeat(X[:1], self.window - 1, axis=0)
        if self.padding == "zero":
            history[...] = 0
        padded = np.concatenate([history, X])
        windows = np.lib.stride_tricks.sliding_window_view(padded, self.window, axis=0)
        windows = np.ascontiguousarray(np.swapaxes(windows, 1, 2))
        if self.flatten:
            return windows.reshape(n_rows, self.window * n_features)
        return windows

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
        # The same configuration _SetOutputMixin.set_output stores; the mixin
        # offers its method only when get_feature_names_out exists, i.e. with
        # flatten=True, and wraps the output only then, so the 3-D windows
        # pass through as an ndarray.
        if transform is None:
            return self
        if not hasattr(self, "_sklearn_output_config"):
            self._sklearn_output_config = {}
        self._sklearn_output_config["transform"] = transform
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
            ``t``, in the order of the flattened output.
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        return np.asarray(
            [
                f"{name}_lag{lag}"
                for lag in range(self.window - 1, -1, -1)
                for name in names
            ],
            dtype=object,
        )

    def _validate(self, X, *, reset):
        reject_sparse(self, X)
        _reject_non_numeric_columns(X)
        # validate_data refuses empty input (0 rows or 0 columns) with a clear
        # message; non-finite values are reported below, with their position
        # and a fix, which its own message for infinity lacks.
        X = validate_data(
            self, X, reset=reset, dtype=FLOAT_DTYPES, ensure_all_finite=False
        )
        _reject_non_finite(X, self.window)
        return X


def _reject_non_finite(X, window):
    """Raise a ValueError that locates NaN or infinite values in ``X``."""
    finite = np.isfinite(X)
    if finite.all():
        return
    rows, columns = np.nonzero(~finite)
    has_infinity = np.isinf(X).any()
    found = [
        kind
        for kind, present in (("NaN", np.isnan(X).any()), ("infinity", has_infinity))
        if present
    ]
    fix = "DataFrame.ffill() fills from past values only"
    if has_infinity:
        fix = (
            "turn infinities into NaN with "
            f"DataFrame.replace([np.inf, -np.inf], np.nan), then fill; {fix}"
        )
    raise ValueError(
        f"Input X contains {' and '.join(found)} ({len(rows)} value(s), the "
        f"first at row {rows[0]}, column {columns[0]}). SequenceWindower would "
        f"copy each into the {window} window(s) that hold its row. Fill or drop "
        f"the non-finite values before windowing: {fix}."
    )


_ENCODE = (
    "SequenceWindower windows numbers: encode it first, e.g. with a "
    "OneHotEncoder in a ColumnTransformer before the windower"
)
#: Dates and durations: the order of the rows is the time axis already.
_DATES = (
    "The order of the rows is already the time axis of the windows: drop it, "
    "or derive numbers from it first, e.g. the hour of the day with "
    "X[column].dt.hour"
)
_DURATIONS = (
    "Convert it to numbers of a unit first, e.g. hours with "
    "X[column].dt.total_seconds() / 3600"
)


def _reject_non_numeric_columns(X):
    """Raise a ValueError naming a column of text, categories or dates.

    Numeric and boolean columns pass, as do text columns whose every value
    reads as a number; what is left is for ``validate_data`` to convert.
    """
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "mMOUS":
        X = pd.DataFrame(X)  # columns named by their position
    if not isinstance(X, pd.DataFrame):
        return
    for position, (name, dtype) in enumerate(X.dtypes.items()):
        _check_column(X, position, repr(name), dtype)


def _check_column(frame, position, name, dtype):
    """Raise a ValueError unless the column at ``position`` holds numbers."""
    if isinstance(dtype, pd.CategoricalDtype):
        shown = list(dtype.categories[:5])
        raise ValueError(
            f"Column {name} of X is categorical (categories {shown}"
            f"{', ...' if len(dtype.categories) > 5 else ''}). {_ENCODE}; if "
            "its categories are numbers, convert it with .astype(float)."
        )
    if pd.api.types.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
        raise ValueError(f"Column {name} of X holds dates ({dtype}). {_DATES}.")
    if pd.api.types.is_timedelta64_dtype(dtype):
        raise ValueError(f"Column {name} of X holds durations ({dtype}). {_DURATIONS}.")
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return
    column = frame.iloc[:, position]
    # Text that does not read as a number; other objects are left to
    # validate_data, whose TypeError scikit-learn's checks expect.
    text = column.map(lambda value: isinstance(value, str | bytes)).astype(bool)
    not_numbers = text & pd.to_numeric(column.where(text), errors="coerce").isna()
    if not_numbers.any():
        row = int(np.flatnonzero(not_numbers.to_numpy())[0])
        raise ValueError(
            f"Column {name} of X holds text, e.g. {column.iloc[row]!r} at row "
            f"{row}, not numbers. {_ENCODE}."
        )
