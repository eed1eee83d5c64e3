"""Sequences of different lengths, run one length at a time.

A batch whose shorter sequences end in NaN padding (tslearn's convention,
:func:`sklstm._validation.sequence_lengths`) is cut into groups of equal
length; each group runs on its real steps only, ``X[:, :length]``, through
any engine, so the network's output is read at each sequence's last real
step. There is one group per distinct length, not one per row. A sequence
computes the same operations in its group as alone: the compiled engine's
predict gives a row the same operations wherever it sits in the batch, and
the NumPy engine predicts in float64.
"""

import numpy as np


def length_groups(lengths):
    """``(length, rows)`` of each distinct length, shortest first.

    Parameters
    ----------
    lengths : ndarray of shape (n_samples,)

    Returns
    -------
    groups : list of (int, ndarray of int)
    """
    return [
        (int(length), np.flatnonzero(lengths == length))
        for length in np.unique(lengths)
    ]


def network_output_by_length(engine, params, X, lengths, workspace):
    """``engine.network_output`` of samples-first ``X``, group by group.

    Parameters
    ----------
    engine : ArrayEngine or CompiledEngine
    params : Parameters
    X : ndarray of shape (n_samples, n_timesteps, n_features)
    lengths : ndarray of shape (n_samples,) or None
        Real steps of each sequence; None when all are whole.
    workspace : Workspace

    Returns
    -------
    output : ndarray of shape (n_samples, n_outputs)
        Float64, read at each sequence's last real step.
    """
    if lengths is None:
        return engine.network_output(params, X, workspace)
    output = np.empty((len(X), params.head_weight.shape[0]))
    for length, rows in length_groups(lengths):
        output[rows] = engine.network_output(params, X[rows, :length], workspace)
    return output
