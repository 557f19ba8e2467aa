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
   the columns, so that the inner loops run along a row of tiles over contiguous memory. The
   F(4×4) input transform and the F(2×2) output adjoint go further and run each pass over all
   tiles of the plane at once: a 56 × 56 plane has 14 tiles to a row, too few for 16-float
   vectors, but 196 in all. The F(2×2) input and output transforms run each pass over all tiles
   of several planes (`winograd_transform_input_images_body`, `…_output_images_body`); their
   one-plane forms, each just before, are the plainer reading of the same loops, and the
   references the tests hold the others to. */

#include "winograd_kernels.h"
#include "thread_scratch.h"
#include "vector_targets.h"
#include <stdlib.h>
#include <string.h>

#pragma clang fp contract(off)

TUTOR_KERNEL_BODY void winograd_transform_input_body(const float *x, long height, long width, float *v, long stride) {
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2;
    /* The padded plane: a row and a column of zeros before, one (two for odd sizes) after. */
    const long paddedHeight = 2 * tilesHigh + 2, half = tilesWide + 1;
    float *scratch = tutor_thread_scratch((size_t)(2 * paddedHeight * half + 4 * paddedHeight * tilesWide));
    memset(scratch, 0, sizeof(float) * (size_t)(2 * paddedHeight * half));   /* the padding stays 0 */
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
}
TUTOR_VECTOR_KERNEL(tutor_winograd_transform_input, winograd_transform_input_body,
                    (const float *x, long height, long width, float *v, long stride),
                    (x, height, width, v, stride))

/* The same transform for several planes (plane n at x + n·imageStride: the images of one channel,
   or one image's channels), their tiles one after the other, tile t of plane n at m =
   n·tilesPerImage + t, each loop over the tiles of all planes at once: a 14 × 14 plane has 7
   tiles to a row and a 7 × 7 plane 4, too few for 16-float vectors, but 256 planes of them have
   12 544 or 4096. Every entry by the same formulas in the same order as above, so the same bits.

   Set s (0 … 3) holds padded row 2·T + s of every tile row (n, T), the patch's row s, at
   m = (n·tilesHigh + T)·tilesWide, its columns split as above (even, odd); the last tile of a
   row reads its right-hand columns from `tails` instead of the next row. (1) the sets; (2) d B
   along each, h_j; (3) Bᵀ (d B) down each column j, the patch's four rows being the four sets. */
