"""One LSTM layer over a whole sequence: forward pass and backpropagation
through time, as pure functions of the weights and the inputs.

Arrays are time-major, ``(steps, batch, features)``, so each step's slice is
contiguous. Work that does not depend on the recurrence is done for all steps
in single GEMMs: the input projections before the loop, the weight gradients
and the gradient w.r.t. the inputs after it. The loop itself is one GEMM
(``h_{t-1} @ weight_hh.T``) plus the gate kernels of ``_gates`` per step.

Buffers come from a :class:`Workspace`, so a training run allocates them once
per batch shape instead of once per batch.
"""

from typing import Any, NamedTuple

import numpy as np

from ._gates import FORGET, N_GATES


class LayerWeights(NamedTuple):
    """The weights of one layer, in PyTorch's ``nn.LSTM`` layout.

    ``weight_ih`` is ``(4 * hidden, n_inputs)``, ``weight_hh`` is
    ``(4 * hidden, hidden)`` and ``bias`` is ``(4 * hidden,)``, their rows
    grouped by gate in the order input, forget, cell candidate, output.
    """

    weight_ih: Any
    weight_hh: Any
    bias: Any


class LayerCache(NamedTuple):
    """What the backward pass needs from the forward pass of one layer."""

    inputs: Any  # (steps, batch, n_inputs)
    gates: Any  # (steps, batch, 4, hidden), activated
    cell: Any  # (steps + 1, batch, hidden), cell[0] = 0
    tanh_cell: Any  # (steps, batch, hidden)
    hidden: Any  # (steps + 1, batch, hidden), hidden[0] = 0


class Workspace:
    """Reusable buffers, keyed by name, shape and dtype.

    Parameters
    ----------
    xp : module
        The array module that allocates the buffers.
    """

    def __init__(self, xp):
        self.xp = xp
        self._buffers = {}

    def empty(self, name, shape, dtype):
        """Return a buffer of this shape, the same one on every call."""
        key = (name, shape, dtype)
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self._buffers[key] = self.xp.empty(shape, dtype=dtype)
        return buffer

    def zeros(self, name, shape, dtype):
        """Return a zero-filled buffer of this shape."""
        buffer = self.empty(name, shape, dtype)
        buffer.fill(0)
        return buffer


def _scaled_weights(weights, scale, xp):
    """The forward weights, gate blocks scaled as the gate kernels expect."""
    if scale is None:
        return weights
    hidden_size = weights.weight_hh.shape[1]
    rows = xp.asarray(np.repeat(scale, hidden_size), dtype=weights.bias.dtype)
    return LayerWeights(
        weights.weight_ih * rows[:, None],
        weights.weight_hh * rows[:, None],
        weights.bias * rows,
    )


def layer_forward(weights, inputs, workspace, gates_kernels, *, name):
    """Run one LSTM layer over a batch of sequences.

    Parameters
    ----------
    weights : LayerWeights
    inputs : array of shape (steps, batch, n_inputs)
    workspace : Workspace
    gates_kernels : object
        The backend's gate kernels (see ``_gates``).
    name : str
        Prefix of this layer's workspace buffers.

    Returns
    -------
    cache : LayerCache
        ``cache.hidden[1:]`` holds the hidden state of every step.
    """
    xp = workspace.xp
    steps, batch, n_inputs = inputs.shape
    hidden_size = weights.weight_hh.shape[1]
    dtype = inputs.dtype
    state_shape = (steps + 1, batch, hidden_size)

    scaled = _scaled_weights(weights, gates_kernels.preactivation_scale, xp)
    gates = workspace.empty(f"{name}gates", (steps, batch, N_GATES, hidden_size), dtype)
    xp.matmul(
        inputs.reshape(steps * batch, n_inputs),
        scaled.weight_ih.T,
        out=gates.reshape(steps * batch, N_GATES * hidden_size),
    )
    gates += scaled.bias.reshape(N_GATES, hidden_size)
    cell = workspace.empty(f"{name}cell", state_shape, dtype)
    hidden = workspace.empty(f"{name}hidden", state_shape, dtype)
    cell[0] = 0
    hidden[0] = 0
    tanh_cell = workspace.empty(f"{name}tanh_cell", (steps, batch, hidden_size), dtype)
    recurrent = workspace.empty(f"{name}recurrent", gates.shape[1:], dtype)
    scratch = workspace.empty(f"{name}scratch", state_shape[1:], dtype)
    weight_hh_t = scaled.weight_hh.T

    # exp overflowing to inf in the gate kernels gives the exact limit.
    with np.errstate(over="ignore"):
        for t in range(steps):
            if t:
                xp.matmul(
                    hidden[t],
                    weight_hh_t,
                    out=recurrent.reshape(batch, N_GATES * hidden_size),
                )
            gates_kernels.forward_step(
                gates[t],
                recurrent if t else None,
                cell[t],
                cell[t + 1],
                tanh_cell[t],
                hidden[t + 1],
                scratch,
            )
    return LayerCache(inputs, gates, cell, tanh_cell, hidden)


