/* The loops of Winograd's F(2×2, 3×3) transforms (Sources/MiniNet/Layers/Winograd.swift has the
   algorithm and the matrices Bᵀ, G, Aᵀ).

   Why C: each function is compiled three times, for AVX-512, AVX2 and plain SSE2
   (`target_clones`), and the loader picks the widest one the processor has, once, when the
   program starts. One binary thus runs everywhere and uses 16 floats per instruction where it
   can. Swift compiles for the oldest x86-64 (SSE2, 4 floats) and has no such switch.

   The transforms only add and subtract, each output entry always in the same order, so every
   clone gives bit-identical results: the vector width changes how many entries are computed at
   once, never how one is computed. (`fp contract(off)` below keeps the compiler from
   fusing anything, though there is no multiplication to fuse.)

   Each 4×4 (or 2×4, 4×2) matrix is applied in two passes, one along the rows and one along
   the columns, so that the inner loops run along a row of tiles over contiguous memory. */

#include "winograd_kernels.h"
#include <stdlib.h>

#pragma clang fp contract(off)

#define CLONED __attribute__((target_clones("avx512f", "avx2", "default")))

static float *zeroed(long count) { return calloc((size_t)count, sizeof(float)); }

CLONED
void tutor_winograd_transform_input(const float *x, long height, long width, float *v, long stride) {
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2;
    /* The padded plane: a row and a column of zeros before, one (two for odd sizes) after. */
    const long paddedHeight = 2 * tilesHigh + 2, half = tilesWide + 1;
    float *scratch = zeroed(2 * paddedHeight * half + 4 * paddedHeight * tilesWide);
    if (!scratch) abort();
    /* Even and odd columns apart (even[r][i] = padded[r][2i], odd[r][i] = padded[r][2i + 1]),
       so that tile tc's four columns are even[tc], odd[tc], even[tc + 1], odd[tc + 1]:
       contiguous in tc. padded[r][c] = x[r − 1][c − 1]. */
    float *even = scratch, *odd = scratch + paddedHeight * half;
    for (long row = 0; row < height; row++) {
        const float *source = x + row * width;
        float *restrict evenRow = even + (row + 1) * half, *restrict oddRow = odd + (row + 1) * half;
        for (long i = 1; i < width / 2 + 1; i++) evenRow[i] = source[2 * i - 1];
        for (long i = 0; i < (width + 1) / 2; i++) oddRow[i] = source[2 * i];
    }
    /* d B, along each padded row, with d_k = row[2·tc + k]:
       h0 = d0 − d2, h1 = d1 + d2, h2 = d2 − d1, h3 = d1 − d3. */
    float *h = scratch + 2 * paddedHeight * half;
    for (long r = 0; r < paddedHeight; r++) {
        const float *restrict e = even + r * half, *restrict o = odd + r * half;
        float *restrict h0 = h + r * tilesWide, *restrict h1 = h + (paddedHeight + r) * tilesWide;
        float *restrict h2 = h + (2 * paddedHeight + r) * tilesWide, *restrict h3 = h + (3 * paddedHeight + r) * tilesWide;
        for (long tc = 0; tc < tilesWide; tc++) {
            const float d0 = e[tc], d1 = o[tc], d2 = e[tc + 1], d3 = o[tc + 1];
            h0[tc] = d0 - d2; h1[tc] = d1 + d2; h2[tc] = d2 - d1; h3[tc] = d1 - d3;
        }
    }
    /* Bᵀ (d B), down each column j, for tile row tr: rows 2·tr … 2·tr + 3 of h_j. */
    for (long tr = 0; tr < tilesHigh; tr++) {
        for (long j = 0; j < 4; j++) {
            const float *restrict r0 = h + (j * paddedHeight + 2 * tr) * tilesWide;
            const float *restrict r1 = r0 + tilesWide, *restrict r2 = r0 + 2 * tilesWide, *restrict r3 = r0 + 3 * tilesWide;
            float *out = v + tr * tilesWide;
            float *restrict v0 = out + j * stride, *restrict v1 = out + (4 + j) * stride;
            float *restrict v2 = out + (8 + j) * stride, *restrict v3 = out + (12 + j) * stride;
            for (long tc = 0; tc < tilesWide; tc++) {
                v0[tc] = r0[tc] - r2[tc]; v1[tc] = r1[tc] + r2[tc]; v2[tc] = r2[tc] - r1[tc]; v3[tc] = r1[tc] - r3[tc];
            }
        }
    }
    free(scratch);
}

