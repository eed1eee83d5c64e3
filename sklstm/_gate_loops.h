/*
 * The fused gate loops of the compiled engine (``_fast_lstm.pyx``).
 *
 * One pass over a block of rows does, per element, everything that the NumPy
 * engine (``_gates.py``, the reference) does in about fifteen ufunc passes:
 * the four gate activations, the cell update, tanh of the new cell and the
 * new hidden state (forward); the gate gradients, the cell-state gradient
 * carried back one step and the bias gradient (backward). The maths and the
 * gate layout (input, forget, cell candidate, output; PyTorch's order) are
 * those of ``_gates.py``.
 *
 * Portability: the extension is compiled for the baseline x86-64 (SSE2).
 * Where GCC, glibc and x86-64 allow it, the loops are also compiled for
 * x86-64-v3 (AVX2, FMA) and x86-64-v4 (AVX-512) and the best version the CPU
 * runs is chosen when the module loads (``target_clones``, an ifunc), so a
 * wheel never executes an instruction its CPU lacks. float32 uses its own
 * branch-free exp below, which GCC vectorises; float64 calls the C library's
 * exp, for accuracy.
 */
#ifndef SKLSTM_GATE_LOOPS_H
#define SKLSTM_GATE_LOOPS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__) && !defined(SKLSTM_NO_CLONES)
#define SKLSTM_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SKLSTM_CLONES
#endif

/* exp(x) for float32 in about 1 ulp, branch-free so that loops vectorise:
 * x = n ln2 + r with |r| <= ln2 / 2, exp(r) from Cephes' polynomial, 2^n
 * from the exponent bits. x is clamped to [-87, 88], where 2^n stays a normal
 * number: exp(-87) = 1.6e-38 and exp(88) = 1.7e38 are as good as 0 and inf
 * for the sigmoid and tanh built on it. NaN passes through (the comparisons
 * fail and keep x), so a diverging model still shows NaN. */
static inline float sklstm_expf(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    /* Round x / ln2 to the nearest integer: adding 1.5 * 2^23 leaves no
     * fraction bits. */
    float n = x * 1.44269504088896341f + 12582912.0f;
    n -= 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float r2 = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r2 + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float sklstm_sigmoidf(float z) { return 1.0f / (1.0f + sklstm_expf(-z)); }
static inline float sklstm_tanhf(float z) { return 2.0f / (1.0f + sklstm_expf(-2.0f * z)) - 1.0f; }
static inline double sklstm_sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }
static inline double sklstm_tanh(double z) { return 2.0 / (1.0 + exp(-2.0 * z)) - 1.0; }

/* Forward: ``gates`` (rows x 4H) holds x W_ih^T + h W_hh^T on entry and the
 * activated gates on exit; ``bias`` is added here. ``c_prev`` and ``c`` may be
 * the same array (an in-place update). All row blocks are contiguous; each
 * gate block gets its own restrict pointer so that GCC vectorises over j. */
#define SKLSTM_FORWARD_ROWS(NAME, T, SIGMOID, TANH)                             \
    SKLSTM_CLONES static void NAME(                                             \
        size_t rows, size_t hidden, T *restrict gates, const T *restrict bias,  \
        const T *c_prev, T *c, T *restrict tanh_c, T *restrict h)               \
    {                                                                           \
        const T *restrict bi = bias, *restrict bf = bias + hidden;              \
        const T *restrict bg = bias + 2 * hidden, *restrict bo = bias + 3 * hidden; \
        for (size_t r = 0; r < rows; r++) {                                     \
            T *restrict gi = gates + r * 4 * hidden;                            \
            T *restrict gf = gi + hidden;                                       \
            T *restrict gg = gi + 2 * hidden;                                   \
            T *restrict go = gi + 3 * hidden;                                   \
            const T *cp = c_prev + r * hidden;                                  \
            T *cr = c + r * hidden;                                             \
            T *restrict tc = tanh_c + r * hidden;                               \
            T *restrict hr = h + r * hidden;                                    \
            for (size_t j = 0; j < hidden; j++) {                               \
                T in = SIGMOID(gi[j] + bi[j]);                                  \
                T fo = SIGMOID(gf[j] + bf[j]);                                  \
                T ca = TANH(gg[j] + bg[j]);                                     \
                T ou = SIGMOID(go[j] + bo[j]);                                  \
                T cell = fo * cp[j] + in * ca;                                  \
                T tanh_cell = TANH(cell);                                       \
                gi[j] = in;                                                     \
                gf[j] = fo;                                                     \
                gg[j] = ca;                                                     \
                go[j] = ou;                                                     \
                cr[j] = cell;                                                   \
                tc[j] = tanh_cell;                                              \
                hr[j] = ou * tanh_cell;                                         \
            }                                                                   \
        }                                                                       \
    }

