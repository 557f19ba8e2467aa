/* The loops of Winograd's F(2×2, 3×3) transforms (Sources/MiniNet/Layers/Winograd.swift has the
   algorithm and the matrices Bᵀ, G, Aᵀ).

   Why C: each function is compiled three times from one source, for AVX-512, AVX2 and plain
   SSE2 (vector_targets.h), and the widest the processor has runs, chosen once on first use
   (vector_width.c). One binary thus runs everywhere and uses 16 floats per instruction where
   it can. Swift compiles for the oldest x86-64 (SSE2, 4 floats) and has no such switch.

   The F(2×2) transforms only add and subtract, and F(4×4)'s multiply by small constants, each
   output entry always in the same order, so every width gives bit-identical results: the
   vector width changes how many entries are computed at once, never how one is computed.
   (`fp contract(off)` below keeps the compiler from fusing 4·d0 − 5·d2 into one rounding,
   which AVX-512's FMA instructions would otherwise allow.)

   Each 4×4 (or 2×4, 4×2) matrix is applied in two passes, one along the rows and one along
   the columns, so that the inner loops run along a row of tiles over contiguous memory. */

#include "winograd_kernels.h"
#include "vector_targets.h"
#include <stdlib.h>

#pragma clang fp contract(off)

static float *zeroed(long count) { return calloc((size_t)count, sizeof(float)); }