CLONED
void tutor_winograd_transform_input_adjoint(const float *dv, long stride, long height, long width, float *dx) {
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2;
    const long paddedHeight = 2 * tilesHigh + 2, half = tilesWide + 1;
    float *scratch = zeroed(2 * paddedHeight * half + 16 * tilesWide);
    if (!scratch) abort();
    /* The gradient of the padded plane, even and odd columns apart as above. */
    float *even = scratch, *odd = scratch + paddedHeight * half;
    float *p = scratch + 2 * paddedHeight * half;              /* p[(4·i + j)·tilesWide + tc] */
    for (long tr = 0; tr < tilesHigh; tr++) {
        /* B g, down each column j, with g_i = ∂L/∂V[4·i + j]:
           p0 = g0, p1 = g1 − g2 + g3, p2 = −g0 + g1 + g2, p3 = −g3. */
        for (long j = 0; j < 4; j++) {
            const float *g = dv + tr * tilesWide;
            const float *restrict g0 = g + j * stride, *restrict g1 = g + (4 + j) * stride;
            const float *restrict g2 = g + (8 + j) * stride, *restrict g3 = g + (12 + j) * stride;
            float *restrict p0 = p + j * tilesWide, *restrict p1 = p + (4 + j) * tilesWide;
            float *restrict p2 = p + (8 + j) * tilesWide, *restrict p3 = p + (12 + j) * tilesWide;
            for (long tc = 0; tc < tilesWide; tc++) {
                p0[tc] = g0[tc]; p1[tc] = g1[tc] - g2[tc] + g3[tc]; p2[tc] = -g0[tc] + g1[tc] + g2[tc]; p3[tc] = -g3[tc];
            }
        }
        /* (B g) Bᵀ, along each row i, added at columns 2·tc … 2·tc + 3 of padded row 2·tr + i:
           q0, q1 − q2 + q3, −q0 + q1 + q2, −q3, that is at even[tc], odd[tc], even[tc + 1],
           odd[tc + 1]. Neighbouring tiles overlap by two columns, so the first two and the last
           two are added in separate passes. */
        for (long i = 0; i < 4; i++) {
            float *restrict e = even + (2 * tr + i) * half, *restrict o = odd + (2 * tr + i) * half;
            const float *restrict q0 = p + 4 * i * tilesWide, *restrict q1 = p + (4 * i + 1) * tilesWide;
            const float *restrict q2 = p + (4 * i + 2) * tilesWide, *restrict q3 = p + (4 * i + 3) * tilesWide;
            for (long tc = 0; tc < tilesWide; tc++) {
                e[tc] += q0[tc];
                o[tc] += q1[tc] - q2[tc] + q3[tc];
            }
            for (long tc = 0; tc < tilesWide; tc++) {
                e[tc + 1] += -q0[tc] + q1[tc] + q2[tc];
                o[tc + 1] -= q3[tc];
            }
        }
    }
    /* dx[row][col] = padded[row + 1][col + 1]: even[…][(col + 1)/2] for odd col, odd[…][col/2]
       for even col (the padding's share is dropped: it is not an input). */
    for (long row = 0; row < height; row++) {
        float *restrict target = dx + row * width;
        const float *restrict evenRow = even + (row + 1) * half, *restrict oddRow = odd + (row + 1) * half;
        for (long i = 1; i < width / 2 + 1; i++) target[2 * i - 1] = evenRow[i];
        for (long i = 0; i < (width + 1) / 2; i++) target[2 * i] = oddRow[i];
    }
    free(scratch);
}

