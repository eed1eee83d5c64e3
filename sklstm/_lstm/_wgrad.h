/*
 * The weight gradients of the compiled engine (``_fast_lstm.pyx``).
 *
 * After the recurrence, the gradients of W_ih, W_hh and the bias are sums
 * over every row p (step and sample) of the batch: for gate unit j,
 * grad_ih[j, q] = sum_p x[p, q] dz[p, j], grad_hh[j, q] = sum_p h[p, q]
 * dz[p, j] (h the previous hidden state) and grad_bias[j] = sum_p dz[p, j].
 * One product gives them all, c = [a | a2 | 1]^T @ b with a = x, a2 = h and
 * b = dz: c has a row per column of a, then of a2, then (``ones``) one for
 * the bias, and a column per gate unit. c is stored panel after panel (NB
 * gate units): the panel of gate units [j, j + NB) at
 * c + j * rows, its row q at + q * NB, so that a block's sums are near each
 * other whatever the number of gate units; the caller transposes it.
 *
 * - The caller passes the rows in fixed chunks (SKLSTM_WGRAD_ROWS); each
 *   call adds one chunk into c, for the gate units j0 <= j < j1 (j0 a
 *   multiple of NB).
 * - Each call packs the chunk of [a | a2] into ``work``, in blocks of 6
 *   columns (4, 2 and 1 for the last ones), a block's values row after row.
 * - Per panel, each block keeps its sums (6 columns by the panel's vectors:
 *   2 of 32 bytes, 4 of 16 on the baseline) in registers over the chunk's
 *   rows. The first block reads the chunk of b
 *   where it is, copies it contiguous into ``work`` for the other blocks to
 *   read from L1, and takes the bias's sums on the way. Gate units past the
 *   last full panel go through a scalar loop with the same operations.
 *
 * Every element of c is one sum over the rows in order, 0 + a[0, q] b[0, j]
 * + a[1, q] b[1, j] + ..., one multiply and one add at a time (a fused
 * multiply-add on the FMA path; the bias a plain sum): it depends neither on
 * the chunks nor on how the gate units are shared out among threads, so the
 * model is the same on any number of threads, and the plain path gives the
 * bits of the vector path without FMA. */
#ifndef SKLSTM_WGRAD_H
#define SKLSTM_WGRAD_H

#include "_gemm.h"

/* One chunk of kc rows: a (kc x na, row stride lda), a2 (kc x na2, lda2),
 * b (kc x j1 at least, ldb); ``first``: c from 0, else added to; ``work``:
 * kc * (na + na2 + NB) values; c: (na + na2 + ones) rows of every panel up
 * to j1's. */
#define SKLSTM_WGRAD_ARGS(T)                                                    \
    size_t kc, size_t na, const T *SKLSTM_R a, size_t lda, size_t na2,          \
    const T *SKLSTM_R a2, size_t lda2, int ones, const T *SKLSTM_R b,           \
    size_t ldb, size_t j0, size_t j1, int first, T *SKLSTM_R work,              \
    T *SKLSTM_R c
#define SKLSTM_WGRAD_CALL                                                       \
    kc, na, a, lda, na2, a2, lda2, ones, b, ldb, j0, j1, first, work, c

/* The rows of c for the gate units [j, j1), panel by panel of NB, one
 * column of a, a2 or the ones at a time: every gate unit on the plain path,
 * those past the last full panel on the vector path. */
#define SKLSTM_WGRAD_SCALAR_SUMS(T, W, TERM)                                    \
    for (size_t p = 0; p < kc; p++) {                                           \
        const T *SKLSTM_R row = b + p * ldb + j;                                \
        T x = src == NULL ? 1 : src[p * ld];                                    \
        (void)x;                                                                \
        for (size_t u = 0; u < (W); u++)                                        \
            sum[u] = TERM;                                                      \
    }
