# Phase timers for benchmarks/bench_lstm.py's breakdown of a training pass,
# compiled in only by a build with SKLSTM_PHASE_TIMERS=1 in the environment
# (``setup.py`` then defines the macro of the same name): in other builds
# ``_tick`` and ``_tock`` test a constant 0 and compile to nothing. Included
# by ``_fast_lstm.pyx``.

cdef extern from *:
    """
    #ifdef SKLSTM_PHASE_TIMERS
    #include <time.h>
    #define SKLSTM_TIMERS 1
    static double sklstm_now(void)
    {
        struct timespec ts;
        timespec_get(&ts, TIME_UTC);
        return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    }
    #else
    #define SKLSTM_TIMERS 0
    static double sklstm_now(void) { return 0.0; }
    #endif
    """
    bint SKLSTM_TIMERS
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

#: Whether this build has the phase timers (SKLSTM_PHASE_TIMERS=1).
PHASE_TIMERS = bool(SKLSTM_TIMERS)

# Seconds per thread (its OpenMP number, modulo TIMER_SLOTS) and phase. Off
# unless a benchmark turns them on: then each phase reads the clock twice.
cdef bint _timing = False
cdef double _seconds[TIMER_SLOTS][N_PHASES]


cdef inline double _tick() noexcept nogil:
    return sklstm_now() if SKLSTM_TIMERS and _timing else 0.0


cdef inline void _tock(int phase, double start) noexcept nogil:
    if SKLSTM_TIMERS and _timing:
        _seconds[threadid() % TIMER_SLOTS][phase] += sklstm_now() - start


def time_phases(bint on):
    """Turn the phase timers on or off, and zero them.

    Raises
    ------
    RuntimeError
        If turned on in a build without them (:data:`PHASE_TIMERS`).
    """
    global _timing
    if on and not SKLSTM_TIMERS:
        raise RuntimeError(
            "This build of sklstm has no phase timers: rebuild it with "
            "SKLSTM_PHASE_TIMERS=1 in the environment, e.g. "
            "`SKLSTM_PHASE_TIMERS=1 pip install -e .`.")
    _timing = on
    memset(_seconds, 0, sizeof(_seconds))


def phase_seconds():
    """Seconds spent in each of :data:`PHASES`, summed over the threads,
    since :func:`time_phases` last zeroed them."""
    return {
        name: sum(_seconds[slot][phase] for slot in range(TIMER_SLOTS))
        for phase, name in enumerate(PHASES)
    }
