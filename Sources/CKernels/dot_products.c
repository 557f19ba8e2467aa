/* C = A × Bᵀ by dot products of rows, A and B read in place (include/dot_products.h), written once
   and compiled for SSE2, AVX2 and AVX-512F.

   A block of ROWS rows of A by COLUMNS rows of B keeps its ROWS · COLUMNS sums in registers, 16
   lanes each (28 AVX-512 registers for the 4 × 7 block), while k runs over the inner dimension
   16 at a time: each step loads 16 floats of each of the block's rows of A and B and does one
   fused multiply-add per pair. B's rows (49 × 4608 floats, 0.9 MB, for a 7 × 7 plane) stay in
   the second-level cache for every block of rows; A goes through once, straight from memory.
   Blocks that run past the last rows or columns take fewer of them; which entries are computed
   together never changes how one is computed. */

#include "dot_products.h"
#include "vector_targets.h"
#include <math.h>

#pragma clang fp contract(off)

typedef float vector16 __attribute__((ext_vector_type(16)));
typedef float vector8 __attribute__((ext_vector_type(8)));
typedef float vector4 __attribute__((ext_vector_type(4)));
typedef float vector2 __attribute__((ext_vector_type(2)));

enum { MAX_ROWS = 4, MAX_COLUMNS = 7 };

#define LOAD16(target, p) __builtin_memcpy(&(target), (p), sizeof(vector16))

/* The fixed tree of the header: lanes (l, l + 8), then (l, l + 4), (l, l + 2), (l, l + 1). (By
   pointer: a 16-float vector argument would have a different calling convention in each variant.) */
TUTOR_KERNEL_BODY float lane_total(const vector16 *lanes) {
    const vector8 eight = lanes->lo + lanes->hi;
    const vector4 four = eight.lo + eight.hi;
    const vector2 two = four.lo + four.hi;
    return two.x + two.y;
}

/* rowCount (≤ MAX_ROWS) rows of C from r, columnCount (≤ MAX_COLUMNS) columns from j. */
TUTOR_KERNEL_BODY void dot_block(const float *restrict a, const float *restrict b, float *restrict c, long ldc, long inner,
                                 long r, long j, int rowCount, int columnCount) {
    vector16 sums[MAX_ROWS][MAX_COLUMNS];
    for (int i = 0; i < MAX_ROWS; i++)
        for (int t = 0; t < MAX_COLUMNS; t++) sums[i][t] = 0;
    const long whole = inner / 16 * 16;
    for (long k = 0; k < whole; k += 16) {
        vector16 rowsOfA[MAX_ROWS];
        for (int i = 0; i < MAX_ROWS; i++)
            if (i < rowCount) LOAD16(rowsOfA[i], a + (r + i) * inner + k);
        for (int t = 0; t < MAX_COLUMNS; t++) {
            if (t < columnCount) {
                vector16 rowOfB;
                LOAD16(rowOfB, b + (j + t) * inner + k);
                for (int i = 0; i < MAX_ROWS; i++)
                    if (i < rowCount) sums[i][t] = __builtin_elementwise_fma(rowsOfA[i], rowOfB, sums[i][t]);
            }
        }
    }
    for (int i = 0; i < rowCount; i++) {
        for (int t = 0; t < columnCount; t++) {
            /* The last inner % 16 terms, each into its lane (k ≡ l), in the order of k. */
            for (long k = whole; k < inner; k++)
                sums[i][t][k - whole] = fmaf(a[(r + i) * inner + k], b[(j + t) * inner + k], sums[i][t][k - whole]);
            c[(r + i) * ldc + j + t] = lane_total(&sums[i][t]);
        }
    }
}

/* `wide`: AVX-512's 32 registers hold the 4 × 7 block; AVX2's 16 registers of 8 floats (and
   SSE2's) take 2 × 2 blocks, so that their sums stay in registers too. */
TUTOR_KERNEL_BODY void multiply_dot_rows_body(const float *a, const float *b, float *c, long ldc, long columns, long inner,
                                              long rowFrom, long rowTo, int wide) {
    const int blockRows = wide ? 4 : 2, blockColumns = wide ? 7 : 2;
    for (long r = rowFrom; r < rowTo; r += blockRows) {
        const int rowCount = rowTo - r < blockRows ? (int)(rowTo - r) : blockRows;
        long j = 0;
        if (wide && rowCount == 4) {
            for (; j + 7 <= columns; j += 7) dot_block(a, b, c, ldc, inner, r, j, 4, 7);
        } else if (!wide && rowCount == 2) {
            for (; j + 2 <= columns; j += 2) dot_block(a, b, c, ldc, inner, r, j, 2, 2);
        }
        for (; j < columns; j++) {
            for (int i = 0; i < rowCount; i++) dot_block(a, b, c, ldc, inner, r + i, j, 1, 1);
        }
    }
}

TUTOR_BLOCKED_VECTOR_KERNEL(tutor_multiply_dot_rows, multiply_dot_rows_body,
                            (const float *a, const float *b, float *c, long ldc, long columns, long inner, long rowFrom,
                             long rowTo),
                            (a, b, c, ldc, columns, inner, rowFrom, rowTo))

/* A copy: no arithmetic, so one variant serves every width. Each position finds once where its
   k·k taps lie in a plane (offsets[t], or −1 in the padding); every channel then reads the same
   taps from its own plane. (A per-tap loop of k values made the compiler call memcpy and memset
   for three floats at a time, and most of the kernel's time went into those calls.) */

enum { MAX_TABLED_TAPS = 64 };

static inline void copy_taps(const float *restrict plane, float *restrict row, const long *restrict offsets, long taps,
                             long channels, long planeSize) {
    for (long c = 0; c < channels; c++, plane += planeSize, row += taps) {
        for (long t = 0; t < taps; t++) row[t] = offsets[t] >= 0 ? plane[offsets[t]] : 0.0f;
    }
}

void tutor_im2col_rows(const float *x, float *columnsT, long channels, long height, long width, long kernel, long stride,
                       long padding, long outputHeight, long outputWidth, long positionFrom, long positionTo) {
    (void)outputHeight;
    const long taps = kernel * kernel, patch = channels * taps, planeSize = height * width;
    for (long position = positionFrom; position < positionTo; position++) {
        const long i = position / outputWidth, j = position % outputWidth;
        float *row = columnsT + position * patch;
        if (taps > MAX_TABLED_TAPS) {
            for (long c = 0; c < channels; c++) {
                for (long u = 0; u < kernel; u++) {
                    for (long v = 0; v < kernel; v++, row++) {
                        const long y = i * stride + u - padding, xx = j * stride + v - padding;
                        *row = y >= 0 && y < height && xx >= 0 && xx < width ? x[c * planeSize + y * width + xx] : 0.0f;
                    }
                }
            }
            continue;
        }
        long offsets[MAX_TABLED_TAPS];
        for (long u = 0; u < kernel; u++) {
            for (long v = 0; v < kernel; v++) {
                const long y = i * stride + u - padding, xx = j * stride + v - padding;
                offsets[u * kernel + v] = y >= 0 && y < height && xx >= 0 && xx < width ? y * width + xx : -1;
            }
        }
        /* The 3 × 3 case with its tap count known, so that the copy is unrolled. */
        if (taps == 9) copy_taps(x, row, offsets, 9, channels, planeSize);
        else copy_taps(x, row, offsets, taps, channels, planeSize);
    }
}
