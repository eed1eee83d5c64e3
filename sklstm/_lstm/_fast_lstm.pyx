# cython: language_level=3, boundscheck=False, wraparound=False
# cython: initializedcheck=False, cdivision=True
"""The compiled engine: LSTM layers over whole sequences, without the GIL.

The rows of a batch never meet in an LSTM's recurrence: each row reads only
its own previous states. So the batch is cut into one block of rows per
thread (OpenMP, ``prange``), and each thread runs the whole time loop on its
block with no synchronisation between steps: per step, the products with the
weights (the GEMM of ``_gemm.h``) and one fused pass of the gate maths
(``_gate_loops.h``).
That GEMM gives every row the same operations wherever it sits, so the
states and the gate gradients of a row do not depend on how the rows were
split. The weight gradients, which sum over all rows and steps, come after
the loop as one product, ``[x | h_prev | 1]^T @ dz``, of the weight-gradient
kernel of ``_wgrad.h``: the threads share out its gate units, and each
of its sums runs over the rows in order, so the model is the same on any
number of threads. The gradient w.r.t. a lower layer's inputs, step by step,
is a BLAS product (``scipy.linalg.cython_blas``, BLAS held to one thread).

The maths is that of the NumPy engine (``_layer.py``, ``_gates.py``), which
stays the readable reference and the fallback where this module is not built.

The module is one extension in parts, each with one job: the thread policy
(``_thread_policy.pxi``), the benchmark-only phase timers
(``_phase_timers.pxi``, compiled in by SKLSTM_PHASE_TIMERS=1), the kernels'
C and its helpers (``_kernels.pxi``), the build information and the boundary
constants (``_build_info.pxi``), training (here) and prediction
(``_predict.pxi``).
"""

import os

from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy, memset
from scipy.linalg.cython_blas cimport dgemm, sgemm

include "_thread_policy.pxi"
include "_phase_timers.pxi"
include "_kernels.pxi"
include "_build_info.pxi"


# --- training: one layer, every step kept --------------------------------

cdef const Py_ssize_t *_active_pointer(
    const Py_ssize_t[::1] active, Py_ssize_t steps, Py_ssize_t batch,
) except? NULL:
    """``active``'s data, checked: one count a step, non-increasing, within
    ``[0, batch]``; NULL for None (every row runs every step)."""
    cdef Py_ssize_t t
    if active is None or steps == 0:
        return NULL
    if active.shape[0] != steps:
        raise ValueError(f"active has {active.shape[0]} counts for {steps} steps")
    for t in range(steps):
        if (active[t] < 0 or active[t] > batch
                or (t and active[t] > active[t - 1])):
            raise ValueError(
                "active must be non-increasing counts of rows within the batch "
                "(the rows put longest first)")
    return &active[0]


def layer_forward(
    const floating[:, :, ::1] inputs,
    const floating[:, ::1] weight_ih,
    const floating[:, ::1] weight_hh,
    const floating[::1] bias,
    floating[:, :, ::1] gates,
    floating[:, :, ::1] cell,
    floating[:, :, ::1] tanh_cell,
    floating[:, :, ::1] hidden,
    int n_threads,
    const Py_ssize_t[::1] active=None,
):
    """Run one layer over time-major ``inputs`` and keep every step.

    Parameters
    ----------
    inputs : ndarray of shape (steps, batch, n_inputs)
    weight_ih, weight_hh, bias : ndarray
        PyTorch's layout: ``(4H, n_inputs)``, ``(4H, H)``, ``(4H,)``.
    gates : ndarray of shape (steps, batch, 4 * H)
        Written: the activated gates (of the running rows).
    cell, hidden : ndarray of shape (steps + 1, batch, H)
        Written: the states, step 0 being the zero initial state; a row that
        has ended keeps its last states.
    tanh_cell : ndarray of shape (steps, batch, H)
        Written: tanh of the cell state leaving each step (running rows).
    n_threads : int
        Number of OpenMP threads; each runs the time loop on its own rows.
    active : ndarray of shape (steps,) of intp or None, default=None
        Rows running at each step, non-increasing: step ``t`` updates rows
        ``[:active[t]]`` (``_masking.py``) and reads no other row's inputs.
        None: every row, every step.
    """
    cdef Py_ssize_t steps = inputs.shape[0], batch = inputs.shape[1]
    cdef Py_ssize_t n_inputs = inputs.shape[2], size = weight_hh.shape[1]
    cdef Py_ssize_t four = SKLSTM_N_GATES * size
    cdef Py_ssize_t n_blocks = _block_count(n_threads, batch, steps, n_inputs, size)
    cdef Py_ssize_t block, start, rows, t, n
    cdef const Py_ssize_t *counts = _active_pointer(active, steps, batch)
    cdef Py_ssize_t *starts = NULL
    cdef floating *packed_ih = NULL
    cdef floating *packed_hh = NULL
    cell[0, :, :] = 0
    hidden[0, :, :] = 0
    if steps == 0 or batch == 0:
        return
    try:
        starts = _row_blocks(n_blocks, batch, steps, counts)
        packed_ih = _packed(four, n_inputs, &weight_ih[0, 0], n_inputs, 1)
        packed_hh = _packed(four, size, &weight_hh[0, 0], size, 1)
        with nogil:
            for block in prange(n_blocks, num_threads=n_blocks, schedule="static"):
                start = starts[block]
                rows = starts[block + 1] - start
                for t in range(steps):
                    n = _active_rows(counts, t, start, rows)
                    if n:
                        _forward_step(n, size, n_inputs, &inputs[t, start, 0],
                                      n_inputs,
                                      &hidden[t, start, 0], packed_ih, packed_hh,
                                      &bias[0], t == 0, &gates[t, start, 0],
                                      &cell[t, start, 0], &cell[t + 1, start, 0],
                                      &tanh_cell[t, start, 0],
                                      &hidden[t + 1, start, 0])
                    if n < rows:  # ended rows keep their states
                        memcpy(&cell[t + 1, start + n, 0], &cell[t, start + n, 0],
                               (rows - n) * size * sizeof(floating))
                        memcpy(&hidden[t + 1, start + n, 0],
                               &hidden[t, start + n, 0],
                               (rows - n) * size * sizeof(floating))
    finally:
        free(starts)
        free(packed_ih)
        free(packed_hh)


