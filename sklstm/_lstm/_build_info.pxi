# How this extension was built, and the boundary constants of
# ``_engine_constants.h`` for Python. Included by ``_fast_lstm.pyx``.

cdef extern from "_gate_loops.h":
    const char *SKLSTM_C_PATH
    const char *SKLSTM_COMPILER
    int SKLSTM_HAS_CLONES


#: Gate blocks of a layer, in PyTorch's order (``_gates.N_GATES``).
N_GATES = SKLSTM_N_GATES
#: Rows of the GEMM's register block: predict's chunks are multiples of it.
GEMM_ROWS = SKLSTM_GEMM_ROWS
#: Gate units per panel of packed weights, float32 and float64.
PANEL_FLOAT = SKLSTM_NB_FLOAT
PANEL_DOUBLE = SKLSTM_NB_DOUBLE
#: Rows per call of the weight-gradient kernel.
WGRAD_ROWS = SKLSTM_WGRAD_ROWS
#: Values predict keeps per row and hidden unit of a layer (gates, two cell
#: states by turns, the tanh of the cell state, hidden state).
PREDICT_VALUES = SKLSTM_PREDICT_VALUES


def build_info():
    """How this extension was built, for :func:`sklstm.show_versions`.

    Returns
    -------
    info : dict
        ``compiler`` (name and version, from its own macros), ``openmp``
        (whether the engine runs threads), ``openmp_version`` (the
        ``_OPENMP`` date, 0 in a serial build), ``c_path`` (``"vector"`` or
        ``"plain C"``, see ``_gate_loops.h``), ``target_clones`` (gate loops
        also compiled for x86-64-v3/v4), ``isa`` (the instruction set the
        kernels run on this CPU, one of :data:`ISA_NAMES`: the best this
        build has and the CPU supports, capped by ``SKLSTM_MAX_ISA``) and
        ``fma`` (whether that set has fused multiply-adds).
    """
    return {
        "compiler": SKLSTM_COMPILER.decode().strip(),
        "openmp": bool(SKLSTM_OPENMP),
        "openmp_version": SKLSTM_OPENMP_VERSION,
        "c_path": SKLSTM_C_PATH.decode(),
        "target_clones": bool(SKLSTM_HAS_CLONES),
        "isa": ISA_NAMES[_ISA],
        "fma": _ISA > 0,
    }
