/*
 * The small GEMM of the compiled engine (``_fast_lstm.pyx``): the weights
 * packed in panels, the products of an LSTM step per row block, and the
 * choice at run time of its fused multiply-add build. The portability rules
 * are those of ``_gate_loops.h``.
 */
#ifndef SKLSTM_GEMM_H
#define SKLSTM_GEMM_H

#include "_gate_loops.h"

/* Pack w (n x k; element (j, p) at w[j * sj + p * sp], so that a transposed
 * matrix packs without a copy) for the GEMM below: panels of NB columns of
 * w^T, each contiguous (k x NB), the last one padded with zeros.
 * ``sklstm_packed_size_*`` is the number of values it writes. */
#define SKLSTM_PACK(NAME, SIZE_NAME, T, NB)                                     \
    static size_t SIZE_NAME(size_t n, size_t k)                                 \
    {                                                                           \
        return (n + NB - 1) / NB * NB * k;                                      \
    }                                                                           \
    static void NAME(size_t n, size_t k, const T *SKLSTM_R w, size_t sj,       \
                     size_t sp, T *SKLSTM_R wp)                                 \
    {                                                                           \
        for (size_t j = 0; j < n; j += NB)                                      \
            for (size_t p = 0; p < k; p++)                                      \
                for (size_t q = 0; q < NB; q++)                                 \
                    wp[j * k + p * NB + q] =                                    \
                        j + q < n ? w[(j + q) * sj + p * sp] : 0;               \
    }
SKLSTM_PACK(sklstm_pack_float, sklstm_packed_size_float, float, SKLSTM_NB_FLOAT)
SKLSTM_PACK(sklstm_pack_double, sklstm_packed_size_double, double, SKLSTM_NB_DOUBLE)

/* A small GEMM of two sources, c (rows x n) = [c +] a (rows x k) @ w^T
 * + a2 (rows x k2) @ w2^T, for weights w (n x k) and w2 (n x k2) packed by
 * sklstm_pack_* (k2 = 0: one source). An LSTM step's gates are the inputs
 * times W_ih^T plus the previous hidden state times W_hh^T: one pass, the
 * sums kept in registers between the two. Unlike a BLAS, it gives every row
 * the same sequence of operations wherever the row sits in the block (a sum
 * over k, then over k2, in order, one multiply and one add at a time, from
 * 0 or from c), so a row's prediction does not depend on the other rows of
 * the call; and the sum is the one two separate calls (the second
 * accumulating) would give, bit for bit. */
#define SKLSTM_GEMM_ARGS(T)                                                     \
    size_t rows, size_t n, size_t k, const T *SKLSTM_R a, size_t lda,           \
    const T *SKLSTM_R wp, size_t k2, const T *SKLSTM_R a2, size_t lda2,         \
    const T *SKLSTM_R wp2, int accumulate, T *SKLSTM_R c, size_t ldc
#define SKLSTM_GEMM_CALL rows, n, k, a, lda, wp, k2, a2, lda2, wp2, accumulate, c, ldc

/* The plain C GEMM: per row and panel, NB sums in a local array, which
 * compilers keep in vector registers where they can. The last panel's
 * columns beyond n are computed on the zero padding and not stored. */
#define SKLSTM_GEMM_PLAIN(NAME, T, NB)                                          \
    static void NAME(SKLSTM_GEMM_ARGS(T))                                       \
    {                                                                           \
        for (size_t j = 0; j < n; j += NB) {                                    \
            const T *SKLSTM_R panel = wp + j * k;                               \
            const T *SKLSTM_R panel2 = wp2 + j * k2;                            \
            size_t width = n - j < NB ? n - j : NB;                             \
            for (size_t r = 0; r < rows; r++) {                                 \
                T sum[NB];                                                      \
                const T *SKLSTM_R row = a + r * lda;                            \
                const T *SKLSTM_R row2 = a2 + r * lda2;                         \
                T *SKLSTM_R out = c + r * ldc + j;                              \
                for (size_t q = 0; q < NB; q++)                                 \
                    sum[q] = accumulate && q < width ? out[q] : 0;              \
                for (size_t p = 0; p < k; p++) {                                \
                    T x = row[p];                                               \
                    for (size_t q = 0; q < NB; q++)                             \
                        sum[q] = sum[q] + x * panel[p * NB + q];                \
                }                                                               \
                for (size_t p = 0; p < k2; p++) {                               \
                    T x = row2[p];                                              \
                    for (size_t q = 0; q < NB; q++)                             \
                        sum[q] = sum[q] + x * panel2[p * NB + q];               \
                }                                                               \
                for (size_t q = 0; q < width; q++)                              \
                    out[q] = sum[q];                                            \
            }                                                                   \
        }                                                                       \
    }
