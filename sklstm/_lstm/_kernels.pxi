# The kernels' C (``_gate_loops.h``, ``_gemm.h``, ``_wgrad.h``) and the
# helpers of ``_fast_lstm.pyx``'s loops around it: BLAS, the packing of the
# weights, one step of a layer, the weight gradients. Included by
# ``_fast_lstm.pyx``.

cdef extern from "_engine_constants.h" nogil:
    enum:
        SKLSTM_N_GATES
        SKLSTM_NB_FLOAT
        SKLSTM_NB_DOUBLE
        SKLSTM_GEMM_ROWS
        SKLSTM_WGRAD_ROWS
        SKLSTM_PREDICT_VALUES
        SKLSTM_ISA_BASE
        SKLSTM_ISA_FMA
        SKLSTM_ISA_AVX512
    size_t SKLSTM_WGRAD_WORK(size_t na, size_t na2, size_t nb)


cdef extern from "_gate_loops.h" nogil:
    int sklstm_cpu_isa()
    void sklstm_forward_rows_float(
        int isa, size_t rows, size_t hidden, float *gates, const float *bias,
        const float *c_prev, float *c, float *tanh_c, float *h)
    void sklstm_forward_rows_double(
        int isa, size_t rows, size_t hidden, double *gates, const double *bias,
        const double *c_prev, double *c, double *tanh_c, double *h)
    void sklstm_backward_rows_float(
        size_t rows, size_t hidden, const float *dh, const float *gates,
        const float *c_prev, const float *tanh_c, float *dc_next, float *dz,
        size_t ldz)
    void sklstm_backward_rows_double(
        size_t rows, size_t hidden, const double *dh, const double *gates,
        const double *c_prev, const double *tanh_c, double *dc_next,
        double *dz, size_t ldz)


cdef extern from "_gemm.h" nogil:
    size_t sklstm_packed_size_float(size_t n, size_t k)
    size_t sklstm_packed_size_double(size_t n, size_t k)
    void sklstm_pack_float(
        size_t n, size_t k, const float *w, size_t sj, size_t sp, float *wp)
    void sklstm_pack_double(
        size_t n, size_t k, const double *w, size_t sj, size_t sp, double *wp)
    void sklstm_gemm_float(
        int isa, size_t rows, size_t n, size_t k, const float *a,
        size_t lda, const float *wp, size_t k2, const float *a2, size_t lda2,
        const float *wp2, int accumulate, float *c, size_t ldc)
    void sklstm_gemm_double(
        int isa, size_t rows, size_t n, size_t k, const double *a,
        size_t lda, const double *wp, size_t k2, const double *a2, size_t lda2,
        const double *wp2, int accumulate, double *c, size_t ldc)


cdef extern from "_wgrad.h" nogil:
    void sklstm_wgrad_float(
        int isa, size_t kc, size_t na, const float *a, size_t lda,
        size_t na2, const float *a2, size_t lda2, int ones, const float *b,
        size_t ldb, size_t j0, size_t j1, int first, float *work, float *c)
    void sklstm_wgrad_double(
        int isa, size_t kc, size_t na, const double *a, size_t lda,
        size_t na2, const double *a2, size_t lda2, int ones, const double *b,
        size_t ldb, size_t j0, size_t j1, int first, double *work, double *c)


#: The instruction sets the kernels have builds for, indexed by their level
#: (``SKLSTM_ISA_*`` of ``_engine_constants.h``): the baseline of the
#: target, AVX2 with fused multiply-adds, AVX-512F.
ISA_NAMES = tuple(
    name for _, name in sorted(
        {SKLSTM_ISA_BASE: "base", SKLSTM_ISA_FMA: "avx2", SKLSTM_ISA_AVX512: "avx512"}.items()
    )
)
#: The environment variable that caps the instruction set, as
#: ``OPENBLAS_CORETYPE`` does for OpenBLAS: read once, when the module loads.
MAX_ISA_ENV = "SKLSTM_MAX_ISA"


def _chosen_isa(int cpu_isa):
    """The level the kernels run: the CPU's best that this build has, at
    most the one named by ``SKLSTM_MAX_ISA``."""
    name = os.environ.get(MAX_ISA_ENV, "").strip().lower()
    if not name:
        return cpu_isa
    if name not in ISA_NAMES:
        raise ValueError(
            f"{MAX_ISA_ENV}={name!r} is not an instruction set of sklstm's "
            f"kernels; use one of {', '.join(ISA_NAMES)}, or unset it."
        )
    return min(cpu_isa, ISA_NAMES.index(name))


cdef int _ISA = _chosen_isa(sklstm_cpu_isa())


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
        sklstm_forward_rows_float(_ISA, rows, hidden, gates, bias, c_prev, c, tanh_c, h)
    else:
        sklstm_forward_rows_double(_ISA, rows, hidden, gates, bias, c_prev, c, tanh_c, h)


cdef inline void _backward_rows(
    size_t rows, size_t hidden, const floating *dh, const floating *gates,
    const floating *c_prev, const floating *tanh_c, floating *dc_next,
    floating *dz,
) noexcept nogil:
    if floating is float:
        sklstm_backward_rows_float(
            rows, hidden, dh, gates, c_prev, tanh_c, dc_next, dz,
            SKLSTM_N_GATES * hidden)
    else:
        sklstm_backward_rows_double(
            rows, hidden, dh, gates, c_prev, tanh_c, dc_next, dz,
            SKLSTM_N_GATES * hidden)


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
        sklstm_gemm_float(_ISA, rows, n, k, a, lda, packed, k2, a2, lda2,
                          packed2, accumulate, c, n)
    else:
        sklstm_gemm_double(_ISA, rows, n, k, a, lda, packed, k2, a2, lda2,
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
    _row_gemm(rows, SKLSTM_N_GATES * size, n_inputs, x, ldx, packed_ih, 0 if first else size,
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
    NULL; row strides ``n_inputs``, ``size`` and ``N_GATES * size``), in one
    product (``_gate_loops.h``): ``sums`` (the n_inputs + size + 1 rows of
    every panel of gate units; those of the panels from ``j0`` to ``j1``
    written) gets ``[inputs | h_prev | 1]^T @ dz``, one chunk of at most
    ``SKLSTM_WGRAD_ROWS`` consecutive running rows after the other
    (``work``: the kernel's, for one chunk), then goes transposed into the
    gradients. Each sum runs over the running rows in order, whatever ``j0``
    and ``j1``: the rows of an ended sequence, whose gradients are zero, add
    nothing and are skipped."""
    cdef Py_ssize_t four = SKLSTM_N_GATES * size, m = n_inputs + size + 1, kc, j, q
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
                    _ISA, kc, n_inputs, inputs + pos * n_inputs, n_inputs,
                    size, h_prev + pos * size, size, True, dz + pos * four, four,
                    j0, j1, first, work, sums)
            else:
                sklstm_wgrad_double(
                    _ISA, kc, n_inputs, inputs + pos * n_inputs, n_inputs,
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
