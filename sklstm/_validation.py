"""Input validation shared by the estimators."""

import numpy as np
import scipy.sparse as sp

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


def validate_sequences(estimator, X, y="no_validation", *, reset, fitted_steps=1):
    """Validate sequence inputs (and targets) for an LSTM estimator.

    ``X`` is ``(n_samples, n_timesteps, n_features)``, or
    ``(n_samples, n_features)`` for sequences of one time step. Features are
    counted on the last axis, so ``n_features_in_`` is the number of features
    per time step and the number of steps may differ between ``fit`` and
    ``predict``.

    Parameters
    ----------
    estimator : estimator instance
        Receives ``n_features_in_`` (and ``feature_names_in_``) when
        ``reset=True``, and is checked against them otherwise.
    X : array-like of shape (n_samples, n_timesteps, n_features) or \
            (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), optional
    reset : bool
        True in ``fit``, False in ``predict``.
    fitted_steps : int, default=1
        Time steps of the sequences the model was fitted on. A 2-D ``X``
        after a fit on longer sequences is an error: it is the classic
        "forgot the windower" mistake.

    Returns
    -------
    X : ndarray of shape (n_samples, n_timesteps, n_features)
        Float32 or float64, finite.
    y : ndarray
        Only when ``y`` is given.
    """
    reject_sparse(estimator, X)
    check_params = dict(dtype=FLOAT_DTYPES, reset=reset)
    if y is not None and not isinstance(y, str):
        check_params.update(y_numeric=True, multi_output=True)
    if not hasattr(X, "ndim"):  # lists and other array-likes
        X = np.asarray(X)
    if X.ndim > 3:
        raise ValueError(
            f"{type(estimator).__name__} expects X of shape (n_samples, "
            f"n_timesteps, n_features) or (n_samples, n_features), got a "
            f"{X.ndim}-D array. Reshape it to 3-D."
        )
    if X.ndim == 2 and fitted_steps > 1:
        raise ValueError(
            f"{type(estimator).__name__} was fitted on sequences of "
            f"{fitted_steps} time steps, shape (n_samples, {fitted_steps}, "
            f"n_features), but got 2-D X of shape {X.shape}, which would be read "
            "as one-step sequences. Turn the rows into windows first, e.g. with "
            "SequenceWindower in a Pipeline (other window lengths are fine)."
        )
    if X.ndim == 3:
        X = np.asarray(X)
        for axis, what in ((1, "time step"), (2, "feature")):
            if X.shape[axis] == 0:
                raise ValueError(
                    f"Found array with 0 {what}(s) (shape={X.shape}) while a "
                    f"minimum of 1 is required. Pass sequences with at least one "
                    f"{what}."
                )
        # validate_data counts features on axis 1: hand it a view whose axis 1
        # is the feature axis, and swap back.
        X = np.swapaxes(X, 1, 2)

        def as_sequences(checked):
            return np.swapaxes(checked, 1, 2)

    else:

        def as_sequences(checked):
            return checked[:, None, :]  # one time step

    checked = validate_data(estimator, X, y, allow_nd=True, **check_params)
    if isinstance(checked, tuple):
        return as_sequences(checked[0]), _numeric_target(estimator, checked[1])
    return as_sequences(checked)


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
    largest = float(max(array.max(), -array.min()))
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
