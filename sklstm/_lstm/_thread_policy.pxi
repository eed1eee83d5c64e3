# The thread policy of the compiled engine, its one owner on the C side (as
# scikit-learn's ``_openmp_helpers``): the OpenMP shim of a serial build,
# OpenMP's thread count, and how many threads a region of work gets. The
# Python side chooses ``n_threads`` once (``_threads.py``); these decide how
# many of them a region wakes. Included by ``_fast_lstm.pyx``.

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


def openmp_max_threads():
    """``omp_get_max_threads()``: OpenMP's thread count for a new region.

    It follows ``OMP_NUM_THREADS`` (which joblib sets in its worker
    processes) and threadpoolctl's OpenMP limits; 1 in a serial build.
    """
    return omp_get_max_threads()


# A thread's block of rows is never smaller than the GEMM's register block
# (``SKLSTM_GEMM_ROWS``, ``_engine_constants.h``) unless there are fewer rows
# than that: more threads would only wait. The results do not depend on the
# split.
cdef Py_ssize_t MIN_BLOCK_ROWS = SKLSTM_GEMM_ROWS

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
    cdef Py_ssize_t flops = (
        2 * SKLSTM_N_GATES * size * (n_inputs + size) * steps * batch)
    return min(_thread_count(n_threads, batch, MIN_BLOCK_ROWS),
               _work_threads(n_threads, flops))


def block_count(int n_threads, Py_ssize_t batch, Py_ssize_t steps,
                Py_ssize_t n_inputs, Py_ssize_t size):
    """The threads (one block of rows each) that a training pass of
    ``batch`` rows of ``steps`` steps, ``n_inputs`` inputs and ``size``
    units runs on ``n_threads``."""
    return _block_count(n_threads, batch, steps, n_inputs, size)


cdef inline Py_ssize_t _block_start(Py_ssize_t block, Py_ssize_t n_blocks,
                                    Py_ssize_t n_rows) noexcept nogil:
    """First row of ``block`` when ``n_rows`` are cut into ``n_blocks``."""
    return (block * n_rows) // n_blocks


cdef Py_ssize_t *_row_blocks(
    Py_ssize_t n_blocks, Py_ssize_t batch, Py_ssize_t steps,
    const Py_ssize_t *active,
) except NULL:
    """A malloc'ed array of ``n_blocks + 1`` row indices: block ``b`` of a
    training pass is rows ``[starts[b], starts[b + 1])``. Equal numbers of
    rows; where rows end at different steps (``active``, rows longest
    first), equal numbers of running row-steps instead, so that a thread
    given the long rows does not wait for the others. A row's results do
    not depend on the split."""
    cdef Py_ssize_t *starts = <Py_ssize_t *> malloc(
        (n_blocks + 1) * sizeof(Py_ssize_t))
    cdef Py_ssize_t block, row = 0, t = steps, total = 0, done = 0
    if starts == NULL:
        raise MemoryError()
    for block in range(n_blocks + 1):
        starts[block] = _block_start(block, n_blocks, batch)
    if active == NULL or n_blocks == 1:
        return starts
    for t in range(steps):
        total += active[t]
    # Row r runs one step for each t with active[t] > r: walk the rows,
    # adding their lengths, and cut where the running total passes each
    # block's share.
    t = steps
    block = 1
    for row in range(batch):
        while t > 0 and active[t - 1] <= row:
            t -= 1
        while block < n_blocks and done * n_blocks >= block * total:
            starts[block] = row
            block += 1
        done += t
    while block < n_blocks:
        starts[block] = batch
        block += 1
    return starts