def layer_backward(
    const floating[:, :, ::1] inputs,
    const floating[:, ::1] weight_ih,
    const floating[:, ::1] weight_hh,
    const floating[:, :, ::1] gates,
    const floating[:, :, ::1] cell,
    const floating[:, :, ::1] tanh_cell,
    const floating[:, :, ::1] hidden,
    const floating[:, :, ::1] d_hidden,
    floating[:, :, ::1] d_gates,
    floating[:, ::1] grad_ih,
    floating[:, ::1] grad_hh,
    floating[::1] grad_bias,
    floating[:, :, ::1] d_inputs,
    bint need_d_inputs,
    int n_threads,
    const Py_ssize_t[::1] active=None,
):
    """Backpropagate through time over one layer.

    Parameters
    ----------
    inputs, weight_ih, weight_hh, gates, cell, tanh_cell, hidden : ndarray
        As given to and written by :func:`layer_forward`.
    d_hidden : ndarray of shape (steps, batch, H) or (1, batch, H)
        Gradient w.r.t. every step's hidden state, or (one step given) only
        the last state's: that of each row's last running step.
    d_gates : ndarray of shape (steps, batch, 4 * H)
        Written: the gradient w.r.t. the gate pre-activations of every step
        of the running rows (the other rows' are not written: they are
        zero).
    grad_ih, grad_hh, grad_bias : ndarray
        Written: the gradients w.r.t. ``weight_ih``, ``weight_hh`` and the
        bias.
    d_inputs : ndarray of shape (steps, batch, n_inputs)
        Written when ``need_d_inputs``: the gradient w.r.t. ``inputs``
        (zero where a row has ended).
    need_d_inputs : bool
    n_threads : int
    active : ndarray of shape (steps,) of intp or None, default=None
        As given to :func:`layer_forward`.
    """
    cdef Py_ssize_t steps = inputs.shape[0], batch = inputs.shape[1]
    cdef Py_ssize_t n_inputs = inputs.shape[2], size = weight_hh.shape[1]
    cdef Py_ssize_t four = SKLSTM_N_GATES * size
    cdef Py_ssize_t n_blocks = _block_count(n_threads, batch, steps, n_inputs, size)
    cdef Py_ssize_t block_rows = 0
    cdef Py_ssize_t *starts = NULL
    cdef bint every_step = d_hidden.shape[0] == steps and steps > 1
    cdef Py_ssize_t block, start, rows, t, k, task, n_tasks, n, n_later
    cdef const Py_ssize_t *counts = _active_pointer(active, steps, batch)
    cdef double clock
    cdef floating *dh
    cdef floating *dc
    cdef floating *scratch = NULL
    cdef floating *packed_hh_t = NULL
    cdef floating *sums = NULL
    cdef floating *work = NULL
    # Gate units go to the weight gradients' tasks by panels of the kernel.
    cdef Py_ssize_t panel = SKLSTM_NB_FLOAT if floating is float else SKLSTM_NB_DOUBLE
    cdef Py_ssize_t n_panels = (four + panel - 1) // panel
    # The sums' region: the weight gradients' product, and the input
    # gradients' where asked for.
    cdef Py_ssize_t sums_threads = _work_threads(
        n_threads,
        2 * steps * batch * four * (n_inputs + size + 1 + (n_inputs if need_d_inputs else 0)))
    cdef Py_ssize_t n_groups = _thread_count(sums_threads, n_panels, 1)
    cdef Py_ssize_t work_size = SKLSTM_WGRAD_WORK(n_inputs, size, panel)
    if steps == 0 or batch == 0 or (counts != NULL and counts[0] == 0):
        grad_ih[...] = 0
        grad_hh[...] = 0
        grad_bias[...] = 0
        if need_d_inputs:
            d_inputs[...] = 0
        return
    try:
        starts = _row_blocks(n_blocks, batch, steps, counts)
        for block in range(n_blocks):
            block_rows = max(block_rows, starts[block + 1] - starts[block])
        # Each block's dh and dc (block_rows x H each), side by side.
        scratch = <floating *> malloc(
            n_blocks * 2 * block_rows * size * sizeof(floating))
        if scratch == NULL:
            raise MemoryError()
        # dh = dz @ weight_hh = dz @ (weight_hh^T)^T: pack weight_hh^T.
        packed_hh_t = _packed(size, four, &weight_hh[0, 0], 1, size)
        # The weight gradients' sums (n_inputs + H + 1 rows of every panel of
        # gate units) and, per group of panels, the kernel's work: a chunk of
        # rows of the inputs and h_prev, packed, and of a panel of d_gates.
        sums = <floating *> malloc(
            (n_inputs + size + 1) * n_panels * panel * sizeof(floating))
        work = <floating *> malloc(n_groups * work_size * sizeof(floating))
        if sums == NULL or work == NULL:
            raise MemoryError()
        with nogil:
            # The recurrence, back in time: each thread on its own rows. A
            # row joins at its last running step, with the gradient of its
            # last hidden state (or of that step's) and none of its cell.
            for block in prange(n_blocks, num_threads=n_blocks, schedule="static"):
                start = starts[block]
                rows = starts[block + 1] - start
                dh = scratch + block * 2 * block_rows * size
                dc = dh + rows * size
                n_later = 0
                for t in range(steps - 1, -1, -1):
                    n = _active_rows(counts, t, start, rows)
                    if n > n_later:
                        memcpy(dh + n_later * size,
                               &d_hidden[t if every_step else d_hidden.shape[0] - 1,
                                         start + n_later, 0],
                               (n - n_later) * size * sizeof(floating))
                        memset(dc + n_later * size, 0,
                               (n - n_later) * size * sizeof(floating))
                        n_later = n
                    if n == 0:
                        continue
                    clock = _tick()
                    _backward_rows(n, size, dh, &gates[t, start, 0],
                                   &cell[t, start, 0], &tanh_cell[t, start, 0],
                                   dc, &d_gates[t, start, 0])
                    _tock(BACKWARD_GATES, clock)
                    if t:
                        clock = _tick()
                        _row_gemm(n, size, four, &d_gates[t, start, 0], four,
                                  packed_hh_t, 0, NULL, 0, NULL, False, dh)
                        if every_step:
                            for k in range(n * size):
                                dh[k] += (&d_hidden[t - 1, start, 0])[k]
                        _tock(BACKWARD_PRODUCTS, clock)
            # Sums over every running row and step: the weight gradients, one
            # product per group of gate-unit panels (each group sums over all
            # rows, so the split does not change the result), and the
            # gradient w.r.t. the inputs step by step.
            n_tasks = n_groups + (steps if need_d_inputs else 0)
            for task in prange(n_tasks,
                               num_threads=_thread_count(sums_threads, n_tasks, 1),
                               schedule="dynamic"):
                clock = _tick()
                if task < n_groups:
                    _weight_gradients(
                        steps, batch, counts, n_inputs, &inputs[0, 0, 0], size,
                        &hidden[0, 0, 0], &d_gates[0, 0, 0],
                        _block_start(task, n_groups, n_panels) * panel,
                        min(four, _block_start(task + 1, n_groups, n_panels) * panel),
                        work + task * work_size, sums, &grad_ih[0, 0],
                        &grad_hh[0, 0], &grad_bias[0])
                    _tock(WEIGHT_GRADIENTS, clock)
                else:
                    t = task - n_groups
                    n = _active_rows(counts, t, 0, batch)
                    if n:
                        _gemm(False, False, <int> n, <int> n_inputs, <int> four,
                              <floating> 1, &d_gates[t, 0, 0], <int> four,
                              &weight_ih[0, 0], <int> n_inputs, <floating> 0,
                              &d_inputs[t, 0, 0], <int> n_inputs)
                    if n < batch:
                        memset(&d_inputs[t, n, 0], 0,
                               (batch - n) * n_inputs * sizeof(floating))
                    _tock(INPUT_GRADIENTS, clock)
    finally:
        free(starts)
        free(scratch)
        free(packed_hh_t)
        free(work)
        free(sums)


include "_predict.pxi"