#ifndef SKLSTM_HAVE_VECTOR_EXT
SKLSTM_GEMM_PLAIN(sklstm_gemm_plain_float, float, SKLSTM_NB_FLOAT)
SKLSTM_GEMM_PLAIN(sklstm_gemm_plain_double, double, SKLSTM_NB_DOUBLE)
#define SKLSTM_GEMM_BASE(T) sklstm_gemm_plain_##T
#else
/* The vector GEMM: blocks of 6 rows x 2 vectors keep their sums in
 * registers; the last rows go in blocks of 4, 2 and 1, and the last,
 * partial panel through a scalar loop, with the same operations per
 * element. */
typedef float sklstm_vf __attribute__((vector_size(32), aligned(4)));
typedef double sklstm_vd __attribute__((vector_size(32), aligned(8)));

/* The products of one source (A, LDA, PANEL, K) added into s0, s1. */
#define SKLSTM_GEMM_SOURCE(V, VMULADD, SPLAT, R, A, LDA, PANEL, K)              \
    for (size_t p = 0; p < (K); p++) {                                          \
        V w0 = *(const V *)((PANEL) + p * nb);                                  \
        V w1 = *(const V *)((PANEL) + p * nb + lanes);                          \
        for (int i = 0; i < R; i++) {                                           \
            V x = SPLAT((A)[(r + i) * (LDA) + p]);                              \
            s0[i] = VMULADD(x, w0, s0[i]);                                      \
            s1[i] = VMULADD(x, w1, s1[i]);                                      \
        }                                                                       \
    }

/* One block of R rows by the 2 vectors of a panel. */
#define SKLSTM_GEMM_BLOCK(T, V, VMULADD, SPLAT, R)                              \
    {                                                                           \
        V s0[R], s1[R];                                                         \
        for (int i = 0; i < R; i++) {                                           \
            if (accumulate) {                                                   \
                s0[i] = *(const V *)(c + (r + i) * ldc + j);                    \
                s1[i] = *(const V *)(c + (r + i) * ldc + j + lanes);            \
            } else {                                                            \
                s0[i] = (V){0};                                                 \
                s1[i] = (V){0};                                                 \
            }                                                                   \
        }                                                                       \
        SKLSTM_GEMM_SOURCE(V, VMULADD, SPLAT, R, a, lda, panel, k)              \
        SKLSTM_GEMM_SOURCE(V, VMULADD, SPLAT, R, a2, lda2, panel2, k2)          \
        for (int i = 0; i < R; i++) {                                           \
            *(V *)(c + (r + i) * ldc + j) = s0[i];                              \
            *(V *)(c + (r + i) * ldc + j + lanes) = s1[i];                      \
        }                                                                       \
    }

#define SKLSTM_GEMM_BODY(T, V, MULADD, VMULADD, SPLAT)                          \
    const size_t lanes = sizeof(V) / sizeof(T), nb = 2 * lanes;                 \
    /* Column panels outside, so that a panel (contiguous) stays in L1       \
     * cache while every block of rows passes over it. */                       \
    for (size_t j = 0; j < n; j += nb) {                                        \
        const T *SKLSTM_R panel = wp + j * k;                                   \
        const T *SKLSTM_R panel2 = wp2 + j * k2;                                \
        if (n - j >= nb) {                                                      \
            size_t r = 0;                                                       \
            for (; r + SKLSTM_GEMM_ROWS <= rows; r += SKLSTM_GEMM_ROWS)         \
                SKLSTM_GEMM_BLOCK(T, V, VMULADD, SPLAT, SKLSTM_GEMM_ROWS)       \
            for (; r + 4 <= rows; r += 4)                                       \
                SKLSTM_GEMM_BLOCK(T, V, VMULADD, SPLAT, 4)                      \
            for (; r + 2 <= rows; r += 2)                                       \
                SKLSTM_GEMM_BLOCK(T, V, VMULADD, SPLAT, 2)                      \
            for (; r < rows; r++)                                               \
                SKLSTM_GEMM_BLOCK(T, V, VMULADD, SPLAT, 1)                      \
        } else {                                                                \
            for (size_t r = 0; r < rows; r++)                                   \
                for (size_t q = 0; q < n - j; q++) {                            \
                    T total = accumulate ? c[r * ldc + j + q] : 0;              \
                    for (size_t p = 0; p < k; p++)                              \
                        total = MULADD(a[r * lda + p], panel[p * nb + q], total); \
                    for (size_t p = 0; p < k2; p++)                             \
                        total = MULADD(a2[r * lda2 + p], panel2[p * nb + q], total); \
                    c[r * ldc + j + q] = total;                                 \
                }                                                               \
        }                                                                       \
    }

