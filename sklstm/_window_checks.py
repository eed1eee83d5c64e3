"""Input checks of SequenceWindower: numbers only, finite where read."""

import numpy as np
import pandas as pd


def reject_non_finite(X, window, hint=""):
    """Raise a ValueError that locates NaN or infinite values in ``X``.

    ``hint``, when given, ends the message (how known-ahead rows are told
    apart from observed ones).
    """
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
        f"the non-finite values before windowing: {fix}.{hint}"
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


def reject_non_numeric_columns(X):
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
