/*
 * The fused gate loops and the small GEMM of the compiled engine
 * (``_fast_lstm.pyx``).
 *
 * One pass over a block of rows does, per element, everything that the NumPy
 * engine (``_gates.py``, the reference) does in about fifteen ufunc passes:
 * the four gate activations, the cell update, tanh of the new cell and the
 * new hidden state (forward); the gate gradients and the cell-state gradient
 * carried back one step (backward). The maths and the gate layout (input,
 * forget, cell candidate, output; PyTorch's order) are those of
 * ``_gates.py``.
 *
 * Portability. Every path below is plain C99 (``restrict`` aside, spelled
 * through SKLSTM_RESTRICT) unless the build found, by test compiles of the
 * compiler in use (``setup.py``), that it supports more:
 *
 * - SKLSTM_HAVE_VECTOR_EXT: GCC-style vector types (``vector_size``), for
 *   the register blocks of the GEMM;
 * - SKLSTM_HAVE_FMA_DISPATCH: ``target("avx2,fma")`` functions with
 *   ``<immintrin.h>`` and ``__builtin_cpu_supports``, for a GEMM with fused
 *   multiply-adds chosen at run time on CPUs that have them;
 * - SKLSTM_HAVE_TARGET_CLONES: ``target_clones`` (an ifunc, so it needs the
 *   loader's support too), compiling the gate loops for x86-64-v3 and v4
 *   beside the baseline.
 *
 * The build macro SKLSTM_PLAIN_C (``SKLSTM_PLAIN_C=1 pip install .``) turns
 * all three off, so that CI tests the plain path on any compiler. Nothing
 * here names a platform or a compiler; the extension is compiled for the
 * baseline of its target (no -march=native).
 *
 * Every path gives every row the same operations wherever it sits in a
 * block (a row's prediction never depends on the other rows), and the plain
 * GEMM performs, per element, exactly the operations of the vector GEMM
 * without FMA: the two give the same bits.
 */
#ifndef SKLSTM_GATE_LOOPS_H
#define SKLSTM_GATE_LOOPS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef SKLSTM_PLAIN_C
#undef SKLSTM_HAVE_VECTOR_EXT
#undef SKLSTM_HAVE_FMA_DISPATCH
#undef SKLSTM_HAVE_TARGET_CLONES
#endif
#ifndef SKLSTM_HAVE_VECTOR_EXT
#undef SKLSTM_HAVE_FMA_DISPATCH /* the FMA GEMM is written with vector types */
#endif

#if defined(_MSC_VER)
#define SKLSTM_RESTRICT __restrict
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L
#define SKLSTM_RESTRICT restrict
#elif defined(__GNUC__)
#define SKLSTM_RESTRICT __restrict__
#else
#define SKLSTM_RESTRICT
#endif

#ifdef SKLSTM_HAVE_TARGET_CLONES
#define SKLSTM_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SKLSTM_CLONES
#endif

/* Panel widths of the packed weights (columns of w^T per panel): two vectors
 * of 32 bytes. The packing, its size and the GEMM all read these. */
#define SKLSTM_NB_FLOAT 16
#define SKLSTM_NB_DOUBLE 8

/* What the build chose, for sklstm.show_versions(). */
#if defined(SKLSTM_HAVE_VECTOR_EXT)
#define SKLSTM_C_PATH "vector"
#else
#define SKLSTM_C_PATH "plain C"
#endif
#if defined(__clang__)
#define SKLSTM_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define SKLSTM_COMPILER "gcc " __VERSION__
#elif defined(_MSC_VER)
#define SKLSTM_STR2(x) #x
#define SKLSTM_STR(x) SKLSTM_STR2(x)
#define SKLSTM_COMPILER "msvc " SKLSTM_STR(_MSC_FULL_VER)
#else
#define SKLSTM_COMPILER "unknown C compiler"
#endif
#ifdef SKLSTM_HAVE_TARGET_CLONES
#define SKLSTM_HAS_CLONES 1
#else
#define SKLSTM_HAS_CLONES 0
#endif