TUTOR_KERNEL_BODY void winograd_transform_input_images_body(const float *x, long imageStride, long images, long height, long width,
                                                            float *v, long stride) {
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2;
    const long tileRows = images * tilesHigh, count = tileRows * tilesWide;
    const long setSize = count + 16;                           /* + room for the reads one past the end */
    float *scratch = tutor_thread_scratch((size_t)(8 * setSize + 8 * tileRows + 16 * setSize));
    float *even = scratch, *odd = scratch + 4 * setSize;       /* [s][m] */
    float *tails = scratch + 8 * setSize;                      /* [s][tile row][2] */
    float *h = tails + 8 * tileRows;                           /* [j][s][m] */
    for (long set = 0; set < 4; set++) {
        float *restrict e = even + set * setSize, *restrict o = odd + set * setSize;
        for (long n = 0; n < images; n++) {
            for (long T = 0; T < tilesHigh; T++) {
                const long tileRow = n * tilesHigh + T, base = tileRow * tilesWide, row = 2 * T + set - 1;
                float *tail = tails + (set * tileRows + tileRow) * 2;
                if (row < 0 || row >= height) {
                    for (long i = 0; i < tilesWide; i++) { e[base + i] = 0; o[base + i] = 0; }
                    tail[0] = tail[1] = 0;
                    continue;
                }
                /* padded column c is x's column c − 1: even[i] = x[2i − 1], odd[i] = x[2i], all
                   inside the row for i < tilesWide; the tail's may fall past its end */
                const float *source = x + n * imageStride + row * width;
                e[base] = 0;
                for (long i = 1; i < tilesWide; i++) e[base + i] = source[2 * i - 1];
                for (long i = 0; i < tilesWide; i++) o[base + i] = source[2 * i];
                tail[0] = 2 * tilesWide - 1 < width ? source[2 * tilesWide - 1] : 0;
                tail[1] = 2 * tilesWide < width ? source[2 * tilesWide] : 0;
            }
        }
        for (long i = 0; i < 16; i++) { e[count + i] = 0; o[count + i] = 0; }
        /* (2) h0 = d0 − d2, h1 = d1 + d2, h2 = d2 − d1, h3 = d1 − d3, d_k = the tile's column k */
        float *restrict h0 = h + (0 * 4 + set) * setSize, *restrict h1 = h + (1 * 4 + set) * setSize;
        float *restrict h2 = h + (2 * 4 + set) * setSize, *restrict h3 = h + (3 * 4 + set) * setSize;
        for (long m = 0; m < count; m++) {
            const float d0 = e[m], d1 = o[m], d2 = e[m + 1], d3 = o[m + 1];
            h0[m] = d0 - d2; h1[m] = d1 + d2; h2[m] = d2 - d1; h3[m] = d1 - d3;
        }
        for (long tileRow = 0; tileRow < tileRows; tileRow++) {
            const long m = tileRow * tilesWide + tilesWide - 1;
            const float *tail = tails + (set * tileRows + tileRow) * 2;
            const float d0 = e[m], d1 = o[m], d2 = tail[0], d3 = tail[1];
            h0[m] = d0 - d2; h1[m] = d1 + d2; h2[m] = d2 - d1; h3[m] = d1 - d3;
        }
    }
    /* (3) down each column j: rows 0 … 3 of the patch are the four sets */
    for (long j = 0; j < 4; j++) {
        const float *restrict r0 = h + (j * 4 + 0) * setSize, *restrict r1 = h + (j * 4 + 1) * setSize;
        const float *restrict r2 = h + (j * 4 + 2) * setSize, *restrict r3 = h + (j * 4 + 3) * setSize;
        float *restrict v0 = v + j * stride, *restrict v1 = v + (4 + j) * stride;
        float *restrict v2 = v + (8 + j) * stride, *restrict v3 = v + (12 + j) * stride;
        for (long m = 0; m < count; m++) {
            v0[m] = r0[m] - r2[m]; v1[m] = r1[m] + r2[m]; v2[m] = r2[m] - r1[m]; v3[m] = r1[m] - r3[m];
        }
    }
}
TUTOR_VECTOR_KERNEL(tutor_winograd_transform_input_images, winograd_transform_input_images_body,
                    (const float *x, long imageStride, long images, long height, long width, float *v, long stride),
                    (x, imageStride, images, height, width, v, stride))

TUTOR_KERNEL_BODY void winograd_transform_input_adjoint_body(const float *dv, long stride, long height, long width, float *dx) {
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2;
    const long paddedHeight = 2 * tilesHigh + 2, half = tilesWide + 1;
    float *scratch = tutor_thread_scratch((size_t)(2 * paddedHeight * half + 16 * tilesWide));
    memset(scratch, 0, sizeof(float) * (size_t)(2 * paddedHeight * half));   /* sums start at 0 */
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
}
TUTOR_VECTOR_KERNEL(tutor_winograd_transform_input_adjoint, winograd_transform_input_adjoint_body,
                    (const float *dv, long stride, long height, long width, float *dx),
                    (dv, stride, height, width, dx))

TUTOR_KERNEL_BODY void winograd_transform_output_body(const float *m, long stride, long height, long width, float bias, float *y) {
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2;
    float *scratch = tutor_thread_scratch((size_t)(12 * tilesWide));
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
}
TUTOR_VECTOR_KERNEL(tutor_winograd_transform_output, winograd_transform_output_body,
                    (const float *m, long stride, long height, long width, float bias, float *y),
                    (m, stride, height, width, bias, y))

