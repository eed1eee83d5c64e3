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
/* The vector GEMM, one body for each vector width (16 bytes on the
 * baseline, which SSE2 and NEON hold in registers; 32 with AVX2; 64 with
 * AVX-512): blocks of 6 rows x 2 vectors keep their sums in registers; the
 * last rows go in blocks of 4, 2 and 1, the last columns in blocks of one
 * vector, then through a scalar loop, with the same operations per element.
 * The packed panels are NB columns wide whatever the vector: a vector of
 * columns [jj, jj + lanes) lies at SKLSTM_PANEL_AT, so every width reads
 * the same packing, and widths with the same multiply-adds give the same
 * bits. */
typedef float sklstm_vf __attribute__((vector_size(32), aligned(4)));
typedef double sklstm_vd __attribute__((vector_size(32), aligned(8)));

/* Row p of the columns from jj (within one panel) of weights packed by
 * sklstm_pack_* (k rows, panels of NB columns). */
#define SKLSTM_PANEL_AT(W, K, NB, JJ, P) \
    ((W) + (JJ) / (NB) * (NB) * (K) + (P) * (NB) + (JJ) % (NB))

/* The products of one source (A, LDA, weights W, K) added into s. */
#define SKLSTM_GEMM_SOURCE(V, VMULADD, SPLAT, NB, R, P, A, LDA, W, K)           \
    for (size_t p = 0; p < (K); p++) {                                          \
        V w[P];                                                                 \
        for (int u = 0; u < P; u++)                                             \
            w[u] = *(const V *)SKLSTM_PANEL_AT(W, K, NB, j + u * lanes, p);     \
        for (int i = 0; i < R; i++) {                                           \
            V x = SPLAT((A)[(r + i) * (LDA) + p]);                              \
            for (int u = 0; u < P; u++)                                         \
                s[i][u] = VMULADD(x, w[u], s[i][u]);                            \
        }                                                                       \
    }

/* One block of R rows by P vectors of columns, from column j. */
#define SKLSTM_GEMM_BLOCK(V, VMULADD, SPLAT, NB, R, P)                          \
    {                                                                           \
        V s[R][P];                                                              \
        for (int i = 0; i < R; i++)                                             \
            for (int u = 0; u < P; u++)                                         \
                s[i][u] = accumulate                                            \
                    ? *(const V *)(c + (r + i) * ldc + j + u * lanes)           \
                    : (V){0};                                                   \
        SKLSTM_GEMM_SOURCE(V, VMULADD, SPLAT, NB, R, P, a, lda, wp, k)          \
        SKLSTM_GEMM_SOURCE(V, VMULADD, SPLAT, NB, R, P, a2, lda2, wp2, k2)      \
        for (int i = 0; i < R; i++)                                             \
            for (int u = 0; u < P; u++)                                         \
                *(V *)(c + (r + i) * ldc + j + u * lanes) = s[i][u];            \
    }

/* Every row, for the P vectors of columns from column j. */
#define SKLSTM_GEMM_ROWS_OF(V, VMULADD, SPLAT, NB, P)                           \
    {                                                                           \
        size_t r = 0;                                                           \
        for (; r + SKLSTM_GEMM_ROWS <= rows; r += SKLSTM_GEMM_ROWS)             \
            SKLSTM_GEMM_BLOCK(V, VMULADD, SPLAT, NB, SKLSTM_GEMM_ROWS, P)       \
        for (; r + 4 <= rows; r += 4)                                           \
            SKLSTM_GEMM_BLOCK(V, VMULADD, SPLAT, NB, 4, P)                      \
        for (; r + 2 <= rows; r += 2)                                           \
            SKLSTM_GEMM_BLOCK(V, VMULADD, SPLAT, NB, 2, P)                      \
        for (; r < rows; r++)                                                   \
            SKLSTM_GEMM_BLOCK(V, VMULADD, SPLAT, NB, 1, P)                      \
    }

/* Column blocks outside, so that their weights (contiguous within a panel)
 * stay in L1 cache while every block of rows passes over them. */
#define SKLSTM_GEMM_BODY(T, V, MULADD, VMULADD, SPLAT, NB)                      \
    const size_t lanes = sizeof(V) / sizeof(T);                                 \
    size_t j = 0;                                                               \
    for (; j + 2 * lanes <= n; j += 2 * lanes)                                  \
        SKLSTM_GEMM_ROWS_OF(V, VMULADD, SPLAT, NB, 2)                           \
    for (; j + lanes <= n; j += lanes)                                          \
        SKLSTM_GEMM_ROWS_OF(V, VMULADD, SPLAT, NB, 1)                           \
    for (size_t r = 0; r < rows; r++)                                           \
        for (size_t q = j; q < n; q++) {                                        \
            T total = accumulate ? c[r * ldc + q] : 0;                          \
            for (size_t p = 0; p < k; p++)                                      \
                total = MULADD(a[r * lda + p], *SKLSTM_PANEL_AT(wp, k, NB, q, p), total); \
            for (size_t p = 0; p < k2; p++)                                     \
                total = MULADD(a2[r * lda2 + p], *SKLSTM_PANEL_AT(wp2, k2, NB, q, p), total); \
            c[r * ldc + q] = total;                                             \
        }

