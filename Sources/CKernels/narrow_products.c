/* C = A × B with few columns, A read in place (include/narrow_products.h), written once and
   compiled for SSE2, AVX2 and AVX-512F (vector_targets.h).

   A block of 8 rows by 32 columns of C stays in registers (16 vectors of 16 floats, two AVX-512
   registers' worth per row) while k runs over the inner dimension: each step loads two vectors
   of B's row k and multiplies them by the 8 entries A(r, k), one broadcast each. B's columns of
   the block (inner × 32 floats, 64 KiB for inner = 512) stay in cache for every block of rows;
   A goes through once per block of 32 columns, straight from where it lies. Blocks of 16 columns
   and single rows take what is left; the last columns (fewer than 16) are read from a copy padded
   with zeros to 16, so they too go 16 at a time (one at a time, each step of an entry's chain
   waited 4 cycles on the one before). A stored by columns (Aᵀ row-major, the input gradient's
   U[ξ]ᵀ) goes down the rows instead (`narrow_block_down_rows`): broadcasting A's entries there would take a new
   cache line for every k and use half of it.

   Unlike the element-wise kernels, these use fused multiply-adds (one rounding for a·b + c):
   on this work they run at about 1.4 times the speed of a product and a sum. The AVX2 and
   AVX-512F variants are compiled with FMA (vector_width.c chooses them only where the processor
   has it); the SSE2 variant gets the same operation from fmaf, slowly but with the same bits. */

#include "narrow_products.h"
#include "thread_scratch.h"
#include "vector_targets.h"
#include <math.h>

#pragma clang fp contract(off)

typedef float vector16 __attribute__((ext_vector_type(16)));

enum { ROWS = 8 };

/* Unaligned loads and stores of 16 floats (macros: a function taking a 16-float vector would
   have a different calling convention in each variant). */
#define LOAD16(target, p) __builtin_memcpy(&(target), (p), sizeof(vector16))
#define STORE16(p, value) do { const vector16 stored_ = (value); __builtin_memcpy((p), &stored_, sizeof(vector16)); } while (0)

/* `rowCount` (≤ ROWS) rows from r, `vectors` (1 or 2) vectors of 16 columns from j of C, read from
   column bj of B, whose rows are ldb apart. `stored` < 16 (one vector only): only the block's
   first `stored` columns are written. */
TUTOR_KERNEL_BODY void narrow_block(const float *restrict a, long rowStride, long innerStride, const float *restrict b, long ldb,
                                    long bj, float *restrict c, long columns, long inner, long r, long j, int rowCount, int vectors,
                                    int stored) {
    vector16 first[ROWS], second[ROWS];
    for (int i = 0; i < ROWS; i++) { first[i] = 0; second[i] = 0; }
    const float *restrict row = a + r * rowStride;
    for (long k = 0; k < inner; k++) {
        vector16 b0, b1;
        LOAD16(b0, b + k * ldb + bj);
        if (vectors == 2) LOAD16(b1, b + k * ldb + bj + 16); else b1 = b0;
        const float *restrict entries = row + k * innerStride;
        for (int i = 0; i < ROWS; i++) {
            if (i < rowCount) {
                const float entry = entries[i * rowStride];
                first[i] = __builtin_elementwise_fma((vector16)entry, b0, first[i]);
                if (vectors == 2) second[i] = __builtin_elementwise_fma((vector16)entry, b1, second[i]);
            }
        }
    }
    for (int i = 0; i < rowCount; i++) {
        if (stored < 16) {
            for (int t = 0; t < stored; t++) c[(r + i) * columns + j + t] = first[i][t];
            continue;
        }
        STORE16(c + (r + i) * columns + j, first[i]);
        if (vectors == 2) STORE16(c + (r + i) * columns + j + 16, second[i]);
    }
}

/* A stored [inner, rows] (entry (r, k) at a[k·lda + r]): the vectors run down the rows instead,
   16 or 32 rows by up to 8 columns, so that each step loads whole cache lines of A's row k and
   broadcasts the block's entries of B's row k. The inner dimension goes in panels of PANEL rows
   of A (contiguous: 128 KiB for 512 rows), every block of C through one panel before the next
   panel, so that A is read from memory in order, not in strips 2 KiB apart; each block's sums
   wait in `sums` between panels (a float stored and read back is the same float). The same chain
   of fused multiply-adds per entry as `narrow_block`, so the same bits. */
enum { PANEL = 64 };

