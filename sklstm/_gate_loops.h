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
 * pre-activations), replace ``dc_next`` by the gradient reaching c_{t-1} and
 * add the column sums of ``dz`` to ``d_bias`` (4H; a loop of its own, which
 * GCC vectorises where a sum inside the first loop stops it). */
#define SKLSTM_BACKWARD_ROWS(NAME, T)                                           \
    SKLSTM_CLONES static void NAME(                                             \
        size_t rows, size_t hidden, const T *restrict dh,                       \
        const T *restrict gates, const T *restrict c_prev,                      \
        const T *restrict tanh_c, T *restrict dc_next, T *restrict dz,          \
        T *restrict d_bias)                                                     \
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
            T *restrict di = dz + r * 4 * hidden;                               \
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
        for (size_t r = 0; r < rows; r++) {                                     \
            const T *restrict d = dz + r * 4 * hidden;                          \
            for (size_t j = 0; j < 4 * hidden; j++)                             \
                d_bias[j] += d[j];                                              \
        }                                                                       \
    }

SKLSTM_BACKWARD_ROWS(sklstm_backward_rows_float, float)
SKLSTM_BACKWARD_ROWS(sklstm_backward_rows_double, double)

#endif
