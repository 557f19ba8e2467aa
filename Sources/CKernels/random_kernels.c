/* Normal samples of SeededGenerator, many at a time (include/random_kernels.h), written once and
   compiled for SSE2, AVX2 and AVX-512F (vector_targets.h). */

#include "random_kernels.h"
#include "vector_targets.h"
#include <string.h>

#pragma clang fp contract(off)

/* π as the nearest Double, Swift's Double.pi. */
static const double pi = 3.14159265358979323846;

/* SeededGenerator.mix: SplitMix64's finalizer. */
TUTOR_KERNEL_BODY uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* v as a Double, exactly, for v < 2⁵²: the bits of 2⁵² + v, minus 2⁵². (A conversion instruction
   from 64-bit integers needs AVX-512DQ; this one is integer and Double arithmetic at any width.) */
TUTOR_KERNEL_BODY double small_to_double(uint64_t v) {
    const uint64_t bits = v | 0x4330000000000000ull;
    double shifted;
    memcpy(&shifted, &bits, sizeof shifted);
    return shifted - 4503599627370496.0;
}

/* v as a Double, exactly, for v < 2⁵³ (a 53-bit draw): its top and bottom 26 or 27 bits each
   exactly, then added, which is exact too (an integer below 2⁵³). */
TUTOR_KERNEL_BODY double draw_to_double(uint64_t v) {
    return small_to_double(v >> 26) * 0x1p26 + small_to_double(v & 0x3FFFFFFull);
}

/* PortableMath.log: ln x = e·ln 2 + 2s(1 + s²/3 + … + s¹²/13), s = (m − 1)/(m + 1), m ∈ [√½, √2). */
TUTOR_KERNEL_BODY double portable_log(double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    double exponent = small_to_double((bits >> 52) & 0x7FF) - 1023;
    const uint64_t fraction = (bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull;
    double mantissa;
    memcpy(&mantissa, &fraction, sizeof mantissa);
    const int halve = mantissa > 1.414213562373095;
    mantissa = halve ? mantissa * 0.5 : mantissa;
    exponent = halve ? exponent + 1 : exponent;
    const double s = (mantissa - 1) / (mantissa + 1);
    const double s2 = s * s;
    double series = 1.0 / 13;
    series = 1.0 / 11 + s2 * series;
    series = 1.0 / 9 + s2 * series;
    series = 1.0 / 7 + s2 * series;
    series = 1.0 / 5 + s2 * series;
    series = 1.0 / 3 + s2 * series;
    series = 1 + s2 * series;
    return exponent * 0.693147180559945309417232121458 + 2 * s * series;
}

/* PortableMath.cos: q = round(x/(π/2)) (half away from zero), t = x − q·π/2, then cos t or sin t
   by their Horner forms, with the sign of q's quarter turn. */
TUTOR_KERNEL_BODY double portable_cos(double x) {
    const double y = x * (2 / pi);
    const double whole = __builtin_trunc(y);
    const double part = y - whole;                      /* exact: y and its integer part */
    const double quarterTurns = part >= 0.5 ? whole + 1 : (part <= -0.5 ? whole - 1 : whole);
    const double t = x - quarterTurns * (pi / 2);
    const double t2 = t * t;
    double cosine = 1 - t2 * (1.0 / 132);
    cosine = 1 - t2 * (1.0 / 90) * cosine;
    cosine = 1 - t2 * (1.0 / 56) * cosine;
    cosine = 1 - t2 * (1.0 / 30) * cosine;
    cosine = 1 - t2 * (1.0 / 12) * cosine;
    cosine = 1 - t2 * (1.0 / 2) * cosine;
    double sine = 1 - t2 * (1.0 / 156);
    sine = 1 - t2 * (1.0 / 110) * sine;
    sine = 1 - t2 * (1.0 / 72) * sine;
    sine = 1 - t2 * (1.0 / 42) * sine;
    sine = 1 - t2 * (1.0 / 20) * sine;
    sine = 1 - t2 * (1.0 / 6) * sine;
    sine *= t;
    /* q mod 4 in 0…3, also for negative q: exact in Double for the small integers q is. */
    const double turn = quarterTurns - 4 * __builtin_floor(quarterTurns * 0.25);
    return turn == 0 ? cosine : turn == 1 ? -sine : turn == 2 ? -cosine : sine;
}

TUTOR_KERNEL_BODY void standard_normals_body(uint64_t state, uint64_t increment, long count, float scale,
                                             float *restrict out) {
    for (long i = 0; i < count; i++) {
        const uint64_t first = mix(state + (uint64_t)(2 * i + 1) * increment);
        const uint64_t second = mix(state + (uint64_t)(2 * i + 2) * increment);
        const double u1 = 1 - draw_to_double(first >> 11) * 0x1p-53;
        const double u2 = draw_to_double(second >> 11) * 0x1p-53;
        const double radius = __builtin_elementwise_sqrt(-2 * portable_log(u1));   /* no errno: its argument is ≥ 0 */
        out[i] = (float)(radius * portable_cos(2 * pi * u2)) * scale;
    }
}
TUTOR_VECTOR_KERNEL(tutor_standard_normals, standard_normals_body,
                    (uint64_t state, uint64_t increment, long count, float scale, float *out),
                    (state, increment, count, scale, out))