/* exp(x) for float32 in about 1 ulp, branch-free so that loops vectorise:
 * x = n ln2 + r with |r| <= ln2 / 2, exp(r) from Cephes' polynomial, 2^n
 * from the exponent bits. x is clamped to [-87, 88], where 2^n stays a normal
 * number: exp(-87) = 1.6e-38 and exp(88) = 1.7e38 are as good as 0 and inf
 * for the sigmoid and tanh built on it, and +-inf clamp like any large x.
 * NaN passes through (the comparisons fail and keep x, so r and the result
 * are NaN), and a diverging model still shows NaN; its n is replaced by 0
 * before the conversion to an integer, which would be undefined for NaN.
 * The shift is done on an unsigned integer: n + 127 lies in [1, 254]. */
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
    n = n == n ? n : 0.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float sklstm_sigmoidf(float z) { return 1.0f / (1.0f + sklstm_expf(-z)); }
static inline float sklstm_tanhf(float z) { return 2.0f / (1.0f + sklstm_expf(-2.0f * z)) - 1.0f; }
static inline double sklstm_sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }
static inline double sklstm_tanh(double z) { return 2.0 / (1.0 + exp(-2.0 * z)) - 1.0; }

#define SKLSTM_R SKLSTM_RESTRICT

/* Forward: ``gates`` (rows x 4H) holds x W_ih^T + h W_hh^T on entry and the
 * activated gates on exit; ``bias`` is added here. ``c_prev`` and ``c`` may be
 * the same array (an in-place update). All row blocks are contiguous; each
 * gate block gets its own restrict pointer so that compilers vectorise over
 * j. */