TUTOR_KERNEL_BODY void winograd_transform_input_body(const float *x, long height, long width, float *v, long stride) {
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
TUTOR_VECTOR_KERNEL(tutor_winograd_transform_input, winograd_transform_input_body,
                    (const float *x, long height, long width, float *v, long stride),
                    (x, height, width, v, stride))

TUTOR_KERNEL_BODY void winograd_transform_input_adjoint_body(const float *dv, long stride, long height, long width, float *dx) {
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
TUTOR_VECTOR_KERNEL(tutor_winograd_transform_input_adjoint, winograd_transform_input_adjoint_body,
                    (const float *dv, long stride, long height, long width, float *dx),
                    (dv, stride, height, width, dx))

TUTOR_KERNEL_BODY void winograd_transform_output_body(const float *m, long stride, long height, long width, float bias, float *y) {
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
TUTOR_VECTOR_KERNEL(tutor_winograd_transform_output, winograd_transform_output_body,
                    (const float *m, long stride, long height, long width, float bias, float *y),
                    (m, stride, height, width, bias, y))

TUTOR_KERNEL_BODY void winograd_transform_output_adjoint_body(const float *dy, long height, long width, float *dm, long stride) {
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
TUTOR_VECTOR_KERNEL(tutor_winograd_transform_output_adjoint, winograd_transform_output_adjoint_body,
                    (const float *dy, long height, long width, float *dm, long stride),
                    (dy, height, width, dm, stride))

/* ---- F(4×4, 3×3): 4×4 output tiles from 6×6 input patches (Lavin and Gray 2016) ----------

   One dimension, four outputs of a 3-tap filter over six inputs d (points 0, ±1, ±2, ∞):

       Bᵀ = [ 4   0  −5   0   1   0 ]     Aᵀ = [ 1   1   1   1   1   0 ]
            [ 0  −4  −4   1   1   0 ]          [ 0   1  −1   2  −2   0 ]
            [ 0   4  −4  −1   1   0 ]          [ 0   1   1   4   4   0 ]
            [ 0  −2  −1   2   1   0 ]          [ 0   1  −1   8  −8   1 ]
            [ 0   2  −1  −2   1   0 ]
            [ 0   4   0  −5   0   1 ]

   (G, for the kernel, is in Winograd.swift.) Position ξ = 6·i + j of tile t sits at
   [ξ·stride + t]; tile (tr, tc) covers outputs 4·tr … 4·tr + 3 and 4·tc … 4·tc + 3, and its
   patch starts one row and one column before them (the padding). */

/* Bᵀ d for d0 … d5, in the order every clone computes it. */
#define B4_0(d0, d1, d2, d3, d4, d5) (4 * (d0) - 5 * (d2) + (d4))
#define B4_1(d0, d1, d2, d3, d4, d5) (-4 * (d1) - 4 * (d2) + (d3) + (d4))
#define B4_2(d0, d1, d2, d3, d4, d5) (4 * (d1) - 4 * (d2) - (d3) + (d4))
#define B4_3(d0, d1, d2, d3, d4, d5) (-2 * (d1) - (d2) + 2 * (d3) + (d4))
#define B4_4(d0, d1, d2, d3, d4, d5) (2 * (d1) - (d2) - 2 * (d3) + (d4))
#define B4_5(d0, d1, d2, d3, d4, d5) (4 * (d1) - 5 * (d3) + (d5))

/* Aᵀ m for m0 … m5. */
#define A4_0(m0, m1, m2, m3, m4, m5) ((m0) + (m1) + (m2) + (m3) + (m4))
#define A4_1(m0, m1, m2, m3, m4, m5) ((m1) - (m2) + 2 * (m3) - 2 * (m4))
#define A4_2(m0, m1, m2, m3, m4, m5) ((m1) + (m2) + 4 * (m3) + 4 * (m4))
#define A4_3(m0, m1, m2, m3, m4, m5) ((m1) - (m2) + 8 * (m3) - 8 * (m4) + (m5))

TUTOR_KERNEL_BODY void winograd4_transform_input_body(const float *x, long height, long width, float *v, long stride) {
    const long tilesHigh = (height + 3) / 4, tilesWide = (width + 3) / 4;
    const long phaseLength = tilesWide + 1;
    /* For each of a tile row's six padded rows: its four phases q (phase[q][i] = padded[4·i + q]),
       so that tile tc's six columns are phase 0 … 3 at tc and phase 0, 1 at tc + 1: contiguous
       in tc. Then h[j][r][tc] = (d B)[j] of row r. */
    float *phases = zeroed(6 * 4 * phaseLength + 36 * tilesWide);
    if (!phases) abort();
    float *h = phases + 6 * 4 * phaseLength;
    for (long tr = 0; tr < tilesHigh; tr++) {
        for (long r = 0; r < 6; r++) {
            const long row = 4 * tr - 1 + r;
            float *p = phases + r * 4 * phaseLength;
            const int inside = row >= 0 && row < height;
            for (long column = 0; column < 4 * phaseLength; column++) {
                const long source = column - 1;       /* padded column c is x's column c − 1 */
                p[(column % 4) * phaseLength + column / 4] =
                    inside && source >= 0 && source < width ? x[row * width + source] : 0;
            }
            const float *restrict p0 = p, *restrict p1 = p + phaseLength;
            const float *restrict p2 = p + 2 * phaseLength, *restrict p3 = p + 3 * phaseLength;
            float *restrict h0 = h + (0 * 6 + r) * tilesWide, *restrict h1 = h + (1 * 6 + r) * tilesWide;
            float *restrict h2 = h + (2 * 6 + r) * tilesWide, *restrict h3 = h + (3 * 6 + r) * tilesWide;
            float *restrict h4 = h + (4 * 6 + r) * tilesWide, *restrict h5 = h + (5 * 6 + r) * tilesWide;
            for (long tc = 0; tc < tilesWide; tc++) {
                const float d0 = p0[tc], d1 = p1[tc], d2 = p2[tc], d3 = p3[tc], d4 = p0[tc + 1], d5 = p1[tc + 1];
                h0[tc] = B4_0(d0, d1, d2, d3, d4, d5);
                h1[tc] = B4_1(d0, d1, d2, d3, d4, d5);
                h2[tc] = B4_2(d0, d1, d2, d3, d4, d5);
                h3[tc] = B4_3(d0, d1, d2, d3, d4, d5);
                h4[tc] = B4_4(d0, d1, d2, d3, d4, d5);
                h5[tc] = B4_5(d0, d1, d2, d3, d4, d5);
            }
        }
        /* Bᵀ (d B), down each column j of the patch. */
        for (long j = 0; j < 6; j++) {
            const float *restrict r0 = h + (j * 6) * tilesWide, *restrict r1 = r0 + tilesWide, *restrict r2 = r0 + 2 * tilesWide;
            const float *restrict r3 = r0 + 3 * tilesWide, *restrict r4 = r0 + 4 * tilesWide, *restrict r5 = r0 + 5 * tilesWide;
            float *out = v + tr * tilesWide;
            float *restrict v0 = out + (0 + j) * stride, *restrict v1 = out + (6 + j) * stride, *restrict v2 = out + (12 + j) * stride;
            float *restrict v3 = out + (18 + j) * stride, *restrict v4 = out + (24 + j) * stride, *restrict v5 = out + (30 + j) * stride;
            for (long tc = 0; tc < tilesWide; tc++) {
                const float d0 = r0[tc], d1 = r1[tc], d2 = r2[tc], d3 = r3[tc], d4 = r4[tc], d5 = r5[tc];
                v0[tc] = B4_0(d0, d1, d2, d3, d4, d5);
                v1[tc] = B4_1(d0, d1, d2, d3, d4, d5);
                v2[tc] = B4_2(d0, d1, d2, d3, d4, d5);
                v3[tc] = B4_3(d0, d1, d2, d3, d4, d5);
                v4[tc] = B4_4(d0, d1, d2, d3, d4, d5);
                v5[tc] = B4_5(d0, d1, d2, d3, d4, d5);
            }
        }
    }
    free(phases);
}
TUTOR_VECTOR_KERNEL(tutor_winograd4_transform_input, winograd4_transform_input_body,
                    (const float *x, long height, long width, float *v, long stride),
                    (x, height, width, v, stride))

TUTOR_KERNEL_BODY void winograd4_transform_output_body(const float *m, long stride, long height, long width, float bias, float *y) {
    const long tilesHigh = (height + 3) / 4, tilesWide = (width + 3) / 4;
    /* t[a][j][tc] = (Aᵀ m)[a] down column j; then each output row a of the tile row. */
    float *t = zeroed(24 * tilesWide + 4 * tilesWide);
    if (!t) abort();
    float *outputRow = t + 24 * tilesWide;
    for (long tr = 0; tr < tilesHigh; tr++) {
        for (long j = 0; j < 6; j++) {
            const float *base = m + tr * tilesWide;
            const float *restrict m0 = base + (0 + j) * stride, *restrict m1 = base + (6 + j) * stride, *restrict m2 = base + (12 + j) * stride;
            const float *restrict m3 = base + (18 + j) * stride, *restrict m4 = base + (24 + j) * stride, *restrict m5 = base + (30 + j) * stride;
            float *restrict t0 = t + (0 * 6 + j) * tilesWide, *restrict t1 = t + (1 * 6 + j) * tilesWide;
            float *restrict t2 = t + (2 * 6 + j) * tilesWide, *restrict t3 = t + (3 * 6 + j) * tilesWide;
            for (long tc = 0; tc < tilesWide; tc++) {
                const float a0 = m0[tc], a1 = m1[tc], a2 = m2[tc], a3 = m3[tc], a4 = m4[tc], a5 = m5[tc];
                t0[tc] = A4_0(a0, a1, a2, a3, a4, a5);
                t1[tc] = A4_1(a0, a1, a2, a3, a4, a5);
                t2[tc] = A4_2(a0, a1, a2, a3, a4, a5);
                t3[tc] = A4_3(a0, a1, a2, a3, a4, a5);
            }
        }
        /* (Aᵀ m) A along each output row a, plus the bias; rows and columns past an edge are dropped. */
        for (long a = 0; a < 4 && 4 * tr + a < height; a++) {
            const float *restrict c0 = t + (a * 6) * tilesWide, *restrict c1 = c0 + tilesWide, *restrict c2 = c0 + 2 * tilesWide;
            const float *restrict c3 = c0 + 3 * tilesWide, *restrict c4 = c0 + 4 * tilesWide, *restrict c5 = c0 + 5 * tilesWide;
            float *restrict out = outputRow;
            for (long tc = 0; tc < tilesWide; tc++) {
                const float e0 = c0[tc], e1 = c1[tc], e2 = c2[tc], e3 = c3[tc], e4 = c4[tc], e5 = c5[tc];
                out[4 * tc] = A4_0(e0, e1, e2, e3, e4, e5) + bias;
                out[4 * tc + 1] = A4_1(e0, e1, e2, e3, e4, e5) + bias;
                out[4 * tc + 2] = A4_2(e0, e1, e2, e3, e4, e5) + bias;
                out[4 * tc + 3] = A4_3(e0, e1, e2, e3, e4, e5) + bias;
            }
            float *restrict target = y + (4 * tr + a) * width;
            for (long c = 0; c < width; c++) target[c] = outputRow[c];
        }
    }
    free(t);
}
TUTOR_VECTOR_KERNEL(tutor_winograd4_transform_output, winograd4_transform_output_body,
                    (const float *m, long stride, long height, long width, float bias, float *y),
                    (m, stride, height, width, bias, y))
