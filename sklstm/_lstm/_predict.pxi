# Prediction: every layer at once, last states only. Included by
# ``_fast_lstm.pyx``.

def last_hidden_states(
    const floating[:, :, ::1] X,
    list layers,
    floating[:, ::1] out,
    int n_threads,
    Py_ssize_t chunk,
    const Py_ssize_t[::1] lengths=None,
):
    """The top layer's hidden state at each row's last real step, for
    samples-first ``X``: what the network's head (``_head.py``, shared by
    every engine) reads.

    All layers advance together step by step, so only the current states
    are kept: memory of ``O(chunk * H)`` per thread, whatever the number of
    steps. The threads share the chunks of ``chunk`` rows. The products use
    the GEMM of ``_gate_loops.h``, which gives each row the same operations
    wherever it sits in a chunk: a row's result never depends on the other
    rows of the call.

    Parameters
    ----------
    X : ndarray of shape (n_samples, steps, n_features)
    layers : list of (weight_ih, weight_hh, bias)
        C-contiguous arrays of ``X``'s dtype, PyTorch's layout.
    out : ndarray of shape (n_samples, H_last)
        Written.
    n_threads : int
        OpenMP threads; at most one per chunk is used.
    chunk : int
        Rows per chunk.
    lengths : ndarray of shape (n_samples,) of intp or None, default=None
        Real steps of each row, non-increasing (the rows put longest first,
        ``_masking.py``): a row's states stop at its last real step, where
        they are read. None: every row has ``steps``.
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
    cdef Py_ssize_t index, start, t, r, j, n, last
    cdef const Py_ssize_t *row_steps = NULL
    cdef floating *state
    cdef floating *layer_input
    cdef floating *g
    cdef floating *c
    cdef floating *c_next
    cdef floating *tc
    cdef floating *h
    if n_samples == 0:
        return
    if lengths is not None:
        if lengths.shape[0] != n_samples:
            raise ValueError("lengths must give one length per row of X")
        for r in range(n_samples):
            if (lengths[r] < 1 or lengths[r] > steps
                    or (r and lengths[r] > lengths[r - 1])):
                raise ValueError("lengths must be non-increasing, within [1, steps]")
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
            if (w_ih.shape[1] != width
                    or w_hh.shape[0] != SKLSTM_N_GATES * w_hh.shape[1]):
                raise ValueError("layer shapes do not chain")
            size = w_hh.shape[1]
            packed_ih[l] = _packed(SKLSTM_N_GATES * size, width, &w_ih[0, 0], width, 1)
            packed_hh[l] = _packed(SKLSTM_N_GATES * size, size, &w_hh[0, 0], size, 1)
            bias_p[l] = <floating *> &b[0]
            sizes[l] = size
            n_in[l] = width
            width = size
            # The layout of _engine_constants.h: gates, two cell states, the
            # tanh of the cell, hidden.
            state_size += SKLSTM_PREDICT_VALUES * size * chunk
        if out.shape[0] != n_samples or out.shape[1] != width:
            raise ValueError("out must have one row per row of X and one "
                             "column per unit of the top layer")
        # Per thread, the states of every layer for one chunk of rows; the
        # first layer reads its inputs from X in place (row stride
        # steps * n_features).
        work = <floating *> malloc(threads * state_size * sizeof(floating))
        if work == NULL:
            raise MemoryError()
        with nogil:
            # Dynamic: padded rows come longest first, so the first chunks are
            # the longest.
            for index in prange(n_chunks, num_threads=threads, schedule="dynamic"):
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
                        # Two cell states, read and written by turns: the gate
                        # loop then writes no array it reads, which compilers
                        # vectorise without a run-time overlap check.
                        c = g + SKLSTM_N_GATES * size * chunk
                        c_next = c + size * chunk
                        if t % 2:
                            c, c_next = c_next, c
                        tc = g + (SKLSTM_N_GATES + 2) * size * chunk
                        h = tc + size * chunk
                        # h in place: the products read it before the gate
                        # loop writes it.
                        _forward_step(n, size, n_in[l], layer_input, ld_input,
                                      h, packed_ih[l], packed_hh[l], bias_p[l],
                                      t == 0, g, c, c_next, tc, h)
                        layer_input = h
                        ld_input = size
                        g = h + size * chunk
                for r in range(rows):
                    for j in range(width):
                        out[start + r, j] = layer_input[r * width + j]
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
