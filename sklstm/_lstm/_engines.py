"""Engines: what runs the layers of the network, behind one interface.

- :class:`ArrayEngine` runs ``_layer`` and ``_gates`` on an array module:
  NumPy on the host (the readable reference that :doc:`/maths` points to)
  or CuPy on a GPU.
- :class:`CompiledEngine` runs the Cython/OpenMP loops of ``_fast_lstm``
  on the host: the same maths, fused, without the GIL, the rows of a batch
  shared among threads.

Both give :func:`sklstm._lstm._network.forward` and ``backward`` the same
``layer_forward``/``layer_backward`` methods and the estimators the same
``network_output`` (prediction) and ``thread_limits``. Both run a batch of
NaN-padded sequences as one batch, rows put longest first (``_masking``).
"""

import os

import numpy as np

from ._backend import NUMPY_BACKEND
from ._gates import N_GATES
from ._head import head_output
from ._layer import LayerCache, layer_backward, layer_forward
from ._masking import active_counts, pieces
from ._network import forward
from ._threads import (
    blas_threads,
    check_thread_count,
    check_threads_can_start,
    openmp_threads,
)

try:
    from . import _fast_lstm
except ImportError:  # not built (e.g. a source tree on PYTHONPATH)
    _fast_lstm = None

ENGINE_ENV = "SKLSTM_ENGINE"

# Rows per predict chunk of the array engine: large enough to amortise the
# per-step Python overhead, small enough for a step's arrays to stay in cache.
_ARRAY_PREDICT_CHUNK = 512
# Rows per chunk of the compiled predict: a multiple of the row blocks of its
# GEMM (``_fast_lstm.GEMM_ROWS``), large enough for a weight panel to serve
# many rows while in cache.
_COMPILED_PREDICT_CHUNK = None if _fast_lstm is None else 20 * _fast_lstm.GEMM_ROWS
# Matrix-product work per compiled predict call (about 50 ms on one core):
# the longest a predict goes without Python seeing a Ctrl-C.
_PREDICT_CALL_FLOPS = 500_000_000


def compiled_engine_available():
    """Whether the compiled extension ``sklstm._lstm._fast_lstm`` is built."""
    return _fast_lstm is not None


class ArrayEngine:
    """The engine of ``_layer`` and ``_gates`` on a backend's array module.

    Parameters
    ----------
    backend : Backend
        Its ``xp`` allocates and computes, its ``gates`` are the kernels.
    n_threads : int or None
        BLAS threads (None: 1); only the NumPy backend uses them.
    """

    def __init__(self, backend, n_threads=None):
        self.backend = backend
        self.n_threads = n_threads

    @property
    def name(self):
        """``"numpy"`` (the reference engine) or ``"cupy"``: the backend's."""
        return self.backend.name

    # BLAS's float32 products round a row by the rows beside it (by up to
    # 2.7e-7 relative, measured on a fitted float32 model); in float64 that
    # stays below scikit-learn's subset-invariance tolerance.
    rows_apart_dtype = np.dtype(np.float64)

    def thread_limits(self):
        """Context manager: BLAS at ``n_threads`` (None: 1) threads."""
        return blas_threads(self.n_threads)

    def layer_forward(self, weights, inputs, workspace, *, name, active=None):
        return layer_forward(
            weights, inputs, workspace, self.backend.gates, name=name, active=active
        )

    def layer_backward(
        self,
        weights,
        cache,
        d_hidden,
        grads,
        workspace,
        *,
        name,
        need_d_inputs,
        active=None,
    ):
        return layer_backward(
            weights,
            cache,
            d_hidden,
            grads,
            workspace,
            self.backend.gates,
            name=name,
            need_d_inputs=need_d_inputs,
            active=active,
        )

    def network_output(self, params, X, workspace, lengths=None):
        """Network output, a float64 NumPy array, for samples-first ``X``
        (``lengths``: the real steps of NaN-padded sequences, or None)."""
        backend = self.backend
        out = np.empty((X.shape[0], params.head_weight.shape[0]))
        for rows, mask in pieces(X.shape[0], lengths, _ARRAY_PREDICT_CHUNK):
            steps = X.shape[1] if mask is None else mask.steps
            X_chunk = backend.asarray(
                np.swapaxes(X[rows, :steps], 0, 1), dtype=params.flat.dtype
            )
            predictions, _ = forward(
                params,
                backend.xp.ascontiguousarray(X_chunk),
                workspace,
                self,
                mask=mask,
            )
            out[rows] = backend.to_numpy(predictions)
        return out


