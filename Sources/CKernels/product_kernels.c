/* A·Bᵀ by dot products of rows (include/product_kernels.h), written once and compiled for SSE2,
   AVX2 and AVX-512F (vector_targets.h). */

#include "product_kernels.h"
#include "thread_scratch.h"
#include "vector_targets.h"
#include <stdlib.h>
#include <string.h>

#pragma clang fp contract(off)

enum { LANES = 16, CHUNK = 512 };   /* CHUNK: a multiple of LANES whose rows of A and B stay in cache */

/* The lanes of a 4 × 4 block of sums over p in [from, to), to − from a multiple of LANES and
   from ≡ 0 (mod LANES), so that lane l takes p ≡ l: sums[(i·n + j)·LANES + l]. */
TUTOR_KERNEL_BODY void block_four_by_four(const float *restrict a, long lda, const float *restrict b, long ldb,
                                          float *restrict sums, long n, long from, long to) {
    float acc[4][4][LANES];
    for (long i = 0; i < 4; i++)
        for (long j = 0; j < 4; j++)
            for (long l = 0; l < LANES; l++) acc[i][j][l] = sums[(i * n + j) * LANES + l];
    for (long p = from; p < to; p += LANES) {
        for (long i = 0; i < 4; i++) {
            const float *restrict row = a + i * lda + p;
            for (long j = 0; j < 4; j++) {
                const float *restrict column = b + j * ldb + p;
                for (long l = 0; l < LANES; l++) acc[i][j][l] += row[l] * column[l];
            }
        }
    }
    for (long i = 0; i < 4; i++)
        for (long j = 0; j < 4; j++)
            for (long l = 0; l < LANES; l++) sums[(i * n + j) * LANES + l] = acc[i][j][l];
}

/* One sum's lanes over p in [from, to), from ≡ 0 (mod LANES): the same lanes, the same order. */
TUTOR_KERNEL_BODY void one_sum(const float *restrict row, const float *restrict column, float *restrict lanes,
                               long from, long to) {
    long p = from;
    for (; p + LANES <= to; p += LANES)
        for (long l = 0; l < LANES; l++) lanes[l] += row[p + l] * column[p + l];
    for (; p < to; p++) lanes[p % LANES] += row[p] * column[p];
}

TUTOR_KERNEL_BODY void rows_dot_rows_body(const float *a, long lda, const float *b, long ldb, float *c, long ldc,
                                          long m, long jFrom, long jTo, long k, float beta) {
    const long n = jTo - jFrom;
    if (m <= 0 || n <= 0) return;
    float *sums = tutor_thread_scratch((size_t)(m * n * LANES));
    memset(sums, 0, sizeof(float) * (size_t)(m * n * LANES));
    const float *bRows = b + jFrom * ldb;
    for (long start = 0; start < k; start += CHUNK) {
        const long end = start + CHUNK < k ? start + CHUNK : k;
        const long whole = start + (end - start) / LANES * LANES;
        for (long i = 0; i < m; i += 4) {
            for (long j = 0; j < n; j += 4) {
                if (i + 4 <= m && j + 4 <= n) {
                    block_four_by_four(a + i * lda, lda, bRows + j * ldb, ldb, sums + (i * n + j) * LANES, n, start, whole);
                    for (long bi = i; bi < i + 4; bi++)
                        for (long bj = j; bj < j + 4; bj++)
                            one_sum(a + bi * lda, bRows + bj * ldb, sums + (bi * n + bj) * LANES, whole, end);
                } else {
                    for (long bi = i; bi < i + 4 && bi < m; bi++)
                        for (long bj = j; bj < j + 4 && bj < n; bj++)
                            one_sum(a + bi * lda, bRows + bj * ldb, sums + (bi * n + bj) * LANES, start, end);
                }
            }
        }
    }
    for (long i = 0; i < m; i++) {
        for (long j = 0; j < n; j++) {
            const float *lanes = sums + (i * n + j) * LANES;
            float total = 0;
            for (long l = 0; l < LANES; l++) total += lanes[l];
            float *entry = c + i * ldc + jFrom + j;
            *entry = beta == 0 ? total : beta * *entry + total;
        }
    }
}
TUTOR_VECTOR_KERNEL(tutor_rows_dot_rows, rows_dot_rows_body,
                    (const float *a, long lda, const float *b, long ldb, float *c, long ldc, long m, long jFrom,
                     long jTo, long k, float beta),
                    (a, lda, b, ldb, c, ldc, m, jFrom, jTo, k, beta))

/* Sixteen and four Doubles as one value each: the compiler splits them into the registers of the
   width the function is compiled for (two AVX-512, four AVX2 or eight SSE2 registers), the
   same element-wise operations at every width. */
typedef double sixteen_doubles __attribute__((vector_size(128)));
typedef double four_doubles __attribute__((vector_size(32)));

TUTOR_KERNEL_BODY void subtracting_dot_body(double start, const double *restrict a, const double *restrict b, long count,
                                            double *result) {
    sixteen_doubles sums = {0}, left, right;
    long k = 0;
    for (; k + 16 <= count; k += 16) {
        memcpy(&left, a + k, sizeof left);
        memcpy(&right, b + k, sizeof right);
        sums += left * right;
    }
    four_doubles first = __builtin_shufflevector(sums, sums, 0, 1, 2, 3), leftFour, rightFour;
    for (; k + 4 <= count; k += 4) {
        memcpy(&leftFour, a + k, sizeof leftFour);
        memcpy(&rightFour, b + k, sizeof rightFour);
        first += leftFour * rightFour;
    }
    const four_doubles lanes = (first + __builtin_shufflevector(sums, sums, 4, 5, 6, 7))
        + (__builtin_shufflevector(sums, sums, 8, 9, 10, 11) + __builtin_shufflevector(sums, sums, 12, 13, 14, 15));
    double total = start - ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]));
    for (; k < count; k++) total -= a[k] * b[k];
    *result = total;
}
TUTOR_VECTOR_KERNEL(tutor_subtracting_dot, subtracting_dot_body,
                    (double start, const double *a, const double *b, long count, double *result),
                    (start, a, b, count, result))
