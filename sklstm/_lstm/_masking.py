"""Sequences of different lengths in one batch: the masked recurrence.

A batch whose shorter sequences end in NaN padding (tslearn's convention,
:func:`sklstm._validation.sequence_lengths`) runs as one batch on every
engine. Its rows are put longest first, so that the rows still running at
step ``t`` are a prefix, ``[:active[t]]``: each step of the forward pass
updates that prefix only, and a row whose sequence has ended keeps its cell
and hidden states, so that the network reads its output from the last
state as for a whole sequence. The backward pass walks the same prefixes
back in time: a row joins at its last real step, and the steps after it
give it no gradient. A row thus computes what it computes alone, on its
real steps: on the compiled engine the same bits (its products give a row
the same operations wherever it sits), on the NumPy engine up to BLAS's
rounding of a row by the rows beside it.

The batch runs ``max(lengths)`` steps, not the padded array's.
"""

from typing import NamedTuple

import numpy as np
from sklearn.utils import gen_batches


class StepMask(NamedTuple):
    """Which rows of a batch, put longest first, run at each step.

    ``order`` puts the batch's rows longest first (a stable sort: rows of
    equal length keep their order); ``lengths`` are the real steps of the
    rows in that order (non-increasing); ``active[t]`` is the number of rows
    running at step ``t``, ``lengths > t`` (intp, for the compiled engine).
    """

    order: np.ndarray
    lengths: np.ndarray
    active: np.ndarray

    @property
    def steps(self):
        """The steps the batch runs: its longest sequence's."""
        return len(self.active)

    @property
    def ragged(self):
        """Whether some row ends before the last step."""
        return bool(self.lengths[-1] < self.steps)


def longest_first(lengths):
    """The :class:`StepMask` of a batch of sequences of ``lengths`` steps.

    Parameters
    ----------
    lengths : ndarray of shape (batch,)
        Real steps of each row, at least 1.

    Returns
    -------
    mask : StepMask
    """
    lengths = np.asarray(lengths)
    order = np.argsort(-lengths, kind="stable")
    ordered = lengths[order].astype(np.intp)
    steps = int(ordered[0])
    # Rows running at step t: lengths > t, a count of the descending lengths.
    active = np.searchsorted(-ordered, -np.arange(steps), side="left")
    return StepMask(order, ordered, active.astype(np.intp))


def pieces(n_samples, lengths, size):
    """Cut ``n_samples`` rows into pieces of at most ``size``, longest first.

    Parameters
    ----------
    n_samples : int
    lengths : ndarray of shape (n_samples,) or None
        Real steps of each row; None when all are whole.
    size : int

    Yields
    ------
    rows : slice or ndarray of int
        The piece's rows (longest first where ``lengths`` is given).
    mask : StepMask or None
        Of the piece's rows in that order; None without ``lengths``. Its
        ``steps`` are those the piece runs.
    """
    if lengths is None:
        for rows in gen_batches(n_samples, size):
            yield rows, None
        return
    order = longest_first(lengths).order
    for chunk in gen_batches(n_samples, size):
        rows = order[chunk]
        yield rows, longest_first(lengths[rows])


def active_counts(mask):
    """The engines' ``active`` argument: the counts where some row ends
    early, None where every row runs every step of the batch."""
    return mask.active if mask is not None and mask.ragged else None