#define SKLSTM_WGRAD_SCALAR(T, MULADD, NB)                                      \
    for (; j < j1; j += NB) {                                                   \
        size_t width = j1 - j < NB ? j1 - j : NB;                               \
        for (size_t q = 0; q < na + na2 + (ones != 0); q++) {                   \
            const T *src = NULL;                                                \
            size_t ld = 0;                                                      \
            if (q < na) {                                                       \
                src = a + q;                                                    \
                ld = lda;                                                       \
            } else if (q < na + na2) {                                          \
                src = a2 + (q - na);                                            \
                ld = lda2;                                                      \
            }                                                                   \
            T sum[NB];                                                          \
            T *SKLSTM_R out = c + j * (na + na2 + (ones != 0)) + q * NB;        \
            for (size_t u = 0; u < NB; u++)                                     \
                sum[u] = first || u >= width ? 0 : out[u];                      \
            if (src == NULL)                                                    \
                SKLSTM_WGRAD_SCALAR_SUMS(T, width, sum[u] + row[u])             \
            else if (width == NB)                                               \
                SKLSTM_WGRAD_SCALAR_SUMS(T, NB, MULADD(x, row[u], sum[u]))      \
            else                                                                \
                SKLSTM_WGRAD_SCALAR_SUMS(T, width, MULADD(x, row[u], sum[u]))   \
            for (size_t u = 0; u < width; u++)                                  \
                out[u] = sum[u];                                                \
        }                                                                       \
    }

#ifndef SKLSTM_HAVE_VECTOR_EXT
#define SKLSTM_PLAIN_MULADD(x, y, z) ((x) * (y) + (z))
static void sklstm_wgrad_plain_float(SKLSTM_WGRAD_ARGS(float))
{
    size_t j = j0;
    (void)work;
    SKLSTM_WGRAD_SCALAR(float, SKLSTM_PLAIN_MULADD, SKLSTM_NB_FLOAT)
}
static void sklstm_wgrad_plain_double(SKLSTM_WGRAD_ARGS(double))
{
    size_t j = j0;
    (void)work;
    SKLSTM_WGRAD_SCALAR(double, SKLSTM_PLAIN_MULADD, SKLSTM_NB_DOUBLE)
}
#define SKLSTM_WGRAD_BASE(T) sklstm_wgrad_plain_##T
#else
/* The vector kernel's blocks of columns of [a | a2] (m columns): the block
 * that starts at column q0 has this many. The first block of a panel also
 * copies b and sums the bias, so it takes 4 columns (its sums and the
 * bias's fit in the 16 vector registers); the others 6, with 4, 2 and 1
 * for the last ones, and 4 + 4 rather than 6 + 2 (a block of 2 columns
 * waits on its additions). */
static inline size_t sklstm_wgrad_block(size_t q0, size_t m)
{
    size_t left = m - q0;
    if (q0 == 0)
        return left >= 4 ? 4 : left >= 2 ? 2 : 1;
    if (left == 8)
        return 4;
    return left >= 6 ? 6 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
}

/* Pack kc rows of [a | a2] (m = na + na2 columns) for the vector kernel:
 * the block of R columns that starts at column q0 at pa + q0 * kc, row p's
 * R values at [p * R, p * R + R). */
#define SKLSTM_WGRAD_PACK_BLOCK(R)                                              \
    for (size_t p = 0; p < kc; p++)                                             \
        for (size_t i = 0; i < (R); i++)                                        \
            dst[p * (R) + i] = src[p * ld + i];
#define SKLSTM_WGRAD_PACK(NAME, T)                                              \
    static void NAME(size_t kc, size_t na, const T *SKLSTM_R a, size_t lda,     \
                     size_t na2, const T *SKLSTM_R a2, size_t lda2,             \
                     T *SKLSTM_R pa)                                            \
    {                                                                           \
        size_t m = na + na2, R;                                                 \
        for (size_t q0 = 0; q0 < m; q0 += R) {                                  \
            R = sklstm_wgrad_block(q0, m);                                      \
            T *SKLSTM_R dst = pa + q0 * kc;                                     \
            if (q0 + R <= na || q0 >= na) {                                     \
                const T *SKLSTM_R src = q0 < na ? a + q0 : a2 + (q0 - na);      \
                size_t ld = q0 < na ? lda : lda2;                               \
                if (R == 6)                                                     \
                    SKLSTM_WGRAD_PACK_BLOCK(6)                                  \
                else if (R == 4)                                                \
                    SKLSTM_WGRAD_PACK_BLOCK(4)                                  \
                else if (R == 2)                                                \
                    SKLSTM_WGRAD_PACK_BLOCK(2)                                  \
                else                                                            \
                    SKLSTM_WGRAD_PACK_BLOCK(1)                                  \
            } else { /* a block across a and a2 */                              \
                for (size_t p = 0; p < kc; p++)                                 \
                    for (size_t i = 0; i < R; i++)                              \
                        dst[p * R + i] = q0 + i < na                            \
                            ? a[p * lda + q0 + i]                               \
                            : a2[p * lda2 + q0 + i - na];                       \
            }                                                                   \
        }                                                                       \
    }
