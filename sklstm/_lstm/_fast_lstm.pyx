# cython: language_level=3, boundscheck=False, wraparound=False
# cython: initializedcheck=False, cdivision=True
"""The compiled engine: LSTM layers over whole sequences, without the GIL.

The rows of a batch never meet in an LSTM's recurrence: each row reads only
its own previous states. So the batch is cut into one block of rows per
thread (OpenMP, ``prange``), and each thread runs the whole time loop on its
block with no synchronisation between steps: per step, the products with the
weights (the GEMM of ``_gate_loops.h``) and one fused pass of the gate maths.
That GEMM gives every row the same operations wherever it sits, so the
states and the gate gradients of a row do not depend on how the rows were
split. The weight gradients, which sum over all rows and steps, come after
the loop as one product, ``[x | h_prev | 1]^T @ dz``, of the weight-gradient
kernel of ``_gate_loops.h``: the threads share out its gate units, and each
of its sums runs over the rows in order, so the model is the same on any
number of threads. The gradient w.r.t. a lower layer's inputs, step by step,
is a BLAS product (``scipy.linalg.cython_blas``, BLAS held to one thread).

The maths is that of the NumPy engine (``_cell.py``, ``_gates.py``), which
stays the readable reference and the fallback where this module is not built.
"""

from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy, memset
from scipy.linalg.cython_blas cimport dgemm, sgemm