SKLSTM_FORWARD_ROWS(sklstm_forward_rows_float, float, sklstm_sigmoidf, sklstm_tanhf)
SKLSTM_FORWARD_ROWS(sklstm_forward_rows_double, double, sklstm_sigmoid, sklstm_tanh)

/* Backward, one step: from ``dh`` (gradient reaching h_t) and ``dc_next``
 * (reaching c_t from step t+1), write ``dz`` (rows x 4H, gradient of the
 * pre-activations) and replace ``dc_next`` by the gradient reaching c_{t-1}.
 * ``dz`` may have a row stride (``ldz``) larger than 4H. */
#define SKLSTM_BACKWARD_ROWS(NAME, T)                                           \
    SKLSTM_CLONES static void NAME(                                             \
        size_t rows, size_t hidden, const T *restrict dh,                       \
        const T *restrict gates, const T *restrict c_prev,                      \
        const T *restrict tanh_c, T *restrict dc_next, T *restrict dz,          \
        size_t ldz)                                                             \
    {                                                                           \
        for (size_t r = 0; r < rows; r++) {                                     \
            const T *restrict gi = gates + r * 4 * hidden;                      \
            const T *restrict gf = gi + hidden;                                 \
            const T *restrict gg = gi + 2 * hidden;                             \
            const T *restrict go = gi + 3 * hidden;                             \
            const T *restrict dhr = dh + r * hidden;                            \
            const T *restrict cp = c_prev + r * hidden;                         \
            const T *restrict tc = tanh_c + r * hidden;                         \
            T *restrict dcn = dc_next + r * hidden;                             \
            T *restrict di = dz + r * ldz;                                      \
            T *restrict df = di + hidden;                                       \
            T *restrict dg = di + 2 * hidden;                                   \
            T *restrict dO = di + 3 * hidden;                                   \
            for (size_t j = 0; j < hidden; j++) {                               \
                T in = gi[j], fo = gf[j], ca = gg[j], ou = go[j];               \
                T t = tc[j];                                                    \
                T dc = dhr[j] * ou * (1 - t * t) + dcn[j];                      \
                di[j] = dc * ca * in * (1 - in);                                \
                df[j] = dc * cp[j] * fo * (1 - fo);                             \
                dg[j] = dc * in * (1 - ca * ca);                                \
                dO[j] = dhr[j] * t * ou * (1 - ou);                             \
                dcn[j] = dc * fo;                                               \
            }                                                                   \
        }                                                                       \
    }

SKLSTM_BACKWARD_ROWS(sklstm_backward_rows_float, float)
SKLSTM_BACKWARD_ROWS(sklstm_backward_rows_double, double)

/* A small GEMM for predict, c (rows x n) = [c +] a (rows x k) @ w^T for
 * weights w (n x k), packed by sklstm_pack_* into panels of nb columns. Unlike a BLAS, it gives every row the
 * same sequence of operations wherever the row sits in the block (a sum
 * over k in order, one multiply-add at a time, from 0 or from c), so a row's
 * prediction does not depend on the other rows of the call. Blocks of 6 rows
 * x 2 vectors keep their sums in registers (GCC vector extensions); the
 * last rows go one at a time and the last columns through a scalar loop,
 * with the same operations per element. Two builds, chosen once at
 * run time: fused multiply-adds on CPUs with AVX2 and FMA, separate multiply
 * and add elsewhere. */
typedef float sklstm_vf __attribute__((vector_size(32), aligned(4)));
typedef double sklstm_vd __attribute__((vector_size(32), aligned(8)));

#define SKLSTM_GEMM_ARGS(T)                                                     \
    size_t rows, size_t n, size_t k, const T *restrict a, size_t lda,           \
    const T *restrict wp, int accumulate, T *restrict c, size_t ldc

/* One block of R rows (R = 6 or 1) by the 2 vectors of a panel. */
#define SKLSTM_GEMM_BLOCK(T, V, VMULADD, SPLAT, R)                                     \
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
        for (size_t p = 0; p < k; p++) {                                        \
            V w0 = *(const V *)(panel + p * nb);                                \
            V w1 = *(const V *)(panel + p * nb + lanes);                        \
            for (int i = 0; i < R; i++) {                                       \
                V x = SPLAT(a[(r + i) * lda + p]);                              \
                s0[i] = VMULADD(x, w0, s0[i]);                                  \
                s1[i] = VMULADD(x, w1, s1[i]);                                  \
            }                                                                   \
        }                                                                       \
        for (int i = 0; i < R; i++) {                                           \
            *(V *)(c + (r + i) * ldc + j) = s0[i];                              \
            *(V *)(c + (r + i) * ldc + j + lanes) = s1[i];                      \
        }                                                                       \
    }

