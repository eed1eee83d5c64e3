/*
 * The fused gate loops of the compiled engine (``_fast_lstm.pyx``), and the
 * build's portability choices, which ``_gemm.h`` and ``_wgrad.h`` share.
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
 * - SKLSTM_HAVE_AVX512_DISPATCH: ``target("avx512f")`` functions with
 *   512-bit vectors, for a GEMM chosen at run time on CPUs with AVX-512F
 *   (the same operations per element as the FMA GEMM, so the same bits);
 * - SKLSTM_HAVE_TARGET_CLONES: ``target_clones`` (an ifunc, so it needs the
 *   loader's support too), compiling the gate loops for x86-64-v3 and v4
 *   beside the baseline.
 *
 * The build macro SKLSTM_PLAIN_C (``SKLSTM_PLAIN_C=1 pip install .``) turns
 * all four off, so that CI tests the plain path on any compiler. Nothing
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

#include "_engine_constants.h"

#ifdef SKLSTM_PLAIN_C
#undef SKLSTM_HAVE_VECTOR_EXT
#undef SKLSTM_HAVE_FMA_DISPATCH
#undef SKLSTM_HAVE_TARGET_CLONES
#undef SKLSTM_HAVE_AVX512_DISPATCH
#endif
#ifndef SKLSTM_HAVE_VECTOR_EXT
#undef SKLSTM_HAVE_FMA_DISPATCH /* the FMA GEMM is written with vector types */
#endif
#ifndef SKLSTM_HAVE_FMA_DISPATCH
#undef SKLSTM_HAVE_AVX512_DISPATCH /* an AVX-512 CPU is told apart after FMA */
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

/* The level of SKLSTM_ISA_* (``_engine_constants.h``) that this CPU runs
 * and this build has, read once when the module loads. */
static int sklstm_cpu_isa(void)
{
#ifdef SKLSTM_HAVE_FMA_DISPATCH
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
        return SKLSTM_ISA_BASE;
#ifdef SKLSTM_HAVE_AVX512_DISPATCH
    if (__builtin_cpu_supports("avx512f"))
        return SKLSTM_ISA_AVX512;
#endif
    return SKLSTM_ISA_FMA;
#else
    return SKLSTM_ISA_BASE;
#endif
}

/* sklstm_NAME_T(isa, ARGS(T)): the kernel of the best instruction set up to
 * ``isa`` that this build has: sklstm_NAME_avx512_T, sklstm_NAME_fma_T or
 * BASE(T), with the arguments ARGS(T) (passed on as CALL). */
#if defined(SKLSTM_HAVE_AVX512_DISPATCH)
#define SKLSTM_DISPATCH(NAME, T, ARGS, CALL, BASE)                              \
    static void sklstm_##NAME##_##T(int isa, ARGS(T))                           \
    {                                                                           \
        if (isa >= SKLSTM_ISA_AVX512)                                           \
            sklstm_##NAME##_avx512_##T(CALL);                                   \
        else if (isa >= SKLSTM_ISA_FMA)                                         \
            sklstm_##NAME##_fma_##T(CALL);                                      \
        else                                                                    \
            BASE(T)(CALL);                                                      \
    }
#elif defined(SKLSTM_HAVE_FMA_DISPATCH)
#define SKLSTM_DISPATCH(NAME, T, ARGS, CALL, BASE)                              \
    static void sklstm_##NAME##_##T(int isa, ARGS(T))                           \
    {                                                                           \
        if (isa >= SKLSTM_ISA_FMA)                                              \
            sklstm_##NAME##_fma_##T(CALL);                                      \
        else                                                                    \
            BASE(T)(CALL);                                                      \
    }
#else
#define SKLSTM_DISPATCH(NAME, T, ARGS, CALL, BASE)                              \
    static void sklstm_##NAME##_##T(int isa, ARGS(T))                           \
    {                                                                           \
        (void)isa;                                                              \
        BASE(T)(CALL);                                                          \
    }
#endif

/* x * y + z: two roundings (the reference's), or one where MULADD is an
 * fmaf/fma compiled for a CPU with fused multiply-adds. */
#define SKLSTM_MULADD(x, y, z) ((x) * (y) + (z))

/* The float32 sigmoid and tanh, on 1 + exp(x) with exp in about 1 ulp,
 * branch-free so that loops vectorise: x = n ln2 + r with |r| <= ln2 / 2,
 * exp(r) from Cephes' polynomial, 2^n from the exponent bits. x is clamped
 * to [-87, 88], where 2^n stays a normal number: exp(-87) = 1.6e-38 and
 * exp(88) = 1.7e38 are as good as 0 and inf for the sigmoid and tanh built
 * on it, and +-inf clamp like any large x. NaN passes through (the
 * comparisons fail and keep x, so r and the result are NaN), and a
 * diverging model still shows NaN; its n is replaced by 0 before the
 * conversion to an integer, which would be undefined for NaN. The shift is
 * done on an unsigned integer: n + 127 lies in [1, 254]. MULADD is
 * SKLSTM_MULADD or, in the FMA builds, fmaf: the two differ in the last
 * bits, each within the bound that tests/test_instruction_sets.py checks
 * against float64. */