/* The same transform for several planes (plane n at y + n·imageStride, its tiles at m =
   n·tilesPerImage + t, its bias bias[n·biasStride]: one bias for all with biasStride 0), each
   loop over the tiles of all planes at once, every entry by the formulas above in the same
   order: the same bits. (1) Aᵀ m down each column; (2) (Aᵀ m) A along the two rows, plus the
   plane's bias, two outputs per tile; (3) each output row copied into its plane. */
TUTOR_KERNEL_BODY void winograd_transform_output_images_body(const float *m, long stride, long images, long height, long width,
                                                             const float *bias, long biasStride, float *y, long imageStride) {
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2, tilesPerImage = tilesHigh * tilesWide;
    const long count = images * tilesPerImage;
    float *scratch = tutor_thread_scratch((size_t)(8 * count + count + 4 * count));
    float *top = scratch, *bottom = scratch + 4 * count;             /* [j][m] */
    float *tileBias = scratch + 8 * count;                            /* [m] */
    float *upperRows = tileBias + count, *lowerRows = upperRows + 2 * count;   /* [m·2 + b] */
    for (long j = 0; j < 4; j++) {
        const float *restrict m0 = m + j * stride, *restrict m1 = m + (4 + j) * stride;
        const float *restrict m2 = m + (8 + j) * stride, *restrict m3 = m + (12 + j) * stride;
        float *restrict topJ = top + j * count, *restrict bottomJ = bottom + j * count;
        for (long i = 0; i < count; i++) {
            topJ[i] = m0[i] + m1[i] + m2[i];
            bottomJ[i] = m1[i] - m2[i] - m3[i];
        }
    }
    for (long n = 0; n < images; n++) {
        const float value = bias[n * biasStride];
        for (long t = 0; t < tilesPerImage; t++) tileBias[n * tilesPerImage + t] = value;
    }
    for (int half = 0; half < 2; half++) {
        const float *rows = half == 0 ? top : bottom;
        float *restrict out = half == 0 ? upperRows : lowerRows;
        const float *restrict c0 = rows, *restrict c1 = rows + count, *restrict c2 = rows + 2 * count, *restrict c3 = rows + 3 * count;
        const float *restrict b = tileBias;
        for (long i = 0; i < count; i++) {
            out[2 * i] = c0[i] + c1[i] + c2[i] + b[i];
            out[2 * i + 1] = c1[i] - c2[i] - c3[i] + b[i];
        }
    }
    /* The parts of the last tile row or column outside an odd-sized plane are dropped. */
    for (long n = 0; n < images; n++) {
        for (long tr = 0; tr < tilesHigh; tr++) {
            const long first = (n * tilesHigh + tr) * tilesWide * 2;
            float *restrict upper = y + n * imageStride + 2 * tr * width;
            const float *restrict upperRow = upperRows + first;
            for (long c = 0; c < width; c++) upper[c] = upperRow[c];
            if (2 * tr + 1 < height) {
                float *restrict lower = y + n * imageStride + (2 * tr + 1) * width;
                const float *restrict lowerRow = lowerRows + first;
                for (long c = 0; c < width; c++) lower[c] = lowerRow[c];
            }
        }
    }
}
TUTOR_VECTOR_KERNEL(tutor_winograd_transform_output_images, winograd_transform_output_images_body,
                    (const float *m, long stride, long images, long height, long width, const float *bias, long biasStride, float *y,
                     long imageStride),
                    (m, stride, images, height, width, bias, biasStride, y, imageStride))

/* Flat over all tiles of the plane at once (t = tr·tilesWide + tc), for long vectors: first each
   row of ∂L/∂Y times Aᵀ, rows 2·tr and 2·tr + 1 of tile row tr apart; then A times that, down
   each column j. */
