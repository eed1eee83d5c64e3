"""One LSTM layer over a whole sequence: forward pass and backpropagation
through time, as pure functions of the weights and the inputs.

Arrays are time-major, ``(steps, batch, features)``, so each step's slice is
contiguous. Work that does not depend on the recurrence is done for all steps
in single GEMMs: the input projections before the loop, the weight gradients
and the gradient w.r.t. the inputs after it. The loop itself is one GEMM
(``h_{t-1} @ weight_hh.T``) plus the gate kernels of ``_gates`` per step.

Buffers come from a :class:`Workspace`, so a training run allocates them once
per batch shape instead of once per batch.

Both passes take ``active``, the rows running at each step of a batch put
longest first (``_masking.py``): step ``t`` updates rows ``[:active[t]]``
only, the others keep their states and get no gradient.
"""

import math
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
    # A row that has ended keeps its cell and hidden states; its gates and
    # tanh_cell after its end are not defined.


class Workspace:
    """Reusable buffers, keyed by name and dtype.

    A buffer is a view of storage kept under its name and dtype, grown when
    a larger one is asked for: batches of another shape (the last, shorter
    one; padded ones, whose steps are their longest sequence's) reuse the
    storage instead of allocating, and touching, memory of their own.

    Parameters
    ----------
    xp : module
        The array module that allocates the buffers.
    """

    def __init__(self, xp):
        self.xp = xp
        self._storage = {}

    def empty(self, name, shape, dtype):
        """Return a C-contiguous buffer of this shape, the storage of
        ``name`` and ``dtype`` on every call: what an earlier buffer of the
        name held may be overwritten."""
        size = math.prod(shape)
        key = (name, np.dtype(dtype))
        storage = self._storage.get(key)
        if storage is None or storage.size < size:
            storage = self._storage[key] = self.xp.empty(size, dtype=dtype)
        return storage[:size].reshape(shape)

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


def layer_forward(weights, inputs, workspace, gates_kernels, *, name, active=None):
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
    active : ndarray of shape (steps,) or None, default=None
        Rows running at each step (non-increasing counts); None: all.

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
            n = batch if active is None else int(active[t])
            if t:
                xp.matmul(
                    hidden[t, :n],
                    weight_hh_t,
                    out=recurrent[:n].reshape(n, N_GATES * hidden_size),
                )
            gates_kernels.forward_step(
                gates[t, :n],
                recurrent[:n] if t else None,
                cell[t, :n],
                cell[t + 1, :n],
                tanh_cell[t, :n],
                hidden[t + 1, :n],
                scratch[:n],
            )
            if n < batch:  # ended rows keep their states
                cell[t + 1, n:] = cell[t, n:]
                hidden[t + 1, n:] = hidden[t, n:]
                # Defined, for the backward factors' pass over every step.
                tanh_cell[t, n:] = 0
    return LayerCache(inputs, gates, cell, tanh_cell, hidden)


def layer_backward(
    weights,
    cache,
    d_hidden,
    grads,
    workspace,
    gates_kernels,
    *,
    name,
    need_d_inputs,
    active=None,
):
    """Backpropagate through time over one layer.

    Parameters
    ----------
    weights : LayerWeights
    cache : LayerCache
        From :func:`layer_forward` on the same weights and inputs.
    d_hidden : array of shape (steps, batch, hidden) or (batch, hidden)
        Gradient of the loss w.r.t. the layer's hidden states: every step's
        (a layer below another), or the last state's only (the top layer):
        that of each row's last running step.
    grads : LayerWeights
        Written: gradients w.r.t. ``weights``.
    workspace : Workspace
    gates_kernels : object
    name : str
    need_d_inputs : bool
        Whether to return the gradient w.r.t. the inputs (False for the first
        layer, whose inputs are the data).
    active : ndarray of shape (steps,) or None, default=None
        As given to :func:`layer_forward`. The inputs of the steps after a
        row's end must be finite (they meet a zero gradient in the weight
        gradients' product).

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
    dc_next = workspace.empty(f"{name}dc_next", (batch, hidden_size), dtype)
    dc = workspace.empty(f"{name}dc", (batch, hidden_size), dtype)
    d_gates_2d = d_gates.reshape(steps, batch, N_GATES * hidden_size)

    n_later = 0  # rows running at step t + 1
    for t in range(steps - 1, -1, -1):
        n = batch if active is None else int(active[t])
        if n > n_later:
            # Rows whose last running step is t join, with the gradient of
            # their last hidden state and none from a later cell state.
            dh[n_later:n] = (
                d_hidden[t, n_later:n] if every_step else d_hidden[n_later:n]
            )
            dc_next[n_later:n] = 0
            n_later = n
        if n < batch:
            # Zero where a row has ended: the products below sum over every
            # step (only the ended rows: the running ones are written below).
            d_gates[t, n:] = 0
        gates_kernels.backward_step(
            dh[:n],
            factors[t, :n],
            cell_factor[t, :n],
            cache.gates[t, :n, FORGET],
            dc_next[:n],
            d_gates[t, :n],
            dc[:n],
        )
        if t:
            xp.matmul(d_gates_2d[t, :n], weights.weight_hh, out=dh[:n])
            if every_step:
                dh[:n] += d_hidden[t - 1, :n]

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