#define SKLSTM_ACTIVATIONS_F(PREFIX, ATTR, MULADD)                              \
    ATTR static inline float PREFIX##_one_plus_exp(float x)                     \
    {                                                                           \
        x = x < -87.0f ? -87.0f : x;                                            \
        x = x > 88.0f ? 88.0f : x;                                              \
        /* Round x / ln2 to the nearest integer: adding 1.5 * 2^23 leaves no   \
         * fraction bits. */                                                    \
        float n = MULADD(x, 1.44269504088896341f, 12582912.0f);                 \
        n -= 12582912.0f;                                                       \
        float r = MULADD(n, -0.693359375f, x);                                  \
        r = MULADD(n, 2.12194440e-4f, r);                                       \
        float r2 = r * r;                                                       \
        float p = 1.9875691500e-4f;                                             \
        p = MULADD(p, r, 1.3981999507e-3f);                                     \
        p = MULADD(p, r, 8.3334519073e-3f);                                     \
        p = MULADD(p, r, 4.1665795894e-2f);                                     \
        p = MULADD(p, r, 1.6666665459e-1f);                                     \
        p = MULADD(p, r, 5.0000001201e-1f);                                     \
        p = MULADD(p, r2, r) + 1.0f;                                            \
        n = n == n ? n : 0.0f;                                                  \
        uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;                     \
        float scale;                                                            \
        memcpy(&scale, &bits, sizeof scale);                                    \
        return MULADD(p, scale, 1.0f);                                          \
    }                                                                           \
    ATTR static inline float PREFIX##_sigmoid(float z)                          \
    {                                                                           \
        return 1.0f / PREFIX##_one_plus_exp(-z);                                \
    }                                                                           \
    ATTR static inline float PREFIX##_tanh(float z)                             \
    {                                                                           \
        return 2.0f / PREFIX##_one_plus_exp(-2.0f * z) - 1.0f;                  \
    }

static inline double sklstm_sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }
static inline double sklstm_tanh(double z) { return 2.0 / (1.0 + exp(-2.0 * z)) - 1.0; }

#define SKLSTM_R SKLSTM_RESTRICT

/* Forward: ``gates`` (rows x 4H) holds x W_ih^T + h W_hh^T on entry and the
 * activated gates on exit; ``bias`` is added here. ``c_prev`` and ``c`` may be
 * the same array (an in-place update). All row blocks are contiguous; each
 * gate block gets its own restrict pointer so that compilers vectorise over
 * j. */
#define SKLSTM_FORWARD_ROWS(NAME, ATTR, T, MULADD, SIGMOID, TANH)               \
    ATTR static void NAME(                                                      \
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
                T cell = MULADD(fo, cp[j], in * ca);                            \
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
#define SKLSTM_FORWARD_ARGS(T)                                                  \
    size_t rows, size_t hidden, T *SKLSTM_R gates, const T *SKLSTM_R bias,      \
    const T *c_prev, T *c, T *SKLSTM_R tanh_c, T *SKLSTM_R h
#define SKLSTM_FORWARD_CALL rows, hidden, gates, bias, c_prev, c, tanh_c, h

SKLSTM_ACTIVATIONS_F(sklstm_plain, , SKLSTM_MULADD)
SKLSTM_FORWARD_ROWS(sklstm_forward_rows_plain_float, SKLSTM_CLONES, float,
                    SKLSTM_MULADD, sklstm_plain_sigmoid, sklstm_plain_tanh)
SKLSTM_FORWARD_ROWS(sklstm_forward_rows_plain_double, SKLSTM_CLONES, double,
                    SKLSTM_MULADD, sklstm_sigmoid, sklstm_tanh)
#define SKLSTM_FORWARD_BASE(T) sklstm_forward_rows_plain_##T

/* The forward loop for CPUs with fused multiply-adds (chosen at run time by
 * SKLSTM_DISPATCH): the same maths, each x * y + z of the exponential and the
 * cell update one fused operation, so fewer instructions and one rounding
 * fewer each. */
#ifdef SKLSTM_HAVE_FMA_DISPATCH
#define SKLSTM_FMA_TARGET __attribute__((target("avx2,fma")))
#define SKLSTM_AVX512_TARGET __attribute__((target("avx512f,avx2,fma")))
SKLSTM_ACTIVATIONS_F(sklstm_fma, SKLSTM_FMA_TARGET, fmaf)
SKLSTM_FORWARD_ROWS(sklstm_forward_rows_fma_float, SKLSTM_FMA_TARGET, float, fmaf,
                    sklstm_fma_sigmoid, sklstm_fma_tanh)
SKLSTM_FORWARD_ROWS(sklstm_forward_rows_fma_double, SKLSTM_FMA_TARGET, double, fma,
                    sklstm_sigmoid, sklstm_tanh)
#endif
#ifdef SKLSTM_HAVE_AVX512_DISPATCH
SKLSTM_ACTIVATIONS_F(sklstm_avx512, SKLSTM_AVX512_TARGET, fmaf)
SKLSTM_FORWARD_ROWS(sklstm_forward_rows_avx512_float, SKLSTM_AVX512_TARGET, float,
                    fmaf, sklstm_avx512_sigmoid, sklstm_avx512_tanh)
SKLSTM_FORWARD_ROWS(sklstm_forward_rows_avx512_double, SKLSTM_AVX512_TARGET, double,
                    fma, sklstm_sigmoid, sklstm_tanh)
#endif
SKLSTM_DISPATCH(forward_rows, float, SKLSTM_FORWARD_ARGS, SKLSTM_FORWARD_CALL,
                SKLSTM_FORWARD_BASE)
SKLSTM_DISPATCH(forward_rows, double, SKLSTM_FORWARD_ARGS, SKLSTM_FORWARD_CALL,
                SKLSTM_FORWARD_BASE)

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

#endif
