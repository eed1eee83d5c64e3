"""What an LSTM carries through a sequence: its memories and gates per step.

Used by :meth:`LSTMRegressor.trace_memory`. The traces come from the NumPy
reference engine in float64, whatever engine or backend trained the model,
so that they are the maths of :doc:`/maths` step by step.
"""

import os
from functools import partial

import numpy as np
from sklearn.utils import Bunch

from ._backend import NUMPY_BACKEND
from ._engines import ArrayEngine
from ._gates import GATE_NAMES
from ._layer import Workspace
from ._masking import pieces
from ._network import forward

#: The traced quantities: Bunch key, and where it sits in a layer's cache.
TRACES = {
    "long_term": "cell state c_t after each step",
    "short_term": "hidden state h_t after each step",
    "forget": "forget gate f_t",
    "input": "input gate i_t",
    "candidate": "cell candidate g_t (the potential long-term memory)",
    "output": "output gate o_t",
}

# Rows per chunk: the traces of a chunk are copied out before the next.
_CHUNK = 512


def trace_bytes(n_samples, n_timesteps, hidden_sizes):
    """Memory the traces of :func:`trace_layers` take: six float64 arrays
    of ``n_samples x n_timesteps x hidden_size`` per layer."""
    return len(TRACES) * 8 * n_samples * n_timesteps * sum(hidden_sizes)


def _available_memory():
    """Bytes the system can still give (MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def check_trace_fits(n_samples, n_timesteps, hidden_sizes):
    """Raise a MemoryError, before allocating, if the traces would not fit."""
    needed = trace_bytes(n_samples, n_timesteps, hidden_sizes)
    available = _available_memory()
    if available is not None and needed > available:
        raise MemoryError(
            f"trace_memory of {n_samples} sequences of {n_timesteps} steps needs "
            f"{needed / 2**30:.1f} GiB (six float64 traces of every hidden unit "
            f"at every step), but the system has {available / 2**30:.1f} GiB "
            "available. Trace fewer sequences at a time, e.g. "
            "model.trace_memory(X[:1000])."
        )


def trace_layers(params, X, lengths=None):
    """Memories and gate activations of every layer at every step.

    Parameters
    ----------
    params : Parameters
        float64 parameters (see ``_network.unflatten``).
    X : ndarray of shape (n_samples, n_timesteps, n_features)
    lengths : ndarray of shape (n_samples,) or None, default=None
        Real steps of NaN-padded sequences; their padding steps are traced
        as NaN (the network never reads them).

    Returns
    -------
    traces : Bunch
        One list per key of :data:`TRACES`, one array of shape
        ``(n_samples, n_timesteps, hidden_size)`` per layer, first layer
        first.
    """
    n_samples, steps, _ = X.shape
    sizes = [layer.weight_hh.shape[1] for layer in params.layers]
    check_trace_fits(n_samples, steps, sizes)
    fill = np.empty if lengths is None else partial(np.full, fill_value=np.nan)
    traces = Bunch(
        **{key: [fill((n_samples, steps, size)) for size in sizes] for key in TRACES}
    )
    engine, workspace = ArrayEngine(NUMPY_BACKEND), Workspace(np)
    for rows, mask in pieces(n_samples, lengths, _CHUNK):
        _trace_rows(params, X, rows, mask, traces, engine, workspace)
    return traces


_GATE_OF = {name: gate for gate, name in enumerate(GATE_NAMES)}


def _trace_rows(params, X, rows, mask, traces, engine, workspace):
    """Write the traces of ``X[rows]``'s real steps (``mask``: of NaN-padded
    rows, put longest first; None: all steps are real)."""
    steps = X.shape[1] if mask is None else mask.steps
    time_major = np.ascontiguousarray(np.swapaxes(X[rows, :steps], 0, 1))
    # Overflow of exp in the gate kernels gives the exact limits 0 and 1.
    with np.errstate(over="ignore"):
        _, caches = forward(params, time_major, workspace, engine, mask=mask)
    real = None
    if mask is not None and mask.ragged:
        real = (np.arange(steps) < mask.lengths[:, None])[:, :, None]

    def write(trace, values):
        values = np.swapaxes(values, 0, 1)
        trace[rows, :steps] = values if real is None else np.where(real, values, np.nan)

    for layer, cache in enumerate(caches):
        write(traces.long_term[layer], cache.cell[1:])
        write(traces.short_term[layer], cache.hidden[1:])
        for key, gate in _GATE_OF.items():
            write(traces[key][layer], cache.gates[:, :, gate])