class CompiledEngine:
    """The Cython/OpenMP engine of ``_fast_lstm`` (host only).

    Parameters
    ----------
    backend : Backend, default=NUMPY_BACKEND
        The NumPy backend, whose arrays the engine reads and writes.
    n_threads : int or None
        OpenMP threads; None uses the cores this process may use (see
        :func:`sklstm._lstm._threads.openmp_threads`). BLAS is held to one
        thread meanwhile: the threads are OpenMP's, each calling BLAS on its
        rows.
    """

    name = "compiled"
    # Its GEMM and the shared head give a row the same operations wherever
    # it sits, at any precision.
    rows_apart_dtype = np.dtype(np.float32)

    def __init__(self, backend=NUMPY_BACKEND, n_threads=None):
        self.backend = backend
        self.n_threads = openmp_threads(n_threads)
        check_threads_can_start(self.n_threads)

    def thread_limits(self):
        """Context manager: BLAS at one thread (OpenMP runs the threads)."""
        return blas_threads(1)

    def layer_forward(self, weights, inputs, workspace, *, name, active=None):
        steps, batch, _ = inputs.shape
        hidden_size = weights.weight_hh.shape[1]
        dtype = inputs.dtype
        gates = workspace.empty(
            f"{name}gates", (steps, batch, N_GATES, hidden_size), dtype
        )
        state_shape = (steps + 1, batch, hidden_size)
        cell = workspace.empty(f"{name}cell", state_shape, dtype)
        hidden = workspace.empty(f"{name}hidden", state_shape, dtype)
        tanh_cell = workspace.empty(
            f"{name}tanh_cell", (steps, batch, hidden_size), dtype
        )
        _fast_lstm.layer_forward(
            inputs,
            weights.weight_ih,
            weights.weight_hh,
            weights.bias,
            gates.reshape(steps, batch, N_GATES * hidden_size),
            cell,
            tanh_cell,
            hidden,
            self.n_threads,
            active,
        )
        return LayerCache(inputs, gates, cell, tanh_cell, hidden)

    def layer_backward(
        self,
        weights,
        cache,
        d_hidden,
        grads,
        workspace,
        *,
        name,
        need_d_inputs,
        active=None,
    ):
        steps, batch, _, hidden_size = cache.gates.shape
        dtype = cache.gates.dtype
        d_gates = workspace.empty(f"{name}d_gates", cache.gates.shape, dtype)
        if need_d_inputs:
            d_inputs = workspace.empty(f"{name}d_inputs", cache.inputs.shape, dtype)
        else:
            d_inputs = workspace.empty("unused_d_inputs", (1, 1, 1), dtype)
        if d_hidden.ndim == 2:
            d_hidden = d_hidden.reshape(1, batch, hidden_size)
        _fast_lstm.layer_backward(
            cache.inputs,
            weights.weight_ih,
            weights.weight_hh,
            cache.gates.reshape(steps, batch, N_GATES * hidden_size),
            cache.cell,
            cache.tanh_cell,
            cache.hidden,
            np.ascontiguousarray(d_hidden),
            d_gates.reshape(steps, batch, N_GATES * hidden_size),
            grads.weight_ih,
            grads.weight_hh,
            grads.bias,
            d_inputs,
            need_d_inputs,
            self.n_threads,
            active,
        )
        return d_inputs if need_d_inputs else None

    def network_output(self, params, X, workspace, lengths=None):
        """Network output, float64, for samples-first ``X`` in params' dtype
        (``lengths``: the real steps of NaN-padded sequences, or None).

        All layers advance together, keeping only the current states:
        memory of O(rows x hidden) per thread, not O(rows x steps x hidden).
        The kernel stops at the last hidden states; the head is ``_head``'s,
        as in training and on the other engines.
        """
        dtype = params.flat.dtype
        n_samples, steps, _ = X.shape
        layers = [tuple(layer) for layer in params.layers]
        width = params.head_weight.shape[1]
        out = np.empty((n_samples, params.head_weight.shape[0]), dtype=np.float64)
        # Pieces of bounded work, each one compiled call: Ctrl-C, which
        # Python sees between calls, stops a long predict within a fraction
        # of a second, and X is converted to the model's dtype piece by
        # piece. The rows never meet, so the pieces change no result.
        flops_per_row = (
            2
            * steps
            * sum(
                layer.weight_ih.size + layer.weight_hh.size for layer in params.layers
            )
        )
        piece = max(1, _PREDICT_CALL_FLOPS // max(1, flops_per_row))
        piece = -(-piece // _COMPILED_PREDICT_CHUNK) * _COMPILED_PREDICT_CHUNK
        piece = max(piece, self.n_threads * _COMPILED_PREDICT_CHUNK)
        for rows, mask in pieces(n_samples, lengths, piece):
            real = steps if mask is None else mask.steps
            X_piece = np.ascontiguousarray(X[rows, :real], dtype=dtype)
            last_hidden = np.empty((len(X_piece), width), dtype=dtype)
            _fast_lstm.last_hidden_states(
                X_piece,
                layers,
                last_hidden,
                self.n_threads,
                _COMPILED_PREDICT_CHUNK,
                None if active_counts(mask) is None else mask.lengths,
            )
            out[rows] = head_output(
                params, last_hidden, np.swapaxes(X_piece, 0, 1), np, mask
            )
        return out


def prediction_dtype(engine, fitted_dtype):
    """The dtype ``predict`` computes in: one rule for every engine.

    The fitted dtype, raised to the engine's ``rows_apart_dtype``, the
    lowest precision at which the engine gives a row the same prediction
    alone as among other rows. The compiled engine does at any precision,
    so a model predicts there in the dtype it was fitted in. The NumPy and
    CuPy engines' products are BLAS's, whose float32 results for a row
    depend on the rows beside it, so they predict in float64. A float64
    model predicts in float64 on every engine.

    Parameters
    ----------
    engine : ArrayEngine or CompiledEngine
    fitted_dtype : numpy dtype or str
        The estimator's ``dtype``.

    Returns
    -------
    dtype : numpy.dtype
    """
    return np.promote_types(fitted_dtype, engine.rows_apart_dtype)


def make_engine(backend, n_threads=None):
    """The engine that runs the layers on ``backend``.

    Parameters
    ----------
    backend : Backend
    n_threads : int or None
        The estimator's ``n_threads``.

    Returns
    -------
    engine : ArrayEngine or CompiledEngine
        On NumPy, the compiled engine where the extension is built (the
        NumPy reference engine otherwise, or with ``SKLSTM_ENGINE=numpy``);
        on CuPy, the array engine with the fused CUDA kernels.

    Raises
    ------
    ValueError
        If ``n_threads`` is above ``_threads.MAX_THREADS``.
    """
    check_thread_count(n_threads)
    if backend.name == "numpy":
        return host_engine(backend, n_threads)
    return ArrayEngine(backend, n_threads)


def host_engine(backend, n_threads=None):
    """The engine for the NumPy backend: compiled where it is built.

    ``SKLSTM_ENGINE=numpy`` in the environment forces the NumPy reference
    engine (for comparisons and debugging); ``SKLSTM_ENGINE=compiled``
    makes a missing extension an error instead of a silent fallback.
    """
    choice = os.environ.get(ENGINE_ENV, "auto").strip().lower()
    if choice not in {"auto", "compiled", "numpy"}:
        raise ValueError(
            f"{ENGINE_ENV}={choice!r} is not an engine; use 'auto', 'compiled' or "
            "'numpy'."
        )
    if choice == "numpy":
        return ArrayEngine(backend, n_threads)
    if compiled_engine_available():
        return CompiledEngine(backend, n_threads)
    if choice == "compiled":
        raise ImportError(
            f"{ENGINE_ENV}=compiled, but the extension sklstm._lstm._fast_lstm is not "
            "built (the install found no working C compiler; "
            "sklstm.show_versions() says so): install one and reinstall, "
            "e.g. `pip install -e .`."
        )
    return ArrayEngine(backend, n_threads)
