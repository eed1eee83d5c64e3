"""What an LSTM carries through a sequence: its memories and gates per step.

Used by :meth:`LSTMRegressor.trace_memory`. The traces come from the NumPy
reference engine in float64, whatever engine or backend trained the model,
so that they are the maths of :doc:`/maths` step by step.
"""

import os

import numpy as np
from sklearn.utils import Bunch, gen_batches

from ._backend import NUMPY_BACKEND
from ._engines import ArrayEngine
from ._gates import CELL, FORGET, INPUT, OUTPUT
from ._layer import Workspace
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


def trace_layers(params, X):
    """Memories and gate activations of every layer at every step.

    Parameters
    ----------
    params : Parameters
        float64 parameters (see ``_network.unflatten``).
    X : ndarray of shape (n_samples, n_timesteps, n_features)

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
    traces = Bunch(
        **{
            key: [np.empty((n_samples, steps, size)) for size in sizes]
            for key in TRACES
        }
    )
    engine, workspace = ArrayEngine(NUMPY_BACKEND), Workspace(np)
    gate_of = {"input": INPUT, "forget": FORGET, "candidate": CELL, "output": OUTPUT}
    for rows in gen_batches(n_samples, _CHUNK):
        time_major = np.ascontiguousarray(np.swapaxes(X[rows], 0, 1))
        # Overflow of exp in the gate kernels gives the exact limits 0 and 1.
        with np.errstate(over="ignore"):
            _, caches = forward(params, time_major, workspace, engine)
        for layer, cache in enumerate(caches):
            traces.long_term[layer][rows] = np.swapaxes(cache.cell[1:], 0, 1)
            traces.short_term[layer][rows] = np.swapaxes(cache.hidden[1:], 0, 1)
            for key, gate in gate_of.items():
                traces[key][layer][rows] = np.swapaxes(cache.gates[:, :, gate], 0, 1)
    return traces