TUTOR_KERNEL_BODY void narrow_block_down_rows(const float *restrict a, long lda, const float *restrict b, float *restrict sums,
                                              long columns, long from, long to, long r, long j, int vectors, int columnCount) {
    vector16 first[8], second[8];
    for (int t = 0; t < 8; t++) {
        if (from == 0) { first[t] = 0; second[t] = 0; }
        else { LOAD16(first[t], sums + (2 * t) * 16); LOAD16(second[t], sums + (2 * t + 1) * 16); }
    }
    for (long k = from; k < to; k++) {
        vector16 a0, a1;
        LOAD16(a0, a + k * lda + r);
        if (vectors == 2) LOAD16(a1, a + k * lda + r + 16); else a1 = a0;
        const float *restrict entries = b + k * columns + j;
        for (int t = 0; t < 8; t++) {
            if (t < columnCount) {
                const vector16 entry = (vector16)entries[t];
                first[t] = __builtin_elementwise_fma(a0, entry, first[t]);
                if (vectors == 2) second[t] = __builtin_elementwise_fma(a1, entry, second[t]);
            }
        }
    }
    for (int t = 0; t < 8; t++) { STORE16(sums + (2 * t) * 16, first[t]); STORE16(sums + (2 * t + 1) * 16, second[t]); }
}

/* C [rows, columns] from one block's sums, laid out [t][vector][16 lanes]: rows r … r + 16·vectors − 1,
   columns j … j + columnCount − 1. */
TUTOR_KERNEL_BODY void write_down_rows(const float *restrict sums, float *restrict c, long columns, long r, long j, int vectors,
                                       int columnCount) {
    for (int t = 0; t < columnCount; t++)
        for (int v = 0; v < vectors; v++)
            for (int i = 0; i < 16; i++) c[(r + 16 * v + i) * columns + j + t] = sums[(2 * t + v) * 16 + i];
}

/* One entry of C alone, the same chain in the same order: the rows and columns the blocks leave. */
TUTOR_KERNEL_BODY float one_entry(const float *a, long rowStride, long innerStride, const float *b, long columns, long inner,
                                  long r, long j) {
    float sum = 0;
    for (long k = 0; k < inner; k++) sum = fmaf(a[r * rowStride + k * innerStride], b[k * columns + j], sum);
    return sum;
}

/* `wide`: the AVX-512 variant's blocks (32 registers of 16 floats); the others take blocks a
   quarter the size (AVX2's 16 registers of 8 floats hold a quarter as much), so that their sums
   stay in registers too. The block sizes change which entries are computed together, never how
   one is computed. */