#define SKLSTM_MULADD(x, y, z) ((x) * (y) + (z))
#define SKLSTM_SPLAT_F(v) ((sklstm_vf){v, v, v, v, v, v, v, v})
#define SKLSTM_SPLAT_D(v) ((sklstm_vd){v, v, v, v})
static void sklstm_gemm_vector_float(SKLSTM_GEMM_ARGS(float))
{ SKLSTM_GEMM_BODY(float, sklstm_vf, SKLSTM_MULADD, SKLSTM_MULADD, SKLSTM_SPLAT_F) }
static void sklstm_gemm_vector_double(SKLSTM_GEMM_ARGS(double))
{ SKLSTM_GEMM_BODY(double, sklstm_vd, SKLSTM_MULADD, SKLSTM_MULADD, SKLSTM_SPLAT_D) }
#define SKLSTM_GEMM_BASE(T) sklstm_gemm_vector_##T
#endif

#ifdef SKLSTM_HAVE_FMA_DISPATCH
#include <immintrin.h>
#define SKLSTM_VFMA_F(x, y, z) ((sklstm_vf)_mm256_fmadd_ps((__m256)(x), (__m256)(y), (__m256)(z)))
#define SKLSTM_VFMA_D(x, y, z) ((sklstm_vd)_mm256_fmadd_pd((__m256d)(x), (__m256d)(y), (__m256d)(z)))
__attribute__((target("avx2,fma"))) static void
sklstm_gemm_fma_float(SKLSTM_GEMM_ARGS(float))
{ SKLSTM_GEMM_BODY(float, sklstm_vf, fmaf, SKLSTM_VFMA_F, SKLSTM_SPLAT_F) }
__attribute__((target("avx2,fma"))) static void
sklstm_gemm_fma_double(SKLSTM_GEMM_ARGS(double))
{ SKLSTM_GEMM_BODY(double, sklstm_vd, fma, SKLSTM_VFMA_D, SKLSTM_SPLAT_D) }
#endif

/* Whether this build has an FMA GEMM and this CPU runs it: read once when
 * the module loads. */
static int sklstm_cpu_has_fma(void)
{
#ifdef SKLSTM_HAVE_FMA_DISPATCH
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* sklstm_NAME_T, the kernel of the build this CPU runs best (``use_fma``
 * from sklstm_cpu_has_fma): sklstm_NAME_fma_T or BASE(T), with the
 * arguments ARGS(T) (passed on as CALL). */
#ifdef SKLSTM_HAVE_FMA_DISPATCH
#define SKLSTM_DISPATCH(NAME, T, ARGS, CALL, BASE)                              \
    static void sklstm_##NAME##_##T(int use_fma, ARGS(T))                       \
    {                                                                           \
        if (use_fma)                                                            \
            sklstm_##NAME##_fma_##T(CALL);                                      \
        else                                                                    \
            BASE(T)(CALL);                                                      \
    }
#else
#define SKLSTM_DISPATCH(NAME, T, ARGS, CALL, BASE)                              \
    static void sklstm_##NAME##_##T(int use_fma, ARGS(T))                       \
    {                                                                           \
        (void)use_fma;                                                          \
        BASE(T)(CALL);                                                          \
    }
#endif
SKLSTM_DISPATCH(gemm, float, SKLSTM_GEMM_ARGS, SKLSTM_GEMM_CALL, SKLSTM_GEMM_BASE)
SKLSTM_DISPATCH(gemm, double, SKLSTM_GEMM_ARGS, SKLSTM_GEMM_CALL, SKLSTM_GEMM_BASE)

#endif
