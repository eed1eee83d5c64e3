"""Input validation shared by the estimators."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import scipy.sparse as sp

from ._flattened_layout import check_layout, check_two_dimensional, unflatten_steps
from ._sklearn_compat import validate_data

FLOAT_DTYPES = (np.float64, np.float32)


def reject_sparse(estimator, X):
    """Raise a ValueError that says how to densify a sparse ``X``."""
    if sp.issparse(X):
        raise ValueError(
            f"{type(estimator).__name__} does not accept sparse input: its "
            "windows and recurrences need dense arrays. Convert with "
            "X.toarray() first."
        )


def validate_sequences(
    estimator,
    X,
    y="no_validation",
    *,
    reset,
    fitted_steps=1,
    n_timesteps=None,
    step_order="oldest_first",
    column_grouping="by_step",
    numeric_target=True,
):
    """Validate sequence inputs (and targets) for an LSTM estimator.

    ``X`` is ``(n_samples, n_timesteps, n_features)``, or
    ``(n_samples, n_features)`` for sequences of one time step. Features are
    counted on the last axis, so ``n_features_in_`` is the number of features
    per time step and the number of steps may differ between ``fit`` and
    ``predict``. With ``n_timesteps``, ``X`` is 2-D and each row holds one
    flattened sequence; features are then counted on the 2-D width.

    Parameters
    ----------
    estimator : estimator instance
        Receives ``n_features_in_`` (and ``feature_names_in_``) when
        ``reset=True``, and is checked against them otherwise.
    X : array-like of shape (n_samples, n_timesteps, n_features) or \
            (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), optional
    reset : bool
        True in ``fit``, False in ``predict`` (and in ``partial_fit`` or a
        warm start, which continue a fit). ``fit`` records the layout
        (``n_timesteps``, ``step_order``, ``column_grouping``) on the
        estimator; the other calls refuse a different one.
    fitted_steps : int, default=1
        Time steps of the sequences the model was fitted on. A 2-D ``X``
        after a fit on longer sequences is an error: it is the classic
        "forgot the windower" mistake.
    n_timesteps : int or None, default=None
        Read each row of a 2-D ``X`` as this many time steps of
        ``n_features_in_ // n_timesteps`` features each, in the layout
        ``step_order`` and ``column_grouping`` give. ``n_features_in_`` is
        then the width of ``X``. None for 3-D ``X``.
    step_order : {"oldest_first", "newest_first"}, default="oldest_first"
        Order of the steps along a flattened row; the returned sequences
        are always oldest step first.
    column_grouping : {"by_step", "by_feature"}, default="by_step"
        Whether a flattened row holds the features of each step side by
        side (``"by_step"``) or the steps of each feature (``"by_feature"``,
        the lag tables of multivariate reductions).
    numeric_target : bool, default=True
        Convert ``y`` to float64 (a regressor); False leaves a classifier's
        labels as they are.

    Returns
    -------
    X : ndarray of shape (n_samples, n_timesteps, n_features)
        Float32 or float64; finite, but for 3-D ``X`` and flattened rows
        (``n_timesteps``), whose NaN values :func:`sequence_lengths` reads as
        padding.
    y : ndarray
        Only when ``y`` is given.
    """
    reject_sparse(estimator, X)
    layout = {
        "n_timesteps": None if n_timesteps is None else int(n_timesteps),
        "step_order": step_order,
        "column_grouping": column_grouping,
    }
    check_layout(estimator, layout, reset)
    X = _at_most_three_dimensional(estimator, X)
    if n_timesteps is not None:
        reading = _flattened_rows(estimator, X, reset=reset, **layout)
    elif X.ndim == 3:
        reading = _windows(estimator, X)
    else:
        reading = _one_step_rows(estimator, X, fitted_steps)
    target_checks = {}
    if y is not None and not isinstance(y, str):
        target_checks = dict(y_numeric=numeric_target, multi_output=True)
    checked = validate_data(
        estimator,
        reading.array,
        y,
        allow_nd=True,
        dtype=FLOAT_DTYPES,
        reset=reset,
        ensure_all_finite=reading.ensure_all_finite,
        **target_checks,
    )
    if not isinstance(checked, tuple):
        return reading.as_sequences(checked)
    X, y = checked
    y = _numeric_target(estimator, y) if numeric_target else y
    return reading.as_sequences(X), y


@dataclass(frozen=True)
class _Reading:
    """How ``validate_data`` reads one form of ``X``, and how its result
    becomes ``(n_samples, n_timesteps, n_features)`` sequences."""

    array: np.ndarray
    ensure_all_finite: bool | str
    as_sequences: Callable


def _at_most_three_dimensional(estimator, X):
    if not hasattr(X, "ndim"):  # lists and other array-likes
        X = np.asarray(X)
    if X.ndim > 3:
        raise ValueError(
            f"{type(estimator).__name__} expects X of shape (n_samples, "
            f"n_timesteps, n_features) or (n_samples, n_features), got a "
            f"{X.ndim}-D array. Reshape it to 3-D."
        )
    return X


def _flattened_rows(estimator, X, *, reset, n_timesteps, step_order, column_grouping):
    """2-D ``X`` whose rows are flattened sequences (``n_timesteps``).

    NaN steps at the end of a row pad it, as in 3-D ``X``. The width is
    checked after ``validate_data``, whose messages (NaN, complex, 0
    features) scikit-learn's checks expect first.
    """
    check_two_dimensional(estimator, X, n_timesteps)
    return _Reading(
        X,
        "allow-nan",
        partial(
            unflatten_steps,
            estimator=estimator,
            check_width=reset,
            n_timesteps=n_timesteps,
            step_order=step_order,
            column_grouping=column_grouping,
        ),
    )


def _windows(estimator, X):
    """3-D ``X``: sequences as they are.

    ``validate_data`` counts features on axis 1, so it reads a view whose
    axis 1 is the feature axis, swapped back after. Its messages that quote
    the shape (of empty arrays) are raised before, with ``X``'s own. NaN
    steps at the end of a sequence pad it (:func:`sequence_lengths` checks
    that there are no others); inf stays an error.
    """
    X = np.asarray(X)
    _check_not_empty(estimator, X)
    swap_back = partial(np.swapaxes, axis1=1, axis2=2)
    return _Reading(np.swapaxes(X, 1, 2), "allow-nan", swap_back)


def _one_step_rows(estimator, X, fitted_steps):
    """2-D ``X`` (or 1-D, refused by ``validate_data``): sequences of one
    step, unless the model was fitted on longer ones (the classic "forgot
    the windower" mistake)."""
    if X.ndim == 2 and fitted_steps > 1:
        raise ValueError(
            f"{type(estimator).__name__} was fitted on sequences of "
            f"{fitted_steps} time steps, shape (n_samples, {fitted_steps}, "
            f"n_features), but got 2-D X of shape {X.shape}, which would be read "
            "as one-step sequences. Turn the rows into windows first, e.g. with "
            "SequenceWindower in a Pipeline (other window lengths are fine)."
        )
    return _Reading(X, True, _one_step)


def _one_step(X):
    return X[:, None, :]


def sequence_lengths(estimator, X):
    """The number of real steps of each sequence of a NaN-padded ``X``.

    tslearn's convention for sequences of different lengths: a 3-D array
    whose shorter sequences end in NaN steps (every feature NaN). NaN
    anywhere else is an error.

    Parameters
    ----------
    estimator : estimator instance
        Named in the messages.
    X : ndarray of shape (n_samples, n_timesteps, n_features)

    Returns
    -------
    lengths : ndarray of shape (n_samples,) or None
        None when ``X`` holds no NaN (every sequence is whole).

    Raises
    ------
    ValueError
        If a step is partly NaN, a NaN step comes before a real one, or a
        sequence has no real step.
    """
    missing = np.isnan(X)
    if not missing.any():
        return None
    # NaN features per step, summed by einsum: NumPy's reductions over a
    # short last axis (any, all, sum) take several times as long, and a BLAS
    # product would wake BLAS's threads, which then spin for a while beside
    # the compiled engine's (a padded fit on 2 threads took twice as long).
    n_features = X.shape[2]
    n_missing = np.einsum(
        "ij->i", missing.reshape(-1, n_features).view(np.uint8), dtype=np.int32
    ).reshape(X.shape[:2])
    padding = n_missing == n_features
    name = type(estimator).__name__
    if ((n_missing > 0) & ~padding).any():
        raise ValueError(
            f"Input X contains NaN inside a step: {name} reads NaN only as "
            "padding, a whole step of NaN after the end of a shorter sequence. "
            "Impute the missing values (e.g. SimpleImputer before the "
            "windower), or pad whole steps."
        )
    lengths = (~padding).sum(axis=1)
    real = np.arange(X.shape[1]) < lengths[:, None]
    if (real == padding).any() or not lengths.all():
        raise ValueError(
            f"Input X contains NaN steps before the end of a sequence (or a "
            f"sequence of NaN only): {name} reads NaN steps only as padding at "
            "the end of a shorter sequence, which must keep at least one real "
            "step. Move the padding to the end, or impute the missing steps."
        )
    return lengths


_EMPTY_AXES = (
    ("sample", "Pass at least one sequence."),
    ("time step", "Pass sequences with at least one time step."),
    ("feature", "Pass sequences with at least one feature."),
)


def shortest_length(X, lengths):
    """The number of real steps of the shortest sequence of ``X``, whose
    :func:`sequence_lengths` are ``lengths`` (None: all whole)."""
    return X.shape[1] if lengths is None else int(lengths.min())


def _check_not_empty(estimator, X):
    """A ValueError, quoting the shape of 3-D ``X`` as given, for an empty axis."""
    for size, (what, fix) in zip(X.shape, _EMPTY_AXES, strict=True):
        if size == 0:
            raise ValueError(
                f"Found array with 0 {what}(s) (shape={X.shape}) while a minimum "
                f"of 1 is required by {type(estimator).__name__}. {fix}"
            )


def _numeric_target(estimator, y):
    """``y`` as float64, or a ValueError that says how to fix it."""
    try:
        return y.astype(np.float64, copy=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{type(estimator).__name__} needs a numeric target y, got dtype "
            f"{y.dtype} that could not be converted to float ({exc}). Encode the "
            "target as numbers."
        ) from exc


def check_fits_dtype(estimator, array, dtype, what):
    """Raise a ValueError if finite ``array`` overflows ``dtype``.

    A float64 value beyond float32's range (about 3.4e38) becomes inf in a
    float32 model, and its predictions NaN: refused here instead, for every
    engine alike.

    Parameters
    ----------
    estimator : estimator instance
        Named in the message.
    array : ndarray
        Finite values (checked before).
    dtype : str or numpy dtype
        The dtype the model computes in.
    what : str
        What ``array`` is, for the message (``"X"``, ``"y"``).
    """
    dtype = np.dtype(dtype)
    if array.size == 0 or np.finfo(array.dtype).max <= np.finfo(dtype).max:
        return
    largest = float(np.nanmax(np.abs(array)))  # NaN: padding steps
    if largest > float(np.finfo(dtype).max):
        raise ValueError(
            f"{type(estimator).__name__} computes in {dtype.name}, whose values "
            f"stop at {np.finfo(dtype).max:.3g}, but {what} holds {largest:.3g}. "
            f"Scale {what} (e.g. StandardScaler"
            + (
                " before the windower)"
                if what == "X"
                else "; scale_target=True does it for y)"
            )
            + ", or set dtype='float64'."
        )