TUTOR_KERNEL_BODY void multiply_narrow_body(const float *a, long rowStride, long innerStride, const float *b, float *c,
                                            long rows, long inner, long columns, int wide) {
    if (inner == 0) {
        for (long i = 0; i < rows * columns; i++) c[i] = 0;
        return;
    }
    if (rowStride == 1 && innerStride >= rows) {
        /* Blocks of 32 rows (16 where fewer are left, or not `wide`) by `blockColumns` columns;
           block b and columns j … keep their sums at sums + (b·columnBlocks + j/blockColumns)·256. */
        const int blockColumns = wide ? 8 : 4;
        const long rowBlocks = wide ? (rows / 16 + 1) / 2 : rows / 16, columnBlocks = (columns + blockColumns - 1) / blockColumns;
        float *sums = tutor_thread_scratch((size_t)(rowBlocks * columnBlocks * 256));
        for (long from = 0; from < inner; from += PANEL) {
            const long to = from + PANEL < inner ? from + PANEL : inner;
            /* The next panel, asked for in order, a share before each block of rows: A then comes
               from memory as one stream, not as strips 2 KiB apart. */
            const char *next = (const char *)(a + to * innerStride);
            const long nextBytes = to < inner ? ((to + PANEL < inner ? PANEL : inner - to) * innerStride) * (long)sizeof(float) : 0;
            const long share = rowBlocks > 0 ? (nextBytes / 64 + rowBlocks - 1) / rowBlocks : 0;
            for (long block = 0, r = 0; r + 16 <= rows; block++) {
                const int vectors = wide && r + 32 <= rows ? 2 : 1;
                for (long line = block * share; line < (block + 1) * share && line * 64 < nextBytes; line++)
                    __builtin_prefetch(next + line * 64, 0, 2);
                long j = 0;
                for (; j + blockColumns <= columns; j += blockColumns) {
                    float *blockSums = sums + (block * columnBlocks + j / blockColumns) * 256;
                    if (vectors == 2) narrow_block_down_rows(a, innerStride, b, blockSums, columns, from, to, r, j, 2, 8);
                    else if (wide) narrow_block_down_rows(a, innerStride, b, blockSums, columns, from, to, r, j, 1, 8);
                    else narrow_block_down_rows(a, innerStride, b, blockSums, columns, from, to, r, j, 1, 4);
                    if (to == inner) write_down_rows(blockSums, c, columns, r, j, vectors, blockColumns);
                }
                if (j < columns) {
                    float *blockSums = sums + (block * columnBlocks + j / blockColumns) * 256;
                    narrow_block_down_rows(a, innerStride, b, blockSums, columns, from, to, r, j, vectors, (int)(columns - j));
                    if (to == inner) write_down_rows(blockSums, c, columns, r, j, vectors, (int)(columns - j));
                }
                r += 16 * vectors;
            }
        }
        for (long r = rows - rows % 16; r < rows; r++)
            for (long j = 0; j < columns; j++) c[r * columns + j] = one_entry(a, rowStride, innerStride, b, columns, inner, r, j);
        return;
    }
    long j = 0;
    if (wide) {
        for (; j + 32 <= columns; j += 32) {
            long r = 0;
            for (; r + ROWS <= rows; r += ROWS) narrow_block(a, rowStride, innerStride, b, columns, j, c, columns, inner, r, j, ROWS, 2, 16);
            for (; r < rows; r++) narrow_block(a, rowStride, innerStride, b, columns, j, c, columns, inner, r, j, 1, 2, 16);
        }
    }
    /* The last columns (fewer than 16) from a copy padded with zeros to 16: the same chain per
       entry as a whole block, instead of one entry at a time. */
    const long whole = columns - (columns - j) % 16;
    const int left = (int)(columns - whole);
    float *padded = 0;
    if (left > 0) {
        padded = tutor_thread_scratch((size_t)(inner * 16));
        for (long k = 0; k < inner; k++)
            for (int t = 0; t < 16; t++) padded[k * 16 + t] = t < left ? b[k * columns + whole + t] : 0;
    }
    for (; j < columns; j += 16) {
        const int stored = j < whole ? 16 : left;
        const float *source = j < whole ? b : padded;
        const long ldb = j < whole ? columns : 16, bj = j < whole ? j : 0;
        long r = 0;
        if (wide) {
            for (; r + ROWS <= rows; r += ROWS) narrow_block(a, rowStride, innerStride, source, ldb, bj, c, columns, inner, r, j, ROWS, 1, stored);
        } else {
            for (; r + 4 <= rows; r += 4) narrow_block(a, rowStride, innerStride, source, ldb, bj, c, columns, inner, r, j, 4, 1, stored);
        }
        for (; r < rows; r++) narrow_block(a, rowStride, innerStride, source, ldb, bj, c, columns, inner, r, j, 1, 1, stored);
    }
}
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f,fma"))) static void multiply_narrow_avx512(const float *a, long rowStride, long innerStride, const float *b,
                                                                          float *c, long rows, long inner, long columns) {
    multiply_narrow_body(a, rowStride, innerStride, b, c, rows, inner, columns, 1);
}
__attribute__((target("avx2,fma"))) static void multiply_narrow_avx2(const float *a, long rowStride, long innerStride, const float *b,
                                                                    float *c, long rows, long inner, long columns) {
    multiply_narrow_body(a, rowStride, innerStride, b, c, rows, inner, columns, 0);
}
static void multiply_narrow_sse(const float *a, long rowStride, long innerStride, const float *b, float *c, long rows, long inner,
                                long columns) {
    multiply_narrow_body(a, rowStride, innerStride, b, c, rows, inner, columns, 0);
}
void tutor_multiply_narrow(const float *a, long rowStride, long innerStride, const float *b, float *c, long rows, long inner, long columns) {
    static void (*const variants[TUTOR_VECTOR_WIDTH_COUNT])(const float *, long, long, const float *, float *, long, long, long) = {
        multiply_narrow_sse, multiply_narrow_avx2, multiply_narrow_avx512};
    variants[tutor_vector_width()](a, rowStride, innerStride, b, c, rows, inner, columns);
}
#else
void tutor_multiply_narrow(const float *a, long rowStride, long innerStride, const float *b, float *c, long rows, long inner, long columns) {
    multiply_narrow_body(a, rowStride, innerStride, b, c, rows, inner, columns, 0);
}
#endif