def layer_backward(
    weights, cache, d_hidden, grads, workspace, gates_kernels, *, name, need_d_inputs
):
    """Backpropagate through time over one layer.

    Parameters
    ----------
    weights : LayerWeights
    cache : LayerCache
        From :func:`layer_forward` on the same weights and inputs.
    d_hidden : array of shape (steps, batch, hidden) or (batch, hidden)
        Gradient of the loss w.r.t. the layer's hidden states: every step's
        (a layer below another), or the last step's only (the top layer).
    grads : LayerWeights
        Written: gradients w.r.t. ``weights``.
    workspace : Workspace
    gates_kernels : object
    name : str
    need_d_inputs : bool
        Whether to return the gradient w.r.t. the inputs (False for the first
        layer, whose inputs are the data).

    Returns
    -------
    d_inputs : array of shape (steps, batch, n_inputs) or None
    """
    xp = workspace.xp
    steps, batch, _, hidden_size = cache.gates.shape
    dtype = cache.gates.dtype
    every_step = d_hidden.ndim == 3

    factors = workspace.empty(f"{name}factors", cache.gates.shape, dtype)
    cell_factor = workspace.empty(f"{name}cell_factor", cache.tanh_cell.shape, dtype)
    gates_kernels.backward_factors(
        cache.gates, cache.cell[:-1], cache.tanh_cell, factors, cell_factor
    )
    d_gates = workspace.empty(f"{name}d_gates", cache.gates.shape, dtype)
    dh = workspace.empty(f"{name}dh", (batch, hidden_size), dtype)
    dh[...] = d_hidden[-1] if every_step else d_hidden
    dc_next = workspace.zeros(f"{name}dc_next", (batch, hidden_size), dtype)
    dc = workspace.empty(f"{name}dc", (batch, hidden_size), dtype)
    d_gates_2d = d_gates.reshape(steps, batch, N_GATES * hidden_size)

    for t in range(steps - 1, -1, -1):
        gates_kernels.backward_step(
            dh,
            factors[t],
            cell_factor[t],
            cache.gates[t, :, FORGET],
            dc_next,
            d_gates[t],
            dc,
        )
        if t:
            xp.matmul(d_gates_2d[t], weights.weight_hh, out=dh)
            if every_step:
                dh += d_hidden[t - 1]

    n_rows = steps * batch
    d_gates_flat = d_gates.reshape(n_rows, N_GATES * hidden_size)
    inputs_flat = cache.inputs.reshape(n_rows, -1)
    xp.matmul(d_gates_flat.T, inputs_flat, out=grads.weight_ih)
    # h_{t-1} for t >= 1; step 0's h_{-1} is zero and contributes nothing.
    xp.matmul(
        d_gates_2d[1:].reshape(-1, N_GATES * hidden_size).T,
        cache.hidden[1:-1].reshape(-1, hidden_size),
        out=grads.weight_hh,
    )
    xp.sum(d_gates_flat, axis=0, out=grads.bias)
    if not need_d_inputs:
        return None
    d_inputs = workspace.empty(f"{name}d_inputs", cache.inputs.shape, dtype)
    xp.matmul(d_gates_flat, weights.weight_ih, out=d_inputs.reshape(n_rows, -1))
    return d_inputs