#define SKLSTM_SPLAT_F(v) ((sklstm_vf){v, v, v, v, v, v, v, v})
#define SKLSTM_SPLAT_D(v) ((sklstm_vd){v, v, v, v})
typedef float sklstm_nf __attribute__((vector_size(16), aligned(4)));
typedef double sklstm_nd __attribute__((vector_size(16), aligned(8)));
#define SKLSTM_NSPLAT_F(v) ((sklstm_nf){v, v, v, v})
#define SKLSTM_NSPLAT_D(v) ((sklstm_nd){v, v})
static void sklstm_gemm_vector_float(SKLSTM_GEMM_ARGS(float))
{
    SKLSTM_GEMM_BODY(float, sklstm_nf, SKLSTM_MULADD, SKLSTM_MULADD, SKLSTM_NSPLAT_F,
                     SKLSTM_NB_FLOAT)
}
static void sklstm_gemm_vector_double(SKLSTM_GEMM_ARGS(double))
{
    SKLSTM_GEMM_BODY(double, sklstm_nd, SKLSTM_MULADD, SKLSTM_MULADD, SKLSTM_NSPLAT_D,
                     SKLSTM_NB_DOUBLE)
}
#define SKLSTM_GEMM_BASE(T) sklstm_gemm_vector_##T
#endif

#ifdef SKLSTM_HAVE_FMA_DISPATCH
#include <immintrin.h>
#define SKLSTM_VFMA_F(x, y, z) ((sklstm_vf)_mm256_fmadd_ps((__m256)(x), (__m256)(y), (__m256)(z)))
#define SKLSTM_VFMA_D(x, y, z) ((sklstm_vd)_mm256_fmadd_pd((__m256d)(x), (__m256d)(y), (__m256d)(z)))
SKLSTM_FMA_TARGET static void sklstm_gemm_fma_float(SKLSTM_GEMM_ARGS(float))
{
    SKLSTM_GEMM_BODY(float, sklstm_vf, fmaf, SKLSTM_VFMA_F, SKLSTM_SPLAT_F,
                     SKLSTM_NB_FLOAT)
}
SKLSTM_FMA_TARGET static void sklstm_gemm_fma_double(SKLSTM_GEMM_ARGS(double))
{
    SKLSTM_GEMM_BODY(double, sklstm_vd, fma, SKLSTM_VFMA_D, SKLSTM_SPLAT_D,
                     SKLSTM_NB_DOUBLE)
}
#endif

#ifdef SKLSTM_HAVE_AVX512_DISPATCH
/* 64-byte vectors: one a panel. */
typedef float sklstm_wf __attribute__((vector_size(64), aligned(4)));
typedef double sklstm_wd __attribute__((vector_size(64), aligned(8)));
#define SKLSTM_WFMA_F(x, y, z) ((sklstm_wf)_mm512_fmadd_ps((__m512)(x), (__m512)(y), (__m512)(z)))
#define SKLSTM_WFMA_D(x, y, z) ((sklstm_wd)_mm512_fmadd_pd((__m512d)(x), (__m512d)(y), (__m512d)(z)))
#define SKLSTM_WSPLAT_F(v) ((sklstm_wf){v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v})
#define SKLSTM_WSPLAT_D(v) ((sklstm_wd){v, v, v, v, v, v, v, v})
SKLSTM_AVX512_TARGET static void sklstm_gemm_avx512_float(SKLSTM_GEMM_ARGS(float))
{
    SKLSTM_GEMM_BODY(float, sklstm_wf, fmaf, SKLSTM_WFMA_F, SKLSTM_WSPLAT_F,
                     SKLSTM_NB_FLOAT)
}
SKLSTM_AVX512_TARGET static void sklstm_gemm_avx512_double(SKLSTM_GEMM_ARGS(double))
{
    SKLSTM_GEMM_BODY(double, sklstm_wd, fma, SKLSTM_WFMA_D, SKLSTM_WSPLAT_D,
                     SKLSTM_NB_DOUBLE)
}
#endif

SKLSTM_DISPATCH(gemm, float, SKLSTM_GEMM_ARGS, SKLSTM_GEMM_CALL, SKLSTM_GEMM_BASE)
SKLSTM_DISPATCH(gemm, double, SKLSTM_GEMM_ARGS, SKLSTM_GEMM_CALL, SKLSTM_GEMM_BASE)

#endif