SKLSTM_WGRAD_PACK(sklstm_wgrad_pack_float, float)
SKLSTM_WGRAD_PACK(sklstm_wgrad_pack_double, double)

/* One block of R columns (from q0) of packed [a | a2] by the panel of b,
 * the panel's NB gate units as P vectors of ``lanes``. */
#define SKLSTM_WGRAD_VBLOCK(T, V, VMULADD, SPLAT, NB, P, R, COPY)               \
    {                                                                           \
        const T *SKLSTM_R pk = pa + q0 * kc;                                    \
        V s[R][P];                                                              \
        for (int i = 0; i < R; i++)                                             \
            for (int u = 0; u < P; u++)                                         \
                s[i][u] = first ? (V){0}                                        \
                                : *(const V *)(cp + (q0 + i) * NB + u * lanes); \
        for (size_t p = 0; p < kc; p++) {                                       \
            V bv[P];                                                            \
            for (int u = 0; u < P; u++) {                                       \
                if (COPY) {                                                     \
                    bv[u] = *(const V *)(b + p * ldb + j + u * lanes);          \
                    *(V *)(pb + p * NB + u * lanes) = bv[u];                    \
                    t[u] = t[u] + bv[u];                                        \
                } else {                                                        \
                    bv[u] = *(const V *)(pb + p * NB + u * lanes);              \
                }                                                               \
            }                                                                   \
            for (int i = 0; i < R; i++) {                                       \
                V x = SPLAT(pk[p * R + i]);                                     \
                for (int u = 0; u < P; u++)                                     \
                    s[i][u] = VMULADD(x, bv[u], s[i][u]);                       \
            }                                                                   \
        }                                                                       \
        for (int i = 0; i < R; i++)                                             \
            for (int u = 0; u < P; u++)                                         \
                *(V *)(cp + (q0 + i) * NB + u * lanes) = s[i][u];               \
    }

/* Per panel: the first block also copies the chunk of b into pb (where
 * the other blocks read it, from L1) and takes the bias's sums on the
 * way. */
#define SKLSTM_WGRAD_VBODY(T, V, MULADD, VMULADD, SPLAT, NB, PACK)              \
    enum { lanes = sizeof(V) / sizeof(T), P = NB / lanes };                     \
    const size_t m = na + na2;                                                  \
    T *SKLSTM_R pa = work, *SKLSTM_R pb = work + m * kc;                        \
    size_t j = j0;                                                              \
    PACK(kc, na, a, lda, na2, a2, lda2, pa);                                    \
    for (; j + NB <= j1; j += NB) {                                             \
        V t[P];                                                                 \
        T *SKLSTM_R cp = c + j * (m + (ones != 0));                             \
        T *SKLSTM_R bias = cp + m * NB;                                         \
        for (int u = 0; u < P; u++)                                             \
            t[u] = ones && !first ? *(const V *)(bias + u * lanes) : (V){0};    \
        size_t q0 = 0, R = m ? sklstm_wgrad_block(0, m) : 0;                    \
        if (R == 4)                                                             \
            SKLSTM_WGRAD_VBLOCK(T, V, VMULADD, SPLAT, NB, P, 4, 1)              \
        else if (R == 2)                                                        \
            SKLSTM_WGRAD_VBLOCK(T, V, VMULADD, SPLAT, NB, P, 2, 1)              \
        else if (R == 1)                                                        \
            SKLSTM_WGRAD_VBLOCK(T, V, VMULADD, SPLAT, NB, P, 1, 1)              \
        else                                                                    \
            for (size_t p = 0; p < kc; p++)                                     \
                for (int u = 0; u < P; u++)                                     \
                    t[u] = t[u] + *(const V *)(b + p * ldb + j + u * lanes);    \
        if (ones)                                                               \
            for (int u = 0; u < P; u++)                                         \
                *(V *)(bias + u * lanes) = t[u];                                \
        for (q0 = R; q0 < m; q0 += R) {                                         \
            R = sklstm_wgrad_block(q0, m);                                      \
            if (R == 6)                                                         \
                SKLSTM_WGRAD_VBLOCK(T, V, VMULADD, SPLAT, NB, P, 6, 0)          \
            else if (R == 4)                                                    \
                SKLSTM_WGRAD_VBLOCK(T, V, VMULADD, SPLAT, NB, P, 4, 0)          \
            else if (R == 2)                                                    \
                SKLSTM_WGRAD_VBLOCK(T, V, VMULADD, SPLAT, NB, P, 2, 0)          \
            else                                                                \
                SKLSTM_WGRAD_VBLOCK(T, V, VMULADD, SPLAT, NB, P, 1, 0)          \
        }                                                                       \
    }                                                                           \
    SKLSTM_WGRAD_SCALAR(T, MULADD, NB)

