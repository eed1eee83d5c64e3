"""The look-ahead of SequenceWindower: known-ahead columns after row ``t``.

Pure functions on arrays, used by :class:`~sklstm.SequenceWindower` when
``lead > 0``:

- :func:`resolve_columns` turns ``known_ahead`` (positions or names) into
  sorted column positions;
- :func:`observed_rows` checks a table and counts its observed rows;
- :func:`count_observed` splits a table into observed rows and the future
  rows appended after them (every past-only value NaN);
- :func:`check_known_values` refuses a missing known-ahead value that a
  window reads;
- :func:`look_ahead` gathers the known-ahead values of rows ``t + 1 … t +
  lead`` for each observed row ``t``;
- :func:`sequence_windows` and :func:`flat_features` join them to the
  windows of past rows.
"""

from numbers import Integral

import numpy as np

from ._window_checks import reject_non_finite


def resolve_columns(known_ahead, lead, n_features, feature_names=None):
    """Sorted positions of the known-ahead columns.

    Parameters
    ----------
    known_ahead : array-like of int or str, or None
        Column positions, or column names when the table had string names.
    lead : int
        The windower's ``lead``: with ``lead > 0``, some column must be named.
    n_features : int
    feature_names : ndarray of str or None
        ``feature_names_in_`` of the windower, if any.

    Returns
    -------
    positions : ndarray of int64
        Increasing, without repeats.

    Raises
    ------
    ValueError
        If a position is out of range, a name is unknown, names are given
        for a table without names, a column is named twice, or none is
        named with ``lead > 0``.
    """
    items = [] if known_ahead is None else list(known_ahead)
    if lead > 0 and not items:
        raise ValueError(
            f"SequenceWindower(lead={lead}) reads the known-ahead columns after "
            "each row, but known_ahead names none. Name the columns known "
            "ahead, or set lead=0."
        )
    positions = []
    for item in items:
        if isinstance(item, Integral) and not isinstance(item, bool):
            if not 0 <= item < n_features:
                raise ValueError(
                    f"known_ahead holds column position {item}, but X has "
                    f"{n_features} column(s). Pass positions 0 to "
                    f"{n_features - 1}, or column names."
                )
            positions.append(int(item))
        elif isinstance(item, str):
            if feature_names is None:
                raise ValueError(
                    f"known_ahead names column {item!r}, but X has no column "
                    "names. Pass a DataFrame, or column positions."
                )
            matches = np.flatnonzero(np.asarray(feature_names) == item)
            if not len(matches):
                raise ValueError(
                    f"known_ahead names column {item!r}, which X lacks; its "
                    f"columns are {list(feature_names)}."
                )
            positions.append(int(matches[0]))
        else:
            raise ValueError(
                f"known_ahead holds {item!r}; it takes column positions (int) "
                "or column names (str)."
            )
    if len(set(positions)) != len(positions):
        raise ValueError(
            f"known_ahead names a column twice: {items}. Name each column once."
        )
    return np.asarray(sorted(positions), dtype=np.int64)


def observed_rows(X, known, window, lead, names):
    """Number of observed rows of ``X``, after refusing what windows can't read.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    known : ndarray of int
        Positions of the known-ahead columns.
    window, lead : int
    names : sequence of str
        Column names, for the messages.

    Returns
    -------
    n_observed : int
        Rows before the trailing future rows (:func:`count_observed`).

    Raises
    ------
    ValueError
        If no row is observed, an observed row holds NaN or infinity, or a
        window reads a missing known-ahead value (:func:`check_known_values`).
    """
    past_only = np.setdiff1d(np.arange(X.shape[1]), known)
    n_observed = count_observed(X, past_only)
    if n_observed == 0:
        raise ValueError(
            "Every row of X has NaN in every past-only column, so X has no "
            f"observed row to window. With known_ahead={list(known)}, only "
            "the rows appended after the last observed one may lack "
            "past-only values: pass the observed rows too."
        )
    reject_non_finite(
        X[:n_observed],
        window + lead,
        hint=(
            " With lead > 0, only the last rows may miss values, and only "
            "when every past-only column is NaN there (future rows)."
        ),
    )
    check_known_values(X, n_observed, known, lead, names)
    return n_observed