CLONED
void tutor_winograd_transform_output(const float *m, long stride, long height, long width, float bias, float *y) {
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2;
    float *scratch = zeroed(12 * tilesWide);
    if (!scratch) abort();
    float *top = scratch, *bottom = scratch + 4 * tilesWide;            /* top[j·tilesWide + tc] */
    float *upperRow = scratch + 8 * tilesWide, *lowerRow = scratch + 10 * tilesWide;
    for (long tr = 0; tr < tilesHigh; tr++) {
        /* Aᵀ m, down each column j, with m_i = M[4·i + j]: top = m0 + m1 + m2, bottom = m1 − m2 − m3. */
        for (long j = 0; j < 4; j++) {
            const float *base = m + tr * tilesWide;
            const float *restrict m0 = base + j * stride, *restrict m1 = base + (4 + j) * stride;
            const float *restrict m2 = base + (8 + j) * stride, *restrict m3 = base + (12 + j) * stride;
            float *restrict topJ = top + j * tilesWide, *restrict bottomJ = bottom + j * tilesWide;
            for (long tc = 0; tc < tilesWide; tc++) {
                topJ[tc] = m0[tc] + m1[tc] + m2[tc];
                bottomJ[tc] = m1[tc] - m2[tc] - m3[tc];
            }
        }
        /* (Aᵀ m) A, along each of the two rows: c0 + c1 + c2 and c1 − c2 − c3, plus the bias. */
        for (int half = 0; half < 2; half++) {
            const float *rows = half == 0 ? top : bottom;
            float *restrict out = half == 0 ? upperRow : lowerRow;
            const float *restrict c0 = rows, *restrict c1 = rows + tilesWide;
            const float *restrict c2 = rows + 2 * tilesWide, *restrict c3 = rows + 3 * tilesWide;
            for (long tc = 0; tc < tilesWide; tc++) {
                out[2 * tc] = c0[tc] + c1[tc] + c2[tc] + bias;
                out[2 * tc + 1] = c1[tc] - c2[tc] - c3[tc] + bias;
            }
        }
        /* The parts of the last tile row or column outside an odd-sized plane are dropped. */
        float *restrict upper = y + 2 * tr * width;
        for (long c = 0; c < width; c++) upper[c] = upperRow[c];
        if (2 * tr + 1 < height) {
            float *restrict lower = y + (2 * tr + 1) * width;
            for (long c = 0; c < width; c++) lower[c] = lowerRow[c];
        }
    }
    free(scratch);
}

CLONED
void tutor_winograd_transform_output_adjoint(const float *dy, long height, long width, float *dm, long stride) {
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2;
    float *scratch = zeroed(12 * tilesWide);
    if (!scratch) abort();
    /* The tile row's two rows of ∂L/∂Y, zero where they fall outside the plane. */
    float *upper = scratch, *lower = scratch + 2 * tilesWide;
    float *upperRows = scratch + 4 * tilesWide, *lowerRows = scratch + 8 * tilesWide;   /* [j·tilesWide + tc] */
    for (long tr = 0; tr < tilesHigh; tr++) {
        for (long c = 0; c < width; c++) upper[c] = dy[2 * tr * width + c];
        for (long c = 0; c < width; c++) lower[c] = 2 * tr + 1 < height ? dy[(2 * tr + 1) * width + c] : 0;
        /* ∂L/∂Y Aᵀ, along each of the two rows: each pair (a, b) becomes (a, a + b, a − b, −b). */
        for (int half = 0; half < 2; half++) {
            const float *restrict row = half == 0 ? upper : lower;
            float *out = half == 0 ? upperRows : lowerRows;
            float *restrict e0 = out, *restrict e1 = out + tilesWide, *restrict e2 = out + 2 * tilesWide, *restrict e3 = out + 3 * tilesWide;
            for (long tc = 0; tc < tilesWide; tc++) {
                const float a = row[2 * tc], b = row[2 * tc + 1];
                e0[tc] = a; e1[tc] = a + b; e2[tc] = a - b; e3[tc] = -b;
            }
        }
        /* A (∂L/∂Y Aᵀ), down each column j: rows u, u + l, u − l, −l. */
        for (long j = 0; j < 4; j++) {
            const float *restrict u = upperRows + j * tilesWide, *restrict l = lowerRows + j * tilesWide;
            float *base = dm + tr * tilesWide;
            float *restrict m0 = base + j * stride, *restrict m1 = base + (4 + j) * stride;
            float *restrict m2 = base + (8 + j) * stride, *restrict m3 = base + (12 + j) * stride;
            for (long tc = 0; tc < tilesWide; tc++) {
                m0[tc] = u[tc]; m1[tc] = u[tc] + l[tc]; m2[tc] = u[tc] - l[tc]; m3[tc] = -l[tc];
            }
        }
    }
    free(scratch);
}

/* The resolver's choice, read the way the loader makes it (clang's __builtin_cpu_supports
   asks the same CPUID bits the target_clones resolver does). */
const char *tutor_winograd_kernels(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return "avx512f";
    if (__builtin_cpu_supports("avx2")) return "avx2";
    return "default";
}