TUTOR_KERNEL_BODY void winograd_transform_output_adjoint_body(const float *dy, long height, long width, float *dm, long stride) {
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2, tiles = tilesHigh * tilesWide;
    /* rows[(2·j + parity)·tiles + t]: (∂L/∂Y Aᵀ)[j] of row 2·tr + parity. */
    float *rows = tutor_thread_scratch((size_t)(8 * tiles));
    const long pairs = width / 2;                         /* tiles whose two columns are both inside */
    for (long tr = 0; tr < tilesHigh; tr++) {
        for (long parity = 0; parity < 2; parity++) {
            const long r = 2 * tr + parity;
            float *restrict e0 = rows + (0 + parity) * tiles + tr * tilesWide, *restrict e1 = rows + (2 + parity) * tiles + tr * tilesWide;
            float *restrict e2 = rows + (4 + parity) * tiles + tr * tilesWide, *restrict e3 = rows + (6 + parity) * tiles + tr * tilesWide;
            /* ∂L/∂Y Aᵀ along the row: each pair (a, b) becomes (a, a + b, a − b, −b); 0 outside the plane. */
            if (r < height) {
                const float *restrict row = dy + r * width;
                for (long tc = 0; tc < pairs; tc++) {
                    const float a = row[2 * tc], b = row[2 * tc + 1];
                    e0[tc] = a; e1[tc] = a + b; e2[tc] = a - b; e3[tc] = -b;
                }
                for (long tc = pairs; tc < tilesWide; tc++) {
                    const float a = row[2 * tc], b = 0;
                    e0[tc] = a; e1[tc] = a + b; e2[tc] = a - b; e3[tc] = -b;
                }
            } else {
                for (long tc = 0; tc < tilesWide; tc++) {
                    const float a = 0, b = 0;
                    e0[tc] = a; e1[tc] = a + b; e2[tc] = a - b; e3[tc] = -b;
                }
            }
        }
    }
    /* A (∂L/∂Y Aᵀ), down each column j: rows u, u + l, u − l, −l. */
    for (long j = 0; j < 4; j++) {
        const float *restrict u = rows + (2 * j) * tiles, *restrict l = rows + (2 * j + 1) * tiles;
        float *restrict m0 = dm + j * stride, *restrict m1 = dm + (4 + j) * stride;
        float *restrict m2 = dm + (8 + j) * stride, *restrict m3 = dm + (12 + j) * stride;
        for (long t = 0; t < tiles; t++) {
            m0[t] = u[t]; m1[t] = u[t] + l[t]; m2[t] = u[t] - l[t]; m3[t] = -l[t];
        }
    }
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

/* o_i[m] = (Bᵀ d)[i] for the six rows of Bᵀ. */
#define B4_APPLY(o0, o1, o2, o3, o4, o5, m, d0, d1, d2, d3, d4, d5) \
    do {                                                             \
        (o0)[m] = B4_0(d0, d1, d2, d3, d4, d5);                      \
        (o1)[m] = B4_1(d0, d1, d2, d3, d4, d5);                      \
        (o2)[m] = B4_2(d0, d1, d2, d3, d4, d5);                      \
        (o3)[m] = B4_3(d0, d1, d2, d3, d4, d5);                      \
        (o4)[m] = B4_4(d0, d1, d2, d3, d4, d5);                      \
        (o5)[m] = B4_5(d0, d1, d2, d3, d4, d5);                      \
    } while (0)

/* Aᵀ m for m0 … m5. */
#define A4_0(m0, m1, m2, m3, m4, m5) ((m0) + (m1) + (m2) + (m3) + (m4))
#define A4_1(m0, m1, m2, m3, m4, m5) ((m1) - (m2) + 2 * (m3) - 2 * (m4))
#define A4_2(m0, m1, m2, m3, m4, m5) ((m1) + (m2) + 4 * (m3) + 4 * (m4))
#define A4_3(m0, m1, m2, m3, m4, m5) ((m1) - (m2) + 8 * (m3) - 8 * (m4) + (m5))

/* One padded row, `length` = 4·tilesWide values: out[c] = x's column c − 1 of `row` (0 for the
   left padding column and past the right edge), and the two values past them, tail[q] = padded
   column 4·tilesWide + q. A row outside 0 ..< height is a padding row: all zeros. `turned` reads
   the plane turned half a turn, x̃[r][c] = x[height − 1 − r][width − 1 − c] (the input gradient's
   convolution, Winograd.swift's `inputGradientFourByFour`), without making the turned plane. */
TUTOR_KERNEL_BODY void padded_row(const float *restrict x, long height, long width, long row, int turned, float *restrict out,
                                  long length, float *restrict tail) {
    if (row < 0 || row >= height) {
        for (long c = 0; c < length; c++) out[c] = 0;
        tail[0] = tail[1] = 0;
        return;
    }
    const float *restrict source = x + (turned ? height - 1 - row : row) * width;
    const long inside = width < length - 1 ? width : length - 1;          /* columns 1 … inside */
    out[0] = 0;
    if (turned) {
        for (long c = 1; c <= inside; c++) out[c] = source[width - c];
    } else {
        for (long c = 1; c <= inside; c++) out[c] = source[c - 1];
    }
    for (long c = inside + 1; c < length; c++) out[c] = 0;
    for (long q = 0; q < 2; q++) {
        const long column = length + q - 1;                                 /* x's column */
        tail[q] = column < width ? source[turned ? width - 1 - column : column] : 0;
    }
}

/* The four phases of `count` tiles' padded columns laid end to end, padded[4·i + q] → phase[q][i]:
   one flat loop whose four loads the compiler reads as one interleaved group. */
TUTOR_KERNEL_BODY void deinterleave_phases(const float *restrict padded, long count, float *restrict phase, long phaseStride) {
    float *restrict p0 = phase, *restrict p1 = phase + phaseStride, *restrict p2 = phase + 2 * phaseStride, *restrict p3 = phase + 3 * phaseStride;
    for (long i = 0; i < count; i++) {
        p0[i] = padded[4 * i];
        p1[i] = padded[4 * i + 1];
        p2[i] = padded[4 * i + 2];
        p3[i] = padded[4 * i + 3];
    }
}

/* F(4×4, 3×3)'s input transform V = Bᵀ d B of every 6×6 patch d (stride 4) of the padded planes
   of one channel in `images` images (plane n at x + n·imageStride), their tiles one after the
   other: tile t of image n is m = n·tilesPerImage + t, and position ξ of it sits at [ξ·stride + m].

   Two ways of running the loops, which compute every entry by the same formulas in the same
   order as one tile at a time would (so the same bits): a plane with 16 tiles or more goes
   alone (`winograd4_transform_plane_body`), smaller planes go together, all images at once
   (`winograd4_transform_images_body`), so that the loops are long enough for 16-float vectors
   (a 7 × 7 plane has 4 tiles; a batch of 8 has 32). */

/* (2) of both bodies below, for one group of padded rows laid end to end (`count` tiles, tile
   rows of `tilesWide`): h_j = B4_j(the tile's six values along the row), flat over the tiles,
   then the last tile of each tile row again with its tail. phase[q·stride + m] holds padded
   column 4·t + q of tile m; the 16 values past the end are zeroed for the reads one past it. */
TUTOR_KERNEL_BODY void rows_times_b(float *restrict phase, const float *restrict tails, float *restrict h, long stride,
                                    long count, long tilesWide) {
    for (long q = 0; q < 4; q++)
        for (long i = 0; i < 16; i++) phase[q * stride + count + i] = 0;
    const float *restrict p0 = phase, *restrict p1 = phase + stride, *restrict p2 = phase + 2 * stride, *restrict p3 = phase + 3 * stride;
    float *restrict h0 = h, *restrict h1 = h + stride, *restrict h2 = h + 2 * stride;
    float *restrict h3 = h + 3 * stride, *restrict h4 = h + 4 * stride, *restrict h5 = h + 5 * stride;
    for (long m = 0; m < count; m++) {
        const float d0 = p0[m], d1 = p1[m], d2 = p2[m], d3 = p3[m], d4 = p0[m + 1], d5 = p1[m + 1];
        B4_APPLY(h0, h1, h2, h3, h4, h5, m, d0, d1, d2, d3, d4, d5);
    }
    for (long tileRow = 0; tileRow < count / tilesWide; tileRow++) {
        const long m = tileRow * tilesWide + tilesWide - 1;
        const float *tail = tails + tileRow * 2;
        const float d0 = p0[m], d1 = p1[m], d2 = p2[m], d3 = p3[m], d4 = tail[0], d5 = tail[1];
        B4_APPLY(h0, h1, h2, h3, h4, h5, m, d0, d1, d2, d3, d4, d5);
    }
}

/* One plane, the loops over all its tiles at once. Padded row 4·T + k (k < 4) of tile row T is
   stored in group k at row T; a tile row's patch is then rows T of groups 0 … 3 and rows T + 1 of
   groups 0 and 1, at fixed distances in one flat index m = T·tilesWide + t. Along a row likewise:
   phase q holds padded columns 4·t + q, so tile t's six columns are phases 0 … 3 at t and phases
   0, 1 at t + 1 (at the row's end: its tail).

   (1) the phases of every padded row; (2) d B along each row, h_j = B4_j(row's six values);
   (3) Bᵀ (d B) down each column j, v[6·i + j] = B4_i(h_j of the patch's six rows). */
TUTOR_KERNEL_BODY void winograd4_transform_plane_body(const float *x, long height, long width, int turned, float *v, long stride) {
    const long tilesHigh = (height + 3) / 4, tilesWide = (width + 3) / 4;
    const long groupRows = tilesHigh + 1;                  /* rows T = 0 … tilesHigh of each group */
    const long groupSize = groupRows * tilesWide + 16;      /* + room for the reads one past the end */
    float *scratch = tutor_thread_scratch((size_t)(16 * groupSize + 8 * groupRows + 24 * groupSize + 4 * groupRows * tilesWide));
    float *phases = scratch;                               /* [q][k][T][t] */
    float *tails = phases + 16 * groupSize;                /* [k][T][2] */
    float *h = tails + 8 * groupRows;                      /* [j][k][T][t] */
    float *padded = h + 24 * groupSize;                    /* one group's padded rows [T][4·tilesWide] */
    for (long k = 0; k < 4; k++) {
        for (long T = 0; T < groupRows; T++) {             /* padded row 4·T + k is x's row 4·T + k − 1 */
            padded_row(x, height, width, 4 * T + k - 1, turned, padded + T * 4 * tilesWide, 4 * tilesWide, tails + (k * groupRows + T) * 2);
        }
        deinterleave_phases(padded, groupRows * tilesWide, phases + k * groupSize, 4 * groupSize);
        /* (2) d B along every padded row of the group. */
        rows_times_b(phases + k * groupSize, tails + k * groupRows * 2, h + k * groupSize, 4 * groupSize, groupRows * tilesWide, tilesWide);
    }
    /* (3) Bᵀ (d B) down each column j: rows T of groups 0 … 3, rows T + 1 of groups 0 and 1. */
    const long tiles = tilesHigh * tilesWide;
    for (long j = 0; j < 6; j++) {
        const float *restrict r0 = h + (j * 4 + 0) * groupSize, *restrict r1 = h + (j * 4 + 1) * groupSize;
        const float *restrict r2 = h + (j * 4 + 2) * groupSize, *restrict r3 = h + (j * 4 + 3) * groupSize;
        const float *restrict r4 = r0 + tilesWide, *restrict r5 = r1 + tilesWide;
        float *restrict v0 = v + (0 + j) * stride, *restrict v1 = v + (6 + j) * stride, *restrict v2 = v + (12 + j) * stride;
        float *restrict v3 = v + (18 + j) * stride, *restrict v4 = v + (24 + j) * stride, *restrict v5 = v + (30 + j) * stride;
        for (long m = 0; m < tiles; m++) {
            const float d0 = r0[m], d1 = r1[m], d2 = r2[m], d3 = r3[m], d4 = r4[m], d5 = r5[m];
            B4_APPLY(v0, v1, v2, v3, v4, v5, m, d0, d1, d2, d3, d4, d5);
        }
    }
}

/* Several small planes, the loops over the tiles of all of them. The spare row of each plane's
   groups above would break the flat index between images, so each of the patch's six rows has
   its own row set instead: set s holds padded row 4·T + s of every tile row, at the tile row's
   place m = (n·tilesHigh + T)·tilesWide (sets 4 and 5 repeat groups 0 and 1 one tile row down).
   Then (1), (2) and (3) as above, over all m. */
TUTOR_KERNEL_BODY void winograd4_transform_images_body(const float *x, long imageStride, long images, long height, long width,
                                                       int turned, float *v, long stride) {
    const long tilesHigh = (height + 3) / 4, tilesWide = (width + 3) / 4;
    const long tileRows = images * tilesHigh, count = tileRows * tilesWide;
    const long setSize = count + 16;                          /* + room for the reads one past the end */
    float *scratch = tutor_thread_scratch((size_t)(24 * setSize + 12 * tileRows + 36 * setSize + 4 * count));
    float *phases = scratch;                                  /* [q][s][m] */
    float *tails = phases + 24 * setSize;                     /* [s][tile row][2] */
    float *h = tails + 12 * tileRows;                         /* [j][s][m] */
    float *padded = h + 36 * setSize;                         /* one set's padded rows [tile row][4·tilesWide] */
    for (long s = 0; s < 6; s++) {
        for (long n = 0; n < images; n++) {
            for (long T = 0; T < tilesHigh; T++) {
                const long tileRow = n * tilesHigh + T;
                padded_row(x + n * imageStride, height, width, 4 * T + s - 1, turned, padded + tileRow * 4 * tilesWide, 4 * tilesWide,
                           tails + (s * tileRows + tileRow) * 2);
            }
        }
        deinterleave_phases(padded, count, phases + s * setSize, 6 * setSize);
        /* (2) d B along every padded row of the set. */
        rows_times_b(phases + s * setSize, tails + s * tileRows * 2, h + s * setSize, 6 * setSize, count, tilesWide);
    }
    /* (3) Bᵀ (d B) down each column j: the patch's six rows are the six row sets. */
    for (long j = 0; j < 6; j++) {
        const float *restrict r0 = h + (j * 6 + 0) * setSize, *restrict r1 = h + (j * 6 + 1) * setSize;
        const float *restrict r2 = h + (j * 6 + 2) * setSize, *restrict r3 = h + (j * 6 + 3) * setSize;
        const float *restrict r4 = h + (j * 6 + 4) * setSize, *restrict r5 = h + (j * 6 + 5) * setSize;
        float *restrict v0 = v + (0 + j) * stride, *restrict v1 = v + (6 + j) * stride, *restrict v2 = v + (12 + j) * stride;
        float *restrict v3 = v + (18 + j) * stride, *restrict v4 = v + (24 + j) * stride, *restrict v5 = v + (30 + j) * stride;
        for (long m = 0; m < count; m++) {
            const float d0 = r0[m], d1 = r1[m], d2 = r2[m], d3 = r3[m], d4 = r4[m], d5 = r5[m];
            B4_APPLY(v0, v1, v2, v3, v4, v5, m, d0, d1, d2, d3, d4, d5);
        }
    }
}
TUTOR_KERNEL_BODY void winograd4_transform_input_body(const float *x, long imageStride, long images, long height, long width,
                                                      int turned, float *v, long stride) {
    const long tilesPerImage = ((height + 3) / 4) * ((width + 3) / 4);
    if (tilesPerImage >= 16) {
        for (long n = 0; n < images; n++)
            winograd4_transform_plane_body(x + n * imageStride, height, width, turned, v + n * tilesPerImage, stride);
    } else {
        winograd4_transform_images_body(x, imageStride, images, height, width, turned, v, stride);
    }
}
TUTOR_VECTOR_KERNEL(tutor_winograd4_transform_input, winograd4_transform_input_body,
                    (const float *x, long imageStride, long images, long height, long width, int turned, float *v, long stride),
                    (x, imageStride, images, height, width, turned, v, stride))

/* F(4×4, 3×3)'s output transform: m[ξ·stride + t] → each tile's Aᵀ m A + bias, for the tiles of
   one channel in `images` images, one after the other (as the input transform lays them out),
   into the planes y + n·imageStride. (1) t[a][j][m] = (Aᵀ m)[a] down column j, flat over all
   tiles; (2) (Aᵀ m) A along each output row a, four columns per tile, one tile row after another;
   (3) each row copied into its plane, the rows and columns past an edge dropped (`turned`: into
   the plane turned half a turn, as the input transform read it). */
TUTOR_KERNEL_BODY void winograd4_transform_output_body(const float *m, long stride, long images, long height, long width,
                                                       float bias, int turned, float *y, long imageStride) {
    const long tilesHigh = (height + 3) / 4, tilesWide = (width + 3) / 4;
    const long tileRows = images * tilesHigh, count = tileRows * tilesWide;
    float *t = tutor_thread_scratch((size_t)(24 * count + 16 * count));
    float *outputRows = t + 24 * count;                        /* [a][m·4 + b] */
    for (long j = 0; j < 6; j++) {
        const float *restrict m0 = m + (0 + j) * stride, *restrict m1 = m + (6 + j) * stride, *restrict m2 = m + (12 + j) * stride;
        const float *restrict m3 = m + (18 + j) * stride, *restrict m4 = m + (24 + j) * stride, *restrict m5 = m + (30 + j) * stride;
        float *restrict t0 = t + (0 * 6 + j) * count, *restrict t1 = t + (1 * 6 + j) * count;
        float *restrict t2 = t + (2 * 6 + j) * count, *restrict t3 = t + (3 * 6 + j) * count;
        for (long i = 0; i < count; i++) {
            const float a0 = m0[i], a1 = m1[i], a2 = m2[i], a3 = m3[i], a4 = m4[i], a5 = m5[i];
            t0[i] = A4_0(a0, a1, a2, a3, a4, a5);
            t1[i] = A4_1(a0, a1, a2, a3, a4, a5);
            t2[i] = A4_2(a0, a1, a2, a3, a4, a5);
            t3[i] = A4_3(a0, a1, a2, a3, a4, a5);
        }
    }
    for (long a = 0; a < 4; a++) {
        const float *restrict c0 = t + (a * 6) * count, *restrict c1 = c0 + count, *restrict c2 = c0 + 2 * count;
        const float *restrict c3 = c0 + 3 * count, *restrict c4 = c0 + 4 * count, *restrict c5 = c0 + 5 * count;
        float *restrict out = outputRows + a * 4 * count;
        for (long i = 0; i < count; i++) {
            const float e0 = c0[i], e1 = c1[i], e2 = c2[i], e3 = c3[i], e4 = c4[i], e5 = c5[i];
            out[4 * i] = A4_0(e0, e1, e2, e3, e4, e5) + bias;
            out[4 * i + 1] = A4_1(e0, e1, e2, e3, e4, e5) + bias;
            out[4 * i + 2] = A4_2(e0, e1, e2, e3, e4, e5) + bias;
            out[4 * i + 3] = A4_3(e0, e1, e2, e3, e4, e5) + bias;
        }
    }
    for (long n = 0; n < images; n++) {
        for (long tr = 0; tr < tilesHigh; tr++) {
            for (long a = 0; a < 4 && 4 * tr + a < height; a++) {
                const float *restrict source = outputRows + a * 4 * count + (n * tilesHigh + tr) * tilesWide * 4;
                if (turned) {
                    float *restrict target = y + n * imageStride + (height - 1 - (4 * tr + a)) * width;
                    for (long c = 0; c < width; c++) target[width - 1 - c] = source[c];
                } else {
                    float *restrict target = y + n * imageStride + (4 * tr + a) * width;
                    for (long c = 0; c < width; c++) target[c] = source[c];
                }
            }
        }
    }
}
TUTOR_VECTOR_KERNEL(tutor_winograd4_transform_output, winograd4_transform_output_body,
                    (const float *m, long stride, long images, long height, long width, float bias, int turned, float *y, long imageStride),
                    (m, stride, images, height, width, bias, turned, y, imageStride))