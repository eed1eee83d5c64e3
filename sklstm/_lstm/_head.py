"""The network's head: the one place every engine computes it.

The output is a linear map of the top layer's last hidden state plus, with
``skip_steps`` > 0, a linear map of the inputs of the last ``skip_steps``
steps (the skip connection)::

    output = last_hidden @ head_weight.T + head_bias
             + sum_j inputs[steps - skip_steps + j] @ skip_weight[:, j].T

Training (:func:`sklstm._lstm._network.forward` and ``backward``) and
predict on every engine (NumPy, compiled, CuPy) call these functions; the
compiled predict kernel returns the last hidden states and stops there.

Each output of each row is one dot product (``einsum``), whose order of
additions NumPy fixes by the row's length alone: unlike a matrix product,
whose blocking may round a row by the rows beside it, it gives a row the
same bits alone or in a batch, which the compiled engine promises for
predict (``tests/test_head.py`` holds it). It costs no measurable time
against the C loop it replaced (W64 predict, one thread).
"""

import numpy as np


def recent_steps(inputs, skip_steps, xp, mask=None):
    """The last ``skip_steps`` real steps of each row of time-major
    ``inputs``, of shape ``(skip_steps, batch, n_features)``: a view, or a
    copy where the rows end at different steps (``mask``: a StepMask)."""
    if mask is None or not mask.ragged:
        return inputs[inputs.shape[0] - skip_steps :]
    steps = mask.lengths[None, :] - skip_steps + np.arange(skip_steps)[:, None]
    rows = np.broadcast_to(np.arange(inputs.shape[1]), steps.shape)
    return inputs[xp.asarray(steps), xp.asarray(rows)]


def _row_products(rows, weight, xp):
    """``rows @ weight.T`` as one dot product per row and output: ``rows``
    of shape ``(batch, k)``, ``weight`` of shape ``(n_outputs, k)``."""
    return xp.einsum("nk,ok->no", rows, weight)


def head_output(params, last_hidden, inputs, xp, mask=None):
    """The network's output from its last hidden states.

    Parameters
    ----------
    params : Parameters
    last_hidden : array of shape (batch, hidden_size)
        The top layer's hidden state at each row's last real step.
    inputs : array of shape (steps, batch, n_features)
        Time-major inputs of the first layer (after its dropout, in
        training); read only with a skip connection.
    xp : module
        The array module of the arrays.
    mask : StepMask or None, default=None
        Rows of different lengths: the skip connection reads each row's own
        last real steps.

    Returns
    -------
    output : array of shape (batch, n_outputs)
        In the dtype of the parameters.
    """
    output = _row_products(last_hidden, params.head_weight, xp)
    output += params.head_bias
    skip_weight = params.skip_weight
    if skip_weight is not None:
        recent = recent_steps(inputs, skip_weight.shape[1], xp, mask)
        batch = last_hidden.shape[0]
        rows = xp.moveaxis(recent, 0, 1).reshape(batch, -1)
        output += _row_products(rows, skip_weight.reshape(skip_weight.shape[0], -1), xp)
    return output


def head_backward(params, last_hidden, inputs, d_output, grads, xp, mask=None):
    """Backpropagate ``d_output`` through the head.

    Parameters
    ----------
    params : Parameters
    last_hidden, inputs, xp, mask
        Those given to :func:`head_output`.
    d_output : array of shape (batch, n_outputs)
        Gradient of the loss w.r.t. the output.
    grads : Parameters
        Written: the gradients of ``head_weight``, ``head_bias`` and
        ``skip_weight``.

    Returns
    -------
    d_hidden : array of shape (batch, hidden_size)
        Gradient of the loss w.r.t. ``last_hidden``.
    """
    xp.matmul(d_output.T, last_hidden, out=grads.head_weight)
    xp.sum(d_output, axis=0, out=grads.head_bias)
    skip_weight = params.skip_weight
    if skip_weight is not None:
        recent = recent_steps(inputs, skip_weight.shape[1], xp, mask)
        grads.skip_weight[...] = xp.tensordot(d_output, recent, axes=([0], [1]))
    return d_output @ params.head_weight
