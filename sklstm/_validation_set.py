"""What early stopping scores: the validation set given to ``fit``, or the
rows it holds out of the training data.

``fit(X, y, sample_weight, *, X_val, y_val, sample_weight_val)`` takes a
validation set as ``HistGradientBoostingRegressor.fit`` does (scikit-learn
1.7): with ``X_val`` and ``y_val``, early stopping scores those rows and
trains on all of ``X``, ``validation_fraction`` is not read; one of the two
alone, or the two without ``early_stopping``, is an error;
``sample_weight_val`` without them is ignored. Without them,
the estimator holds out rows of ``X`` (``_validation_split``).
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._parameters import check_skip_steps, flat_layout
from ._sklearn_compat import _check_sample_weight
from ._validation import (
    check_fits_dtype,
    sequence_lengths,
    shortest_length,
    validate_sequences,
)

#: Fewest rows early stopping scores, the hold-out of ``X`` or ``X_val``.
MIN_VALIDATION_ROWS = 2


@dataclass(frozen=True)
class HeldOut:
    """The rows that early stopping scores.

    Attributes
    ----------
    X : ndarray of shape (n_val, n_timesteps, n_features)
    targets : ndarray of shape (n_val, n_outputs)
        As the network learns them (a classifier's labels encoded), before
        any target scaling.
    sample_weight : ndarray of shape (n_val,)
    lengths : ndarray of shape (n_val,) or None
        The real steps of NaN-padded sequences; None when none is padded.
    """

    X: np.ndarray
    targets: np.ndarray
    sample_weight: np.ndarray
    lengths: Any = None

    @classmethod
    def rows_of(cls, rows, X, targets, sample_weight, lengths):
        """The ``rows`` (a slice or an index array) of the training data."""
        return cls(
            X[rows],
            targets[rows],
            sample_weight[rows],
            None if lengths is None else lengths[rows],
        )


def check_validation_set(
    estimator,
    X_val,
    y_val,
    sample_weight_val,
    *,
    n_timesteps,
    numeric_target,
    encode,
    n_outputs,
):
    """The validation set given to ``fit``, checked as ``fit`` checks ``X``,
    ``y`` and ``sample_weight``; None when ``fit`` was given none.

    Parameters
    ----------
    estimator : BaseLSTM
        Its ``X`` already validated (``n_features_in_`` and the flattened
        layout recorded).
    X_val, y_val, sample_weight_val : array-like or None
        As ``fit`` takes them.
    n_timesteps : int
        The time steps of the sequences of ``X``.
    numeric_target : bool
        Whether ``y`` is read as numbers (a regressor) or labels.
    encode : callable
        Encodes the checked ``y_val`` as the network learns ``y``: returns
        a ``(n_val, n_outputs)`` array.
    n_outputs : int
        The outputs of the network (the columns of encoded ``y``).

    Returns
    -------
    held_out : HeldOut or None

    Raises
    ------
    ValueError
        If only one of ``X_val`` and ``y_val`` is given, if they are given
        with ``early_stopping=False``, if ``X_val`` does not read as ``X``
        (features, time steps, finite values), if they hold fewer than two
        rows or differ in length, if ``y_val`` has other outputs than ``y``
        (a classifier: labels outside its classes), or if every
        ``sample_weight_val`` is zero.
    """
    if X_val is None and y_val is None:
        return None  # sample_weight_val alone is ignored, as scikit-learn does
    if y_val is None:
        raise ValueError("X_val is provided, but y_val was not provided.")
    if X_val is None:
        raise ValueError("y_val is provided, but X_val was not provided.")
    X_val, y_val = validate_sequences(
        estimator,
        X_val,
        y_val,
        reset=False,
        fitted_steps=n_timesteps,
        numeric_target=numeric_target,
        **flat_layout(estimator),
    )
    if not estimator.early_stopping:
        raise ValueError(
            "X_val and y_val are passed to fit while at the same time "
            "early_stopping is False. When passing X_val and y_val to fit, "
            "early_stopping should be set to True."
        )
    if X_val.shape[1] != n_timesteps:
        raise ValueError(
            f"X_val holds sequences of {X_val.shape[1]} time steps, and X of "
            f"{n_timesteps}: early stopping scores sequences like the training "
            "ones. Window X_val as X (the same SequenceWindower)."
        )
    if len(X_val) < MIN_VALIDATION_ROWS:
        raise ValueError(
            f"X_val holds {len(X_val)} sequence(s); early stopping needs at "
            f"least {MIN_VALIDATION_ROWS} to score. Pass more rows."
        )
    lengths = sequence_lengths(estimator, X_val)  # before any NaN is read
    check_fits_dtype(estimator, X_val, estimator.dtype, "X_val")
    check_skip_steps(
        shortest_length(X_val, lengths), estimator.skip_steps, "fit as X_val"
    )
    try:
        sample_weight_val = _check_sample_weight(
            sample_weight_val,
            X_val[:, 0, :],
            dtype=X_val.dtype,
            ensure_non_negative=True,
        )
    except ValueError as error:
        raise ValueError(f"sample_weight_val: {error}") from error
    targets = encode(y_val)
    if targets.shape[1] != n_outputs:
        raise ValueError(
            f"y_val has {targets.shape[1]} output(s) and y {n_outputs}: give "
            "y_val the columns of y."
        )
    return HeldOut(X_val, targets, sample_weight_val, lengths)