/* The baseline's vectors (``_gemm.h``): 16 bytes. */
static void sklstm_wgrad_vector_float(SKLSTM_WGRAD_ARGS(float))
{
    SKLSTM_WGRAD_VBODY(float, sklstm_nf, SKLSTM_MULADD, SKLSTM_MULADD,
                       SKLSTM_NSPLAT_F, SKLSTM_NB_FLOAT, sklstm_wgrad_pack_float)
}
static void sklstm_wgrad_vector_double(SKLSTM_WGRAD_ARGS(double))
{
    SKLSTM_WGRAD_VBODY(double, sklstm_nd, SKLSTM_MULADD, SKLSTM_MULADD,
                       SKLSTM_NSPLAT_D, SKLSTM_NB_DOUBLE, sklstm_wgrad_pack_double)
}
#define SKLSTM_WGRAD_BASE(T) sklstm_wgrad_vector_##T
#endif

#ifdef SKLSTM_HAVE_FMA_DISPATCH
SKLSTM_FMA_TARGET static void
sklstm_wgrad_fma_float(SKLSTM_WGRAD_ARGS(float))
{
    SKLSTM_WGRAD_VBODY(float, sklstm_vf, fmaf, SKLSTM_VFMA_F, SKLSTM_SPLAT_F,
                       SKLSTM_NB_FLOAT, sklstm_wgrad_pack_float)
}
SKLSTM_FMA_TARGET static void
sklstm_wgrad_fma_double(SKLSTM_WGRAD_ARGS(double))
{
    SKLSTM_WGRAD_VBODY(double, sklstm_vd, fma, SKLSTM_VFMA_D, SKLSTM_SPLAT_D,
                       SKLSTM_NB_DOUBLE, sklstm_wgrad_pack_double)
}
#endif
#ifdef SKLSTM_HAVE_AVX512_DISPATCH
SKLSTM_AVX512_TARGET static void
sklstm_wgrad_avx512_float(SKLSTM_WGRAD_ARGS(float))
{
    SKLSTM_WGRAD_VBODY(float, sklstm_wf, fmaf, SKLSTM_WFMA_F, SKLSTM_WSPLAT_F,
                       SKLSTM_NB_FLOAT, sklstm_wgrad_pack_float)
}
SKLSTM_AVX512_TARGET static void
sklstm_wgrad_avx512_double(SKLSTM_WGRAD_ARGS(double))
{
    SKLSTM_WGRAD_VBODY(double, sklstm_wd, fma, SKLSTM_WFMA_D, SKLSTM_WSPLAT_D,
                       SKLSTM_NB_DOUBLE, sklstm_wgrad_pack_double)
}
#endif
SKLSTM_DISPATCH(wgrad, float, SKLSTM_WGRAD_ARGS, SKLSTM_WGRAD_CALL, SKLSTM_WGRAD_BASE)
SKLSTM_DISPATCH(wgrad, double, SKLSTM_WGRAD_ARGS, SKLSTM_WGRAD_CALL, SKLSTM_WGRAD_BASE)

#endif
