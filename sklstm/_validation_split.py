"""Which rows early stopping holds out: the rule, stated once.

A regressor's samples are in time order, so early stopping validates on the
**last** ``validation_fraction`` of them, ``ceil(validation_fraction *
n_samples)`` rows. The training loop, the regressor and the Beijing study
(which sets ``validation_fraction`` so that the hold-out starts at a given
row) all read the rule from here, and both estimators the check that each
part has weight.
"""

import numpy as np


def n_held_out(n_samples, validation_fraction):
    """The number of last rows that early stopping holds out.

    Parameters
    ----------
    n_samples : int
    validation_fraction : float
        In (0, 1).

    Returns
    -------
    n_validation : int
        ``ceil(validation_fraction * n_samples)``.

    Examples
    --------
    >>> from sklstm._validation_split import n_held_out
    >>> n_held_out(100, 0.1), n_held_out(101, 0.1)
    (10, 11)
    """
    return int(np.ceil(validation_fraction * n_samples))


def fraction_holding_out(n_validation, n_samples):
    """The ``validation_fraction`` whose hold-out is exactly the last
    ``n_validation`` of ``n_samples`` rows.

    Aimed half a row below ``n_validation / n_samples``, so that rounding
    of the product cannot tip :func:`n_held_out` to a row more or less.

    Parameters
    ----------
    n_validation : int
        In ``[1, n_samples)``.
    n_samples : int

    Returns
    -------
    validation_fraction : float

    Examples
    --------
    >>> from sklstm._validation_split import fraction_holding_out, n_held_out
    >>> n_held_out(8760, fraction_holding_out(2190, 8760))
    2190
    """
    return (n_validation - 0.5) / n_samples


def split_last_fraction(n_samples, validation_fraction, sample_weight):
    """Number of training rows: all but the last ``validation_fraction``.

    Parameters
    ----------
    n_samples : int
    validation_fraction : float
    sample_weight : ndarray of shape (n_samples,)

    Returns
    -------
    n_train : int
        The rows ``[0, n_train)`` train, the rows from ``n_train`` on validate.

    Raises
    ------
    ValueError
        If either part is too small, or all of its sample weights are zero.
    """
    n_val = n_held_out(n_samples, validation_fraction)
    n_train = n_samples - n_val
    if n_val < 2 or n_train < 1:
        raise ValueError(
            f"early_stopping holds out the last validation_fraction="
            f"{validation_fraction} of the {n_samples} samples, which leaves "
            f"{n_val} for validation and {n_train} for training; both need at "
            "least 2 and 1. Pass more samples, change validation_fraction, or "
            "set early_stopping=False."
        )
    check_parts_have_weight(
        sample_weight,
        {
            f"training part (the first {n_train} samples)": slice(0, n_train),
            f"validation part (the last {n_val} samples)": slice(n_train, None),
        },
    )
    return n_train


def check_parts_have_weight(sample_weight, parts):
    """Refuse an early-stopping part whose sample weights are all zero.

    Parameters
    ----------
    sample_weight : ndarray of shape (n_samples,)
    parts : dict
        The rows of each part (a slice or an index array), by the name the
        message gives it.

    Raises
    ------
    ValueError
        Naming the first part that has nothing to measure.
    """
    for part, rows in parts.items():
        if not sample_weight[rows].any():
            raise ValueError(
                f"early_stopping: every sample_weight of the {part} is zero, so "
                "that part has nothing to measure. Give it some non-zero "
                "weights, change validation_fraction, or set "
                "early_stopping=False."
            )
