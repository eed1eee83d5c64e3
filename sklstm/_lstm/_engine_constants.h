/*
 * The facts at the boundary of the compiled engine, stated once: the C of
 * ``_gate_loops.h``, ``_gemm.h`` and ``_wgrad.h`` reads them, ``_fast_lstm.pyx``
 * reads them through ``cdef extern`` and re-exports them to Python
 * (``_fast_lstm.N_GATES``, ...), where ``_engines.py`` and the tests read
 * them.
 */
#ifndef SKLSTM_ENGINE_CONSTANTS_H
#define SKLSTM_ENGINE_CONSTANTS_H

#include <stddef.h>

/* Gate blocks of a layer's pre-activations, in PyTorch's order: input,
 * forget, cell candidate, output (``_gates.py`` names them). */
#define SKLSTM_N_GATES 4

/* Panel widths of the packed weights (columns of w^T per panel): two vectors
 * of 32 bytes. The packing, its size and the GEMM all read these. */
#define SKLSTM_NB_FLOAT 16
#define SKLSTM_NB_DOUBLE 8

/* Rows of the GEMM's register block (``_gemm.h``): a thread's block of rows
 * and predict's chunks are best multiples of it. */
#define SKLSTM_GEMM_ROWS 6

/* Rows per call of the weight-gradient kernel (``_wgrad.h``), and the work
 * space one call needs: a chunk of rows of [a | a2] (na + na2 columns),
 * packed, and of a panel of b (NB columns). */
#define SKLSTM_WGRAD_ROWS 256
#define SKLSTM_WGRAD_WORK(NA, NA2, NB) (SKLSTM_WGRAD_ROWS * ((NA) + (NA2) + (NB)))

/* Predict's state of one layer, per row and hidden unit: the gates
 * (SKLSTM_N_GATES values), then two cell states (the previous step's and
 * the new one, by turns), the tanh of the cell state and the hidden state,
 * each block ``hidden * chunk`` values long, in this order. */
#define SKLSTM_PREDICT_VALUES (SKLSTM_N_GATES + 4)

/* The instruction sets the kernels have builds for, by level, best last
 * (``_gate_loops.h`` chooses one at run time; ``_fast_lstm.ISA_NAMES``
 * names them). */
#define SKLSTM_ISA_BASE 0   /* the target's baseline (SSE2 on x86-64) */
#define SKLSTM_ISA_FMA 1    /* AVX2 with fused multiply-adds */
#define SKLSTM_ISA_AVX512 2 /* AVX-512F */


#endif
