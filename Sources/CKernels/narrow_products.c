/* C = A × B with few columns, A read in place (include/narrow_products.h), written once and
   compiled for SSE2, AVX2 and AVX-512F (vector_targets.h).

   A block of 8 rows by 32 columns of C stays in registers (16 vectors of 16 floats, two AVX-512
   registers' worth per row) while k runs over the inner dimension: each step loads two vectors
   of B's row k and multiplies them by the 8 entries A(r, k), one broadcast each. B's columns of
   the block (inner × 32 floats, 64 KiB for inner = 512) stay in cache for every block of rows;
   A goes through once per block of 32 columns, straight from where it lies. Blocks of 16 columns
   and single rows take what is left; the last columns (fewer than 16) go one entry at a time, in
   the same order of k.

   Unlike the element-wise kernels, these use fused multiply-adds (one rounding for a·b + c):
   on this work they run at about 1.4 times the speed of a product and a sum. The AVX2 and
   AVX-512F variants are compiled with FMA (vector_width.c chooses them only where the processor
   has it); the SSE2 variant gets the same operation from fmaf, slowly but with the same bits. */

#include "narrow_products.h"
#include "vector_targets.h"
#include <math.h>

#pragma clang fp contract(off)

typedef float vector16 __attribute__((ext_vector_type(16)));

enum { ROWS = 8 };

/* Unaligned loads and stores of 16 floats (macros: a function taking a 16-float vector would
   have a different calling convention in each variant). */
#define LOAD16(target, p) __builtin_memcpy(&(target), (p), sizeof(vector16))
#define STORE16(p, value) do { const vector16 stored_ = (value); __builtin_memcpy((p), &stored_, sizeof(vector16)); } while (0)

/* `rowCount` (≤ ROWS) rows from r, `vectors` (1 or 2) vectors of 16 columns from j. */
TUTOR_KERNEL_BODY void narrow_block(const float *restrict a, long rowStride, long innerStride, const float *restrict b,
                                    float *restrict c, long columns, long inner, long r, long j, int rowCount, int vectors) {
    vector16 first[ROWS], second[ROWS];
    for (int i = 0; i < ROWS; i++) { first[i] = 0; second[i] = 0; }
    const float *restrict row = a + r * rowStride;
    for (long k = 0; k < inner; k++) {
        vector16 b0, b1;
        LOAD16(b0, b + k * columns + j);
        if (vectors == 2) LOAD16(b1, b + k * columns + j + 16); else b1 = b0;
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
        STORE16(c + (r + i) * columns + j, first[i]);
        if (vectors == 2) STORE16(c + (r + i) * columns + j + 16, second[i]);
    }
}

TUTOR_KERNEL_BODY void multiply_narrow_body(const float *a, long rowStride, long innerStride, const float *b, float *c,
                                            long rows, long inner, long columns) {
    long j = 0;
    for (; j + 32 <= columns; j += 32) {
        long r = 0;
        for (; r + ROWS <= rows; r += ROWS) narrow_block(a, rowStride, innerStride, b, c, columns, inner, r, j, ROWS, 2);
        for (; r < rows; r++) narrow_block(a, rowStride, innerStride, b, c, columns, inner, r, j, 1, 2);
    }
    for (; j + 16 <= columns; j += 16) {
        long r = 0;
        for (; r + ROWS <= rows; r += ROWS) narrow_block(a, rowStride, innerStride, b, c, columns, inner, r, j, ROWS, 1);
        for (; r < rows; r++) narrow_block(a, rowStride, innerStride, b, c, columns, inner, r, j, 1, 1);
    }
    for (; j < columns; j++) {
        for (long r = 0; r < rows; r++) {
            float sum = 0;
            for (long k = 0; k < inner; k++) sum = fmaf(a[r * rowStride + k * innerStride], b[k * columns + j], sum);
            c[r * columns + j] = sum;
        }
    }
}
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f,fma"))) static void multiply_narrow_avx512(const float *a, long rowStride, long innerStride, const float *b,
                                                                          float *c, long rows, long inner, long columns) {
    multiply_narrow_body(a, rowStride, innerStride, b, c, rows, inner, columns);
}
__attribute__((target("avx2,fma"))) static void multiply_narrow_avx2(const float *a, long rowStride, long innerStride, const float *b,
                                                                    float *c, long rows, long inner, long columns) {
    multiply_narrow_body(a, rowStride, innerStride, b, c, rows, inner, columns);
}
static void multiply_narrow_sse(const float *a, long rowStride, long innerStride, const float *b, float *c, long rows, long inner,
                                long columns) {
    multiply_narrow_body(a, rowStride, innerStride, b, c, rows, inner, columns);
}
void tutor_multiply_narrow(const float *a, long rowStride, long innerStride, const float *b, float *c, long rows, long inner, long columns) {
    static void (*const variants[TUTOR_VECTOR_WIDTH_COUNT])(const float *, long, long, const float *, float *, long, long, long) = {
        multiply_narrow_sse, multiply_narrow_avx2, multiply_narrow_avx512};
    variants[tutor_vector_width()](a, rowStride, innerStride, b, c, rows, inner, columns);
}
#else
void tutor_multiply_narrow(const float *a, long rowStride, long innerStride, const float *b, float *c, long rows, long inner, long columns) {
    multiply_narrow_body(a, rowStride, innerStride, b, c, rows, inner, columns);
}
#endif