def lead_names(names, known, lead):
    """``f"{name}_lead{j}"`` of the known-ahead columns, ``j = 1 … lead``."""
    return [
        f"{names[column]}_lead{step}" for step in range(1, lead + 1) for column in known
    ]


def count_observed(X, past_only):
    """Number of observed rows: those before the trailing future rows.

    A future row is one of the last rows of ``X`` whose every past-only
    value is NaN: the rows a forecaster appends after the last observed hour,
    holding only what is known ahead. With no past-only column, no row can
    be told apart, and every row counts as observed.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    past_only : ndarray of int
        Positions of the past-only columns.

    Returns
    -------
    n_observed : int
    """
    if not len(past_only):
        return len(X)
    observed = ~np.isnan(X[:, past_only]).all(axis=1)
    positions = np.flatnonzero(observed)
    return int(positions[-1]) + 1 if len(positions) else 0


def check_known_values(X, n_observed, known, lead, names):
    """Raise a ValueError if a window reads a missing known-ahead value.

    Only the future rows (from ``n_observed`` on) are checked here; the
    observed rows are checked as a table without look-ahead is. The future
    rows that windows read are the first ``lead`` of them; if any future
    row is appended, at least ``lead`` must be, so that the last observed
    row's look-ahead is all known rather than partly padded.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    n_observed : int
    known : ndarray of int
        Positions of the known-ahead columns.
    lead : int
    names : sequence of str
        Column names, for the message.
    """
    n_future = len(X) - n_observed
    if 0 < n_future < lead:
        raise ValueError(
            f"X ends with {n_future} future row(s) (every past-only value NaN) "
            f"after its last observed row, {n_observed - 1}, but lead={lead}: "
            f"the window of row {n_observed - 1} reads the known-ahead columns "
            f"of the {lead} rows after it. Append {lead} future rows, or "
            "none (then the look-ahead past the end is padded)."
        )
    read = X[n_observed : n_observed + lead][:, known]
    bad = ~np.isfinite(read)
    if not bad.any():
        return
    row, column = (int(index[0]) for index in np.nonzero(bad))
    value = read[row, column]
    row += n_observed
    raise ValueError(
        f"Known-ahead column {names[known[column]]!r} is {value} at row {row}, "
        f"a future row (after the last observed row, {n_observed - 1}) that "
        f"the window of row {n_observed - 1} reads (lead={lead}). Fill the "
        "known-ahead columns of the rows appended after the last observed "
        "one; only the past-only columns may be missing (NaN) there."
    )


def look_ahead(X, n_observed, known, lead, padding):
    """Known-ahead values of rows ``t + 1 … t + lead``, for each observed ``t``.

    Rows past the end of ``X`` are filled as ``padding`` says: ``"edge"``
    repeats the last row's values, ``"zero"`` fills zeros.

    Returns
    -------
    ahead : ndarray of shape (n_observed, lead, len(known))
    """
    values = X[:, known]
    tail = np.repeat(values[-1:], lead, axis=0)
    if padding == "zero":
        tail[...] = 0
    extended = np.concatenate([values[1:], tail])
    ahead = np.lib.stride_tricks.sliding_window_view(extended, lead, axis=0)
    return np.swapaxes(ahead[:n_observed], 1, 2)


def sequence_windows(past, ahead, known):
    """Join past windows and look-ahead into one sequence per row.

    Parameters
    ----------
    past : ndarray of shape (n_rows, window, n_features)
    ahead : ndarray of shape (n_rows, lead, len(known))
    known : ndarray of int

    Returns
    -------
    windows : ndarray of shape (n_rows, window + lead, n_features + 1)
        Past steps first, with a last column 0; then the future steps, the
        known-ahead columns in their places, every past-only column 0 and
        the last column 1.
    """
    n_rows, window, n_features = past.shape
    lead = ahead.shape[1]
    windows = np.zeros((n_rows, window + lead, n_features + 1), dtype=past.dtype)
    windows[:, :window, :n_features] = past
    windows[:, window:, known] = ahead
    windows[:, window:, n_features] = 1
    return windows


def flat_features(past, ahead):
    """Lags then leads, one row per window: ``(n_rows, window * F + lead * K)``."""
    n_rows = len(past)
    return np.concatenate([past.reshape(n_rows, -1), ahead.reshape(n_rows, -1)], 1)