#define SKLSTM_FORWARD_ROWS(NAME, T, SIGMOID, TANH)                             \
    SKLSTM_CLONES static void NAME(                                             \
        size_t rows, size_t hidden, T *SKLSTM_R gates, const T *SKLSTM_R bias,  \
        const T *c_prev, T *c, T *SKLSTM_R tanh_c, T *SKLSTM_R h)               \
    {                                                                           \
        const T *SKLSTM_R bi = bias, *SKLSTM_R bf = bias + hidden;              \
        const T *SKLSTM_R bg = bias + 2 * hidden;                               \
        const T *SKLSTM_R bo = bias + 3 * hidden;                               \
        for (size_t r = 0; r < rows; r++) {                                     \
            T *SKLSTM_R gi = gates + r * 4 * hidden;                            \
            T *SKLSTM_R gf = gi + hidden;                                       \
            T *SKLSTM_R gg = gi + 2 * hidden;                                   \
            T *SKLSTM_R go = gi + 3 * hidden;                                   \
            const T *cp = c_prev + r * hidden;                                  \
            T *cr = c + r * hidden;                                             \
            T *SKLSTM_R tc = tanh_c + r * hidden;                               \
            T *SKLSTM_R hr = h + r * hidden;                                    \
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
        size_t rows, size_t hidden, const T *SKLSTM_R dh,                       \
        const T *SKLSTM_R gates, const T *SKLSTM_R c_prev,                      \
        const T *SKLSTM_R tanh_c, T *SKLSTM_R dc_next, T *SKLSTM_R dz,          \
        size_t ldz)                                                             \
    {                                                                           \
        for (size_t r = 0; r < rows; r++) {                                     \
            const T *SKLSTM_R gi = gates + r * 4 * hidden;                      \
            const T *SKLSTM_R gf = gi + hidden;                                 \
            const T *SKLSTM_R gg = gi + 2 * hidden;                             \
            const T *SKLSTM_R go = gi + 3 * hidden;                             \
            const T *SKLSTM_R dhr = dh + r * hidden;                            \
            const T *SKLSTM_R cp = c_prev + r * hidden;                         \
            const T *SKLSTM_R tc = tanh_c + r * hidden;                         \
            T *SKLSTM_R dcn = dc_next + r * hidden;                             \
            T *SKLSTM_R di = dz + r * ldz;                                      \
            T *SKLSTM_R df = di + hidden;                                       \
            T *SKLSTM_R dg = di + 2 * hidden;                                   \
            T *SKLSTM_R dO = di + 3 * hidden;                                   \
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
            for (; r + 6 <= rows; r += 6)                                       \
                SKLSTM_GEMM_BLOCK(T, V, VMULADD, SPLAT, 6)                      \
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


/* ---- Weight gradients -------------------------------------------------
 *
 * After the recurrence, the gradients of W_ih, W_hh and the bias are sums
 * over every row p (step and sample) of the batch: for gate unit j,
 * grad_ih[j, q] = sum_p x[p, q] dz[p, j], grad_hh[j, q] = sum_p h[p, q]
 * dz[p, j] (h the previous hidden state) and grad_bias[j] = sum_p dz[p, j].
 * One product gives them all, c = [a | a2 | 1]^T @ b with a = x, a2 = h and
 * b = dz: c has a row per column of a, then of a2, then (``ones``) one for
 * the bias, and a column per gate unit. c is stored panel after panel (NB
 * gate units, two vectors): the panel of gate units [j, j + NB) at
 * c + j * rows, its row q at + q * NB, so that a block's sums are near each
 * other whatever the number of gate units; the caller transposes it.
 *
 * - The caller passes the rows in fixed chunks (SKLSTM_WGRAD_ROWS); each
 *   call adds one chunk into c, for the gate units j0 <= j < j1 (j0 a
 *   multiple of NB).
 * - Each call packs the chunk of [a | a2] into ``work``, in blocks of 6
 *   columns (4, 2 and 1 for the last ones), a block's values row after row.
 * - Per panel, each block keeps its 12 sums (6 columns by 2 vectors) in
 *   registers over the chunk's rows. The first block reads the chunk of b
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
#define SKLSTM_WGRAD_ROWS 256

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

/* One block of R columns (from q0) of packed [a | a2] by the panel of b. */
#define SKLSTM_WGRAD_VBLOCK(T, V, VMULADD, SPLAT, R, COPY)                      \
    {                                                                           \
        const T *SKLSTM_R pk = pa + q0 * kc;                                    \
        V s0[R], s1[R];                                                         \
        for (int i = 0; i < R; i++) {                                           \
            const T *out = cp + (q0 + i) * 2 * lanes;                           \
            s0[i] = first ? (V){0} : *(const V *)out;                           \
            s1[i] = first ? (V){0} : *(const V *)(out + lanes);                 \
        }                                                                       \
        for (size_t p = 0; p < kc; p++) {                                       \
            V b0, b1;                                                           \
            if (COPY) {                                                         \
                b0 = *(const V *)(b + p * ldb + j);                             \
                b1 = *(const V *)(b + p * ldb + j + lanes);                     \
                *(V *)(pb + p * 2 * lanes) = b0;                                \
                *(V *)(pb + p * 2 * lanes + lanes) = b1;                        \
                t0 = t0 + b0;                                                   \
                t1 = t1 + b1;                                                   \
            } else {                                                            \
                b0 = *(const V *)(pb + p * 2 * lanes);                          \
                b1 = *(const V *)(pb + p * 2 * lanes + lanes);                  \
            }                                                                   \
            for (int i = 0; i < R; i++) {                                       \
                V x = SPLAT(pk[p * R + i]);                                     \
                s0[i] = VMULADD(x, b0, s0[i]);                                  \
                s1[i] = VMULADD(x, b1, s1[i]);                                  \
            }                                                                   \
        }                                                                       \
        for (int i = 0; i < R; i++) {                                           \
            T *out = cp + (q0 + i) * 2 * lanes;                                 \
            *(V *)out = s0[i];                                                  \
            *(V *)(out + lanes) = s1[i];                                        \
        }                                                                       \
    }

/* Per panel: the first block also copies the chunk of b into pb (where
 * the other blocks read it, from L1) and takes the bias's sums on the
 * way. */
#define SKLSTM_WGRAD_VBODY(T, V, MULADD, VMULADD, SPLAT, NB, PACK)              \
    const size_t lanes = sizeof(V) / sizeof(T), m = na + na2;                   \
    T *SKLSTM_R pa = work, *SKLSTM_R pb = work + m * kc;                        \
    size_t j = j0;                                                              \
    PACK(kc, na, a, lda, na2, a2, lda2, pa);                                    \
    for (; j + 2 * lanes <= j1; j += 2 * lanes) {                               \
        V t0 = {0}, t1 = {0};                                                   \
        T *SKLSTM_R cp = c + j * (m + (ones != 0));                             \
        T *SKLSTM_R bias = cp + m * 2 * lanes;                                  \
        if (ones && !first) {                                                   \
            t0 = *(const V *)bias;                                              \
            t1 = *(const V *)(bias + lanes);                                    \
        }                                                                       \
        size_t q0 = 0, R = m ? sklstm_wgrad_block(0, m) : 0;                    \
        if (R == 4)                                                             \
            SKLSTM_WGRAD_VBLOCK(T, V, VMULADD, SPLAT, 4, 1)                     \
        else if (R == 2)                                                        \
            SKLSTM_WGRAD_VBLOCK(T, V, VMULADD, SPLAT, 2, 1)                     \
        else if (R == 1)                                                        \
            SKLSTM_WGRAD_VBLOCK(T, V, VMULADD, SPLAT, 1, 1)                     \
        else                                                                    \
            for (size_t p = 0; p < kc; p++) {                                   \
                t0 = t0 + *(const V *)(b + p * ldb + j);                        \
                t1 = t1 + *(const V *)(b + p * ldb + j + lanes);                \
            }                                                                   \
        if (ones) {                                                             \
            *(V *)bias = t0;                                                    \
            *(V *)(bias + lanes) = t1;                                          \
        }                                                                       \
        for (q0 = R; q0 < m; q0 += R) {                                         \
            R = sklstm_wgrad_block(q0, m);                                      \
            if (R == 6)                                                         \
                SKLSTM_WGRAD_VBLOCK(T, V, VMULADD, SPLAT, 6, 0)                 \
            else if (R == 4)                                                    \
                SKLSTM_WGRAD_VBLOCK(T, V, VMULADD, SPLAT, 4, 0)                 \
            else if (R == 2)                                                    \
                SKLSTM_WGRAD_VBLOCK(T, V, VMULADD, SPLAT, 2, 0)                 \
            else                                                                \
                SKLSTM_WGRAD_VBLOCK(T, V, VMULADD, SPLAT, 1, 0)                 \
        }                                                                       \
    }                                                                           \
    SKLSTM_WGRAD_SCALAR(T, MULADD, NB)

static void sklstm_wgrad_vector_float(SKLSTM_WGRAD_ARGS(float))
{
    SKLSTM_WGRAD_VBODY(float, sklstm_vf, SKLSTM_MULADD, SKLSTM_MULADD,
                       SKLSTM_SPLAT_F, SKLSTM_NB_FLOAT, sklstm_wgrad_pack_float)
}
static void sklstm_wgrad_vector_double(SKLSTM_WGRAD_ARGS(double))
{
    SKLSTM_WGRAD_VBODY(double, sklstm_vd, SKLSTM_MULADD, SKLSTM_MULADD,
                       SKLSTM_SPLAT_D, SKLSTM_NB_DOUBLE, sklstm_wgrad_pack_double)
}
#define SKLSTM_WGRAD_BASE(T) sklstm_wgrad_vector_##T
#endif

#ifdef SKLSTM_HAVE_FMA_DISPATCH
__attribute__((target("avx2,fma"))) static void
sklstm_wgrad_fma_float(SKLSTM_WGRAD_ARGS(float))
{
    SKLSTM_WGRAD_VBODY(float, sklstm_vf, fmaf, SKLSTM_VFMA_F, SKLSTM_SPLAT_F,
                       SKLSTM_NB_FLOAT, sklstm_wgrad_pack_float)
}
__attribute__((target("avx2,fma"))) static void
sklstm_wgrad_fma_double(SKLSTM_WGRAD_ARGS(double))
{
    SKLSTM_WGRAD_VBODY(double, sklstm_vd, fma, SKLSTM_VFMA_D, SKLSTM_SPLAT_D,
                       SKLSTM_NB_DOUBLE, sklstm_wgrad_pack_double)
}
#endif
SKLSTM_DISPATCH(wgrad, float, SKLSTM_WGRAD_ARGS, SKLSTM_WGRAD_CALL, SKLSTM_WGRAD_BASE)
SKLSTM_DISPATCH(wgrad, double, SKLSTM_WGRAD_ARGS, SKLSTM_WGRAD_CALL, SKLSTM_WGRAD_BASE)

#endif