# OpenMP where the build found it (``setup.py``), else a serial build: Cython
# then compiles ``prange`` as a plain loop, and these stand-ins answer for
# the OpenMP runtime (scikit-learn's ``_openmp_helpers`` does the same).
cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define SKLSTM_OPENMP 1
    #define SKLSTM_OPENMP_VERSION _OPENMP
    #else
    #define SKLSTM_OPENMP 0
    #define SKLSTM_OPENMP_VERSION 0
    #define omp_get_max_threads() 1
    #endif
    """
    bint SKLSTM_OPENMP
    int SKLSTM_OPENMP_VERSION
    int omp_get_max_threads() nogil


cdef extern from "_gate_loops.h" nogil:
    const char *SKLSTM_C_PATH
    const char *SKLSTM_COMPILER
    int SKLSTM_HAS_CLONES
    void sklstm_forward_rows_float(
        size_t rows, size_t hidden, float *gates, const float *bias,
        const float *c_prev, float *c, float *tanh_c, float *h)
    void sklstm_forward_rows_double(
        size_t rows, size_t hidden, double *gates, const double *bias,
        const double *c_prev, double *c, double *tanh_c, double *h)
    void sklstm_backward_rows_float(
        size_t rows, size_t hidden, const float *dh, const float *gates,
        const float *c_prev, const float *tanh_c, float *dc_next, float *dz,
        size_t ldz)
    void sklstm_backward_rows_double(
        size_t rows, size_t hidden, const double *dh, const double *gates,
        const double *c_prev, const double *tanh_c, double *dc_next,
        double *dz, size_t ldz)
    size_t sklstm_packed_size_float(size_t n, size_t k)
    size_t sklstm_packed_size_double(size_t n, size_t k)
    void sklstm_pack_float(
        size_t n, size_t k, const float *w, size_t sj, size_t sp, float *wp)
    void sklstm_pack_double(
        size_t n, size_t k, const double *w, size_t sj, size_t sp, double *wp)
    void sklstm_gemm_float(
        int use_fma, size_t rows, size_t n, size_t k, const float *a,
        size_t lda, const float *wp, size_t k2, const float *a2, size_t lda2,
        const float *wp2, int accumulate, float *c, size_t ldc)
    void sklstm_gemm_double(
        int use_fma, size_t rows, size_t n, size_t k, const double *a,
        size_t lda, const double *wp, size_t k2, const double *a2, size_t lda2,
        const double *wp2, int accumulate, double *c, size_t ldc)
    int sklstm_cpu_has_fma()
    enum:
        SKLSTM_NB_FLOAT
        SKLSTM_NB_DOUBLE
        SKLSTM_WGRAD_ROWS
    void sklstm_wgrad_float(
        int use_fma, size_t kc, size_t na, const float *a, size_t lda,
        size_t na2, const float *a2, size_t lda2, int ones, const float *b,
        size_t ldb, size_t j0, size_t j1, int first, float *work, float *c)
    void sklstm_wgrad_double(
        int use_fma, size_t kc, size_t na, const double *a, size_t lda,
        size_t na2, const double *a2, size_t lda2, int ones, const double *b,
        size_t ldb, size_t j0, size_t j1, int first, double *work, double *c)


cdef int _USE_FMA = sklstm_cpu_has_fma()


def openmp_max_threads():
    """``omp_get_max_threads()``: OpenMP's thread count for a new region.

    It follows ``OMP_NUM_THREADS`` (which joblib sets in its worker
    processes) and threadpoolctl's OpenMP limits; 1 in a serial build.
    """
    return omp_get_max_threads()


def build_info():
    """How this extension was built, for :func:`sklstm.show_versions`.

    Returns
    -------
    info : dict
        ``compiler`` (name and version, from its own macros), ``openmp``
        (whether the engine runs threads), ``openmp_version`` (the
        ``_OPENMP`` date, 0 in a serial build), ``c_path`` (``"vector"`` or
        ``"plain C"``, see ``_gate_loops.h``), ``target_clones`` (gate loops
        also compiled for x86-64-v3/v4) and ``fma`` (this CPU runs the GEMM
        with fused multiply-adds).
    """
    return {
        "compiler": SKLSTM_COMPILER.decode().strip(),
        "openmp": bool(SKLSTM_OPENMP),
        "openmp_version": SKLSTM_OPENMP_VERSION,
        "c_path": SKLSTM_C_PATH.decode(),
        "target_clones": bool(SKLSTM_HAS_CLONES),
        "fma": bool(_USE_FMA),
    }


# --- phase timers (benchmarks/bench_lstm.py) --------------------------------

cdef extern from *:
    """
    #include <time.h>
    static double sklstm_now(void)
    {
        struct timespec ts;
        timespec_get(&ts, TIME_UTC);
        return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    }
    """
    double sklstm_now() nogil


#: The phases of a training pass that the timers tell apart, in order.
PHASES = (
    "forward products",
    "forward gates",
    "backward gates",
    "backward products",
    "weight gradients",
    "input gradients",
    "packing",
)

cdef enum:
    FORWARD_PRODUCTS, FORWARD_GATES, BACKWARD_GATES, BACKWARD_PRODUCTS
    WEIGHT_GRADIENTS, INPUT_GRADIENTS, PACKING, N_PHASES
    TIMER_SLOTS = 64

# Seconds per thread (its OpenMP number, modulo TIMER_SLOTS) and phase. Off
# unless a benchmark turns them on: then each phase reads the clock twice.
cdef bint _timing = False
cdef double _seconds[TIMER_SLOTS][N_PHASES]


cdef inline double _tick() noexcept nogil:
    return sklstm_now() if _timing else 0.0


cdef inline void _tock(int phase, double start) noexcept nogil:
    if _timing:
        _seconds[threadid() % TIMER_SLOTS][phase] += sklstm_now() - start


def time_phases(bint on):
    """Turn the phase timers on or off, and zero them."""
    global _timing
    _timing = on
    memset(_seconds, 0, sizeof(_seconds))


def phase_seconds():
    """Seconds spent in each of :data:`PHASES`, summed over the threads,
    since :func:`time_phases` last zeroed them."""
    return {
        name: sum(_seconds[slot][phase] for slot in range(TIMER_SLOTS))
        for phase, name in enumerate(PHASES)
    }


# --- small helpers --------------------------------------------------------

cdef inline void _gemm(
    bint trans_a, bint trans_b, int m, int n, int k, floating alpha,
    const floating *a, int lda, const floating *b, int ldb, floating beta,
    floating *c, int ldc,
) noexcept nogil:
    """Row-major ``c (m x n) = alpha op(a) @ op(b) + beta c``.

    BLAS is column-major, so it computes ``c^T = op(b)^T op(a)^T``.
    """
    cdef char transa = b'T' if trans_b else b'N'
    cdef char transb = b'T' if trans_a else b'N'
    if floating is float:
        sgemm(&transa, &transb, &n, &m, &k, &alpha, <float *> b, &ldb,
              <float *> a, &lda, &beta, c, &ldc)
    else:
        dgemm(&transa, &transb, &n, &m, &k, &alpha, <double *> b, &ldb,
              <double *> a, &lda, &beta, c, &ldc)


cdef inline void _forward_rows(
    size_t rows, size_t hidden, floating *gates, const floating *bias,
    const floating *c_prev, floating *c, floating *tanh_c, floating *h,
) noexcept nogil:
    if floating is float:
        sklstm_forward_rows_float(rows, hidden, gates, bias, c_prev, c, tanh_c, h)
    else:
        sklstm_forward_rows_double(rows, hidden, gates, bias, c_prev, c, tanh_c, h)


cdef inline void _backward_rows(
    size_t rows, size_t hidden, const floating *dh, const floating *gates,
    const floating *c_prev, const floating *tanh_c, floating *dc_next,
    floating *dz,
) noexcept nogil:
    if floating is float:
        sklstm_backward_rows_float(
            rows, hidden, dh, gates, c_prev, tanh_c, dc_next, dz, 4 * hidden)
    else:
        sklstm_backward_rows_double(
            rows, hidden, dh, gates, c_prev, tanh_c, dc_next, dz, 4 * hidden)


cdef floating *_packed(Py_ssize_t n, Py_ssize_t k, const floating *w,
                       Py_ssize_t sj, Py_ssize_t sp) except NULL:
    """A malloc'ed copy of ``w`` (n x k, element (j, p) at ``w[j*sj + p*sp]``)
    packed for :func:`_row_gemm`; the caller frees it."""
    cdef size_t size
    if floating is float:
        size = sklstm_packed_size_float(n, k)
    else:
        size = sklstm_packed_size_double(n, k)
    cdef floating *packed = <floating *> malloc(max(size, 1) * sizeof(floating))
    cdef double start = _tick()
    if packed == NULL:
        raise MemoryError()
    if floating is float:
        sklstm_pack_float(n, k, w, sj, sp, packed)
    else:
        sklstm_pack_double(n, k, w, sj, sp, packed)
    _tock(PACKING, start)
    return packed


cdef inline void _row_gemm(
    Py_ssize_t rows, Py_ssize_t n, Py_ssize_t k, const floating *a,
    Py_ssize_t lda, const floating *packed, Py_ssize_t k2, const floating *a2,
    Py_ssize_t lda2, const floating *packed2, bint accumulate, floating *c,
) noexcept nogil:
    """``c (rows x n) = [c +] a @ w^T + a2 @ w2^T`` with ``w``, ``w2``
    packed by :func:`_packed` (``k2 = 0``: no second source); each row gets
    the same operations wherever it sits (``_gate_loops.h``).
    """
    if k2 == 0:  # no second source: point it at the first, never read
        a2, lda2, packed2 = a, lda, packed
    if floating is float:
        sklstm_gemm_float(_USE_FMA, rows, n, k, a, lda, packed, k2, a2, lda2,
                          packed2, accumulate, c, n)
    else:
        sklstm_gemm_double(_USE_FMA, rows, n, k, a, lda, packed, k2, a2, lda2,
                           packed2, accumulate, c, n)


cdef inline void _forward_step(
    Py_ssize_t rows, Py_ssize_t size, Py_ssize_t n_inputs, const floating *x,
    Py_ssize_t ldx, const floating *h_prev, const floating *packed_ih,
    const floating *packed_hh, const floating *bias, bint first, floating *gates,
    const floating *c_prev, floating *c, floating *tanh_c, floating *h,
) noexcept nogil:
    """One step of one layer on a block of rows: the products with the
    weights (``h_prev`` is zero at the first step and skipped), then the
    fused gate loop. Row ``r``'s inputs are at ``x + r * ldx``. ``c`` may be
    ``c_prev``; ``h`` is written after ``h_prev`` is read, so it may be
    ``h_prev``."""
    cdef double start = _tick()
    _row_gemm(rows, 4 * size, n_inputs, x, ldx, packed_ih, 0 if first else size,
              h_prev, size, packed_hh, False, gates)
    _tock(FORWARD_PRODUCTS, start)
    start = _tick()
    _forward_rows(rows, size, gates, bias, c_prev, c, tanh_c, h)
    _tock(FORWARD_GATES, start)


cdef inline Py_ssize_t _active_rows(
    const Py_ssize_t *active, Py_ssize_t t, Py_ssize_t start, Py_ssize_t rows,
) noexcept nogil:
    """Rows of the block ``[start, start + rows)`` still running at step
    ``t``: a prefix of the block, the rows of the batch being put longest
    first (``_masking.py``); ``active`` NULL: all of them."""
    if active == NULL:
        return rows
    return min(rows, max(0, active[t] - start))


cdef void _weight_gradients(
    Py_ssize_t steps, Py_ssize_t batch, const Py_ssize_t *active,
    Py_ssize_t n_inputs, const floating *inputs,
    Py_ssize_t size, const floating *h_prev, const floating *dz,
    Py_ssize_t j0, Py_ssize_t j1, floating *work, floating *sums,
    floating *grad_ih, floating *grad_hh, floating *grad_bias,
) noexcept nogil:
    """The gradients of the gate units ``j0 <= j < j1``: rows ``j`` of
    ``grad_ih`` (``dz^T @ inputs``), ``grad_hh`` (``dz^T @ h_prev``) and
    ``grad_bias`` (``dz``'s sum), over the rows ``(t, b)`` running at their
    step (``b < active[t]``; all ``steps * batch`` where ``active`` is
    NULL; row strides ``n_inputs``, ``size`` and ``4 * size``), in one
    product (``_gate_loops.h``): ``sums`` (the n_inputs + size + 1 rows of
    every panel of gate units; those of the panels from ``j0`` to ``j1``
    written) gets ``[inputs | h_prev | 1]^T @ dz``, one chunk of at most
    ``SKLSTM_WGRAD_ROWS`` consecutive running rows after the other
    (``work``: the kernel's, for one chunk), then goes transposed into the
    gradients. Each sum runs over the running rows in order, whatever ``j0``
    and ``j1``: the rows of an ended sequence, whose gradients are zero, add
    nothing and are skipped."""
    cdef Py_ssize_t four = 4 * size, m = n_inputs + size + 1, kc, j, q
    cdef Py_ssize_t t = 0, pos, end
    cdef bint first = True
    cdef Py_ssize_t panel = SKLSTM_NB_FLOAT if floating is float else SKLSTM_NB_DOUBLE
    cdef floating *column
    while t < steps:
        # A run of consecutive running rows: a step's prefix, continued by
        # the next step's while every row of the step runs.
        pos = t * batch
        end = pos + _active_rows(active, t, 0, batch)
        while t + 1 < steps and end == (t + 1) * batch:
            t += 1
            end = t * batch + _active_rows(active, t, 0, batch)
        t += 1
        while pos < end:
            kc = min(<Py_ssize_t> SKLSTM_WGRAD_ROWS, end - pos)
            if floating is float:
                sklstm_wgrad_float(
                    _USE_FMA, kc, n_inputs, inputs + pos * n_inputs, n_inputs,
                    size, h_prev + pos * size, size, True, dz + pos * four, four,
                    j0, j1, first, work, sums)
            else:
                sklstm_wgrad_double(
                    _USE_FMA, kc, n_inputs, inputs + pos * n_inputs, n_inputs,
                    size, h_prev + pos * size, size, True, dz + pos * four, four,
                    j0, j1, first, work, sums)
            first = False
            pos += kc
    # sums holds, panel after panel, each panel's rows (NB gate units each).
    for j in range(j0, j1):
        column = sums + (j - j % panel) * m + j % panel
        for q in range(n_inputs):
            grad_ih[j * n_inputs + q] = column[q * panel]
        for q in range(size):
            grad_hh[j * size + q] = column[(n_inputs + q) * panel]
        grad_bias[j] = column[(n_inputs + size) * panel]


# --- thread counts ----------------------------------------------------------

# A thread's block of rows is never smaller than the GEMM's register block
# (6 rows, ``_gate_loops.h``) unless there are fewer rows than that: more
# threads would only wait. The results do not depend on the split.
cdef enum:
    MIN_BLOCK_ROWS = 6

# Nor is a thread's share of a parallel region less than this many FLOPs of
# matrix products (about 20 microseconds of one core): below it, waking the
# threads costs more than they save (measured on 2 cores: batches of 16
# sequences of 7 steps, 24 inputs, 32 units, trained 2x slower on 2 threads
# than on 1; 200 sequences of 12 steps, 2 inputs, 16 units, 1.2x faster).
# The tests set it to 0 (:func:`set_min_thread_flops`), so that their small
# networks still split among threads; the results do not depend on it.
MIN_THREAD_FLOPS = 2_000_000
cdef Py_ssize_t _min_thread_flops = MIN_THREAD_FLOPS


def set_min_thread_flops(Py_ssize_t flops):
    """Set the least matrix-product work (FLOPs) a thread is given in a
    parallel region of training; returns the previous value. For tests."""
    global _min_thread_flops
    previous = _min_thread_flops
    _min_thread_flops = max(0, flops)
    return previous


cdef inline Py_ssize_t _thread_count(int n_threads, Py_ssize_t n_items,
                                     Py_ssize_t per_thread) noexcept nogil:
    """Threads for ``n_items`` shared out ``per_thread`` or more each: at
    most ``n_threads``, at least 1."""
    return max(1, min(<Py_ssize_t> n_threads,
                      (n_items + per_thread - 1) // per_thread))


cdef inline Py_ssize_t _work_threads(int n_threads, Py_ssize_t flops) noexcept nogil:
    """Threads for a region of ``flops`` of products: each gets at least
    ``_min_thread_flops`` of them, or the region runs on one thread."""
    return _thread_count(n_threads, flops, max(1, _min_thread_flops))


cdef inline Py_ssize_t _block_count(
    int n_threads, Py_ssize_t batch, Py_ssize_t steps, Py_ssize_t n_inputs,
    Py_ssize_t size,
) noexcept nogil:
    """Blocks of rows (one thread each) of a training pass over a layer:
    ``MIN_BLOCK_ROWS`` rows or more each, and ``_min_thread_flops`` of the
    time loop's products (``2 * 4H * (n_inputs + H)`` a row and step)."""
    cdef Py_ssize_t flops = 2 * 4 * size * (n_inputs + size) * steps * batch
    return min(_thread_count(n_threads, batch, MIN_BLOCK_ROWS),
               _work_threads(n_threads, flops))


def block_count(int n_threads, Py_ssize_t batch, Py_ssize_t steps,
                Py_ssize_t n_inputs, Py_ssize_t size):
    """The threads (one block of rows each) that a training pass of
    ``batch`` rows of ``steps`` steps, ``n_inputs`` inputs and ``size``
    units runs on ``n_threads``."""
    return _block_count(n_threads, batch, steps, n_inputs, size)


# --- training: one layer, every step kept --------------------------------

cdef inline Py_ssize_t _block_start(Py_ssize_t block, Py_ssize_t n_blocks,
                                    Py_ssize_t n_rows) noexcept nogil:
    """First row of ``block`` when ``n_rows`` are cut into ``n_blocks``."""
    return (block * n_rows) // n_blocks


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
    cdef Py_ssize_t four = 4 * size
    cdef Py_ssize_t n_blocks = _block_count(n_threads, batch, steps, n_inputs, size)
    cdef Py_ssize_t block, start, rows, t, n
    cdef const Py_ssize_t *counts = _active_pointer(active, steps, batch)
    cdef floating *packed_ih = NULL
    cdef floating *packed_hh = NULL
    cell[0, :, :] = 0
    hidden[0, :, :] = 0
    if steps == 0 or batch == 0:
        return
    try:
        packed_ih = _packed(four, n_inputs, &weight_ih[0, 0], n_inputs, 1)
        packed_hh = _packed(four, size, &weight_hh[0, 0], size, 1)
        with nogil:
            for block in prange(n_blocks, num_threads=n_blocks, schedule="static"):
                start = _block_start(block, n_blocks, batch)
                rows = _block_start(block + 1, n_blocks, batch) - start
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
    cdef Py_ssize_t four = 4 * size
    cdef Py_ssize_t n_blocks = _block_count(n_threads, batch, steps, n_inputs, size)
    cdef Py_ssize_t block_rows = (batch + n_blocks - 1) // n_blocks
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
    cdef Py_ssize_t work_size = SKLSTM_WGRAD_ROWS * (n_inputs + size + panel)
    if steps == 0 or batch == 0 or (counts != NULL and counts[0] == 0):
        grad_ih[...] = 0
        grad_hh[...] = 0
        grad_bias[...] = 0
        if need_d_inputs:
            d_inputs[...] = 0
        return
    try:
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
                start = _block_start(block, n_blocks, batch)
                rows = _block_start(block + 1, n_blocks, batch) - start
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
        free(scratch)
        free(packed_hh_t)
        free(work)
        free(sums)


# --- prediction: every layer at once, last states only ------------------

def network_output(
    const floating[:, :, ::1] X,
    list layers,
    const floating[:, ::1] head_weight,
    const floating[::1] head_bias,
    const floating[:, :, ::1] skip_weight,
    floating[:, ::1] out,
    int n_threads,
    Py_ssize_t chunk,
    const Py_ssize_t[::1] lengths=None,
):
    """The network's output (the head on the top layer's last hidden state,
    plus the skip connection on the last steps' inputs) for samples-first
    ``X``.

    All layers advance together step by step, so only the current states
    are kept: memory of ``O(chunk * H)`` per thread, whatever the number of
    steps. The threads share the chunks of ``chunk`` rows. The products use
    the GEMM of ``_gate_loops.h``, which gives each row the same operations
    wherever it sits in a chunk, and the head and the skip connection are a
    plain loop per row: a row's result never depends on the other rows of
    the call.

    Parameters
    ----------
    X : ndarray of shape (n_samples, steps, n_features)
    layers : list of (weight_ih, weight_hh, bias)
        C-contiguous arrays of ``X``'s dtype, PyTorch's layout.
    head_weight, head_bias : ndarray of shape (n_outputs, H_last), (n_outputs,)
    skip_weight : ndarray of shape (n_outputs, skip_steps, n_features)
        The skip connection's weights, read on the last ``skip_steps`` steps
        of ``X``; ``skip_steps=0`` (an empty array) for none.
    out : ndarray of shape (n_samples, n_outputs)
        Written.
    n_threads : int
        OpenMP threads; at most one per chunk is used.
    chunk : int
        Rows per chunk.
    lengths : ndarray of shape (n_samples,) of intp or None, default=None
        Real steps of each row, non-increasing (the rows put longest first,
        ``_masking.py``): a row's states stop at its last real step, where
        the head reads them, and the skip connection reads its last real
        steps. None: every row has ``steps``.
    """
    cdef Py_ssize_t n_samples = X.shape[0], steps = X.shape[1]
    cdef Py_ssize_t n_features = X.shape[2]
    cdef int n_layers = len(layers)
    cdef Py_ssize_t n_chunks, threads
    cdef const floating[:, ::1] w_ih
    cdef const floating[:, ::1] w_hh
    cdef const floating[::1] b
    cdef floating **packed_ih = NULL
    cdef floating **packed_hh = NULL
    cdef floating **bias_p = NULL
    cdef Py_ssize_t *sizes = NULL
    cdef Py_ssize_t *n_in = NULL
    cdef floating *work = NULL
    cdef Py_ssize_t state_size = 0, ld_input
    cdef int l
    cdef Py_ssize_t size, width, rows
    cdef Py_ssize_t n_outputs = head_weight.shape[0]
    cdef Py_ssize_t skip_steps = skip_weight.shape[1]
    cdef Py_ssize_t index, start, t, r, k, j, s, f, n, last
    cdef const Py_ssize_t *row_steps = NULL
    cdef floating total
    cdef floating *state
    cdef floating *layer_input
    cdef floating *g
    cdef floating *c
    cdef floating *tc
    cdef floating *h
    if n_samples == 0:
        return
    if lengths is not None:
        if lengths.shape[0] != n_samples:
            raise ValueError("lengths must give one length per row of X")
        for r in range(n_samples):
            if (lengths[r] < max(1, skip_steps) or lengths[r] > steps
                    or (r and lengths[r] > lengths[r - 1])):
                raise ValueError(
                    "lengths must be non-increasing, within [max(1, skip_steps), "
                    "steps]")
        row_steps = &lengths[0]
    # Buffers follow the rows there are: a few rows need no full chunk.
    chunk = max(1, min(chunk, n_samples))
    n_chunks = (n_samples + chunk - 1) // chunk
    threads = _thread_count(n_threads, n_chunks, 1)
    try:
        packed_ih = <floating **> calloc(n_layers, sizeof(floating *))
        packed_hh = <floating **> calloc(n_layers, sizeof(floating *))
        bias_p = <floating **> malloc(n_layers * sizeof(floating *))
        sizes = <Py_ssize_t *> malloc(n_layers * sizeof(Py_ssize_t))
        n_in = <Py_ssize_t *> malloc(n_layers * sizeof(Py_ssize_t))
        if not (packed_ih and packed_hh and bias_p and sizes and n_in):
            raise MemoryError()
        width = n_features
        for l in range(n_layers):
            w_ih, w_hh, b = layers[l]
            if w_ih.shape[1] != width or w_hh.shape[0] != 4 * w_hh.shape[1]:
                raise ValueError("layer shapes do not chain")
            size = w_hh.shape[1]
            packed_ih[l] = _packed(4 * size, width, &w_ih[0, 0], width, 1)
            packed_hh[l] = _packed(4 * size, size, &w_hh[0, 0], size, 1)
            bias_p[l] = <floating *> &b[0]
            sizes[l] = size
            n_in[l] = width
            width = size
            # gates (4H), cell, tanh of the cell, hidden: 7H per row.
            state_size += 7 * size * chunk
        if head_weight.shape[1] != width or head_bias.shape[0] != n_outputs:
            raise ValueError("the head does not fit the top layer")
        if out.shape[0] != n_samples or out.shape[1] != n_outputs:
            raise ValueError("out has the wrong shape")
        if (skip_weight.shape[0] != n_outputs or skip_steps > steps
                or skip_weight.shape[2] != n_features):
            raise ValueError("the skip connection does not fit X and the head")
        # Per thread, the states of every layer for one chunk of rows; the
        # first layer reads its inputs from X in place (row stride
        # steps * n_features).
        work = <floating *> malloc(threads * state_size * sizeof(floating))
        if work == NULL:
            raise MemoryError()
        with nogil:
            for index in prange(n_chunks, num_threads=threads, schedule="static"):
                state = work + threadid() * state_size
                start = index * chunk
                rows = min(chunk, n_samples - start)
                memset(state, 0, state_size * sizeof(floating))
                # The rows still running: a prefix of the chunk.
                n = rows
                last = steps if row_steps == NULL else row_steps[start]
                for t in range(last):
                    while row_steps != NULL and n > 0 and row_steps[start + n - 1] <= t:
                        n = n - 1
                    layer_input = <floating *> &X[start, t, 0]
                    ld_input = steps * n_features
                    g = state
                    for l in range(n_layers):
                        size = sizes[l]
                        c = g + 4 * size * chunk
                        tc = c + size * chunk
                        h = tc + size * chunk
                        # In place: c and h hold the previous step's states.
                        _forward_step(n, size, n_in[l], layer_input, ld_input,
                                      h, packed_ih[l], packed_hh[l], bias_p[l],
                                      t == 0, g, c, c, tc, h)
                        layer_input = h
                        ld_input = size
                        g = h + size * chunk
                for r in range(rows):
                    last = steps if row_steps == NULL else row_steps[start + r]
                    for k in range(n_outputs):
                        total = head_bias[k]
                        for j in range(width):
                            total = total + layer_input[r * width + j] * head_weight[k, j]
                        for s in range(skip_steps):
                            t = last - skip_steps + s
                            for f in range(n_features):
                                total = total + X[start + r, t, f] * skip_weight[k, s, f]
                        out[start + r, k] = total
    finally:
        for l in range(n_layers):
            if packed_ih != NULL:
                free(packed_ih[l])
            if packed_hh != NULL:
                free(packed_hh[l])
        free(packed_ih)
        free(packed_hh)
        free(bias_p)
        free(sizes)
        free(n_in)
        free(work)