#define SKLSTM_GEMM_BODY(T, V, MULADD, VMULADD, SPLAT)                                 \
    const size_t lanes = sizeof(V) / sizeof(T), nb = 2 * lanes;                 \
    /* Column panels outside, so that a panel (contiguous) stays in L1       \
     * cache while every block of rows passes over it. */                       \
    for (size_t j = 0; j < n; j += nb) {                                        \
        const T *restrict panel = wp + j * k;                                   \
        if (n - j >= nb) {                                                      \
            size_t r = 0;                                                       \
            for (; r + 6 <= rows; r += 6)                                       \
                SKLSTM_GEMM_BLOCK(T, V, VMULADD, SPLAT, 6)                             \
            for (; r < rows; r++)                                               \
                SKLSTM_GEMM_BLOCK(T, V, VMULADD, SPLAT, 1)                             \
        } else {                                                                \
            for (size_t r = 0; r < rows; r++)                                   \
                for (size_t q = 0; q < n - j; q++) {                            \
                    T total = accumulate ? c[r * ldc + j + q] : 0;              \
                    for (size_t p = 0; p < k; p++)                              \
                        total = MULADD(a[r * lda + p], panel[p * nb + q], total); \
                    c[r * ldc + j + q] = total;                                 \
                }                                                               \
        }                                                                       \
    }

#define SKLSTM_MULADD(x, y, z) ((x) * (y) + (z))
#define SKLSTM_SPLAT_F(v) ((sklstm_vf){v, v, v, v, v, v, v, v})
#define SKLSTM_SPLAT_D(v) ((sklstm_vd){v, v, v, v})
static void sklstm_gemm_plain_float(SKLSTM_GEMM_ARGS(float))
{ SKLSTM_GEMM_BODY(float, sklstm_vf, SKLSTM_MULADD, SKLSTM_MULADD, SKLSTM_SPLAT_F) }
static void sklstm_gemm_plain_double(SKLSTM_GEMM_ARGS(double))
{ SKLSTM_GEMM_BODY(double, sklstm_vd, SKLSTM_MULADD, SKLSTM_MULADD, SKLSTM_SPLAT_D) }

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define SKLSTM_HAVE_FMA_BUILD 1
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

/* Pack w (n x k; element (j, p) at w[j * sj + p * sp], so that a transposed
 * matrix packs without a copy) for the GEMM above: panels of nb = 16 (float)
 * or 8 (double) columns of w^T, each contiguous (k x nb), the last one
 * padded with zeros. ``wp`` holds ceil(n / nb) * nb * k values. */
#define SKLSTM_PACK(NAME, T, NB)                                                \
    static void NAME(size_t n, size_t k, const T *restrict w, size_t sj,       \
                     size_t sp, T *restrict wp)                                 \
    {                                                                           \
        for (size_t j = 0; j < n; j += NB)                                      \
            for (size_t p = 0; p < k; p++)                                      \
                for (size_t q = 0; q < NB; q++)                                 \
                    wp[j * k + p * NB + q] =                                    \
                        j + q < n ? w[(j + q) * sj + p * sp] : 0;               \
    }
SKLSTM_PACK(sklstm_pack_float, float, 16)
SKLSTM_PACK(sklstm_pack_double, double, 8)

static int sklstm_cpu_has_fma(void)
{
#ifdef SKLSTM_HAVE_FMA_BUILD
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* The GEMM of the build this CPU runs best (``use_fma`` from
 * sklstm_cpu_has_fma, read once when the module loads). */
#ifdef SKLSTM_HAVE_FMA_BUILD
#define SKLSTM_GEMM_DISPATCH(T)                                                 \
    static void sklstm_gemm_##T(int use_fma, SKLSTM_GEMM_ARGS(T))               \
    {                                                                           \
        if (use_fma)                                                            \
            sklstm_gemm_fma_##T(rows, n, k, a, lda, wp, accumulate, c, ldc);    \
        else                                                                    \
            sklstm_gemm_plain_##T(rows, n, k, a, lda, wp, accumulate, c, ldc);  \
    }
#else
#define SKLSTM_GEMM_DISPATCH(T)                                                 \
    static void sklstm_gemm_##T(int use_fma, SKLSTM_GEMM_ARGS(T))               \
    {                                                                           \
        (void)use_fma;                                                          \
        sklstm_gemm_plain_##T(rows, n, k, a, lda, wp, accumulate, c, ldc);      \
    }
#endif
SKLSTM_GEMM_DISPATCH(float)
SKLSTM_GEMM_DISPATCH(double)

#endif
