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

/* Three of the above with one a: each b_c's sums in exactly the order of one
   tutor_subtracting_dot, a read once for the three. */
TUTOR_KERNEL_BODY void subtracting_dots3_body(const double *starts, const double *restrict a, const double *restrict b0,
                                              const double *restrict b1, const double *restrict b2, long count,
                                              double *results) {
    const double *const b[3] = {b0, b1, b2};
    sixteen_doubles sums[3] = {{0}, {0}, {0}}, left, right;
    long k = 0;
    for (; k + 16 <= count; k += 16) {
        memcpy(&left, a + k, sizeof left);
        for (int c = 0; c < 3; c++) {
            memcpy(&right, b[c] + k, sizeof right);
            sums[c] += left * right;
        }
    }
    four_doubles first[3], leftFour, rightFour;
    for (int c = 0; c < 3; c++) first[c] = __builtin_shufflevector(sums[c], sums[c], 0, 1, 2, 3);
    for (; k + 4 <= count; k += 4) {
        memcpy(&leftFour, a + k, sizeof leftFour);
        for (int c = 0; c < 3; c++) {
            memcpy(&rightFour, b[c] + k, sizeof rightFour);
            first[c] += leftFour * rightFour;
        }
    }
    for (int c = 0; c < 3; c++) {
        const four_doubles lanes = (first[c] + __builtin_shufflevector(sums[c], sums[c], 4, 5, 6, 7))
            + (__builtin_shufflevector(sums[c], sums[c], 8, 9, 10, 11) + __builtin_shufflevector(sums[c], sums[c], 12, 13, 14, 15));
        double total = starts[c] - ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]));
        for (long t = k; t < count; t++) total -= a[t] * b[c][t];
        results[c] = total;
    }
}
TUTOR_VECTOR_KERNEL(tutor_subtracting_dots3, subtracting_dots3_body,
                    (const double *starts, const double *a, const double *b0, const double *b1, const double *b2, long count,
                     double *results),
                    (starts, a, b0, b1, b2, count, results))

/* The back substitution's update of three right-hand sides (tutor_subtract_scaled3): element
   by element, each product rounded and then subtracted, as the scalar loop does it. */
TUTOR_KERNEL_BODY void subtract_scaled3_body(const double *restrict l, const double *scales, double *restrict y0, double *restrict y1,
                                             double *restrict y2, long count) {
    const double u0 = scales[0], u1 = scales[1], u2 = scales[2];
    for (long k = 0; k < count; k++) {
        const double lk = l[k];
        y0[k] -= lk * u0;
        y1[k] -= lk * u1;
        y2[k] -= lk * u2;
    }
}
TUTOR_VECTOR_KERNEL(tutor_subtract_scaled3, subtract_scaled3_body,
                    (const double *l, const double *scales, double *y0, double *y1, double *y2, long count),
                    (l, scales, y0, y1, y2, count))

/* One block of the skyline Cholesky (tutor_skyline_cholesky_block, include/product_kernels.h).
   On AVX-512 two rows' eight sums of eight lanes are eight registers; narrower registers take
   one row at a time, which changes which sums are in flight, never how one is taken. Unused
   rows and columns of a partial block read row 0 or column 0 again (in range), and their sums
   are dropped. */
typedef double eight_doubles __attribute__((vector_size(64)));

/* [x₀ + x₁, x₂ + x₃, x₄ + x₅, x₆ + x₇, y₀ + y₁, …, y₆ + y₇]: one level of the lanes' fixed tree
   for two sums at once. */
#define pairwise(x, y) \
    (__builtin_shufflevector((x), (y), 0, 2, 4, 6, 8, 10, 12, 14) + __builtin_shufflevector((x), (y), 1, 3, 5, 7, 9, 11, 13, 15))

/* sums[r][c] for rows r = firstRow … firstRow + rowCount − 1 (rowCount 1 or 2) and c = 0 … 3. */
TUTOR_KERNEL_BODY void block_sums(const double *const a[4], const double *const b[4], long count, double sums[4][4],
                                  long firstRow, long rowCount) {
    eight_doubles acc[2][4];
    for (long r = 0; r < rowCount; r++)
        for (long c = 0; c < 4; c++) acc[r][c] = (eight_doubles){0};
    long k = 0;
    for (; k + 8 <= count; k += 8) {
        for (long r = 0; r < rowCount; r++) {
            eight_doubles left;
            memcpy(&left, a[firstRow + r] + k, sizeof left);
            for (long c = 0; c < 4; c++) {
                eight_doubles right;
                memcpy(&right, b[c] + k, sizeof right);
                acc[r][c] = __builtin_elementwise_fma(left, right, acc[r][c]);
            }
        }
    }
    if (k + 4 <= count) {
        for (long r = 0; r < rowCount; r++)
            for (long c = 0; c < 4; c++)
                for (long l = 0; l < 4; l++)
                    acc[r][c][l] = __builtin_elementwise_fma(a[firstRow + r][k + l], b[c][k + l], acc[r][c][l]);
        k += 4;
    }
    /* ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)) for the sums at once, in three levels. */
    const eight_doubles firstRowSums = pairwise(pairwise(acc[0][0], acc[0][1]), pairwise(acc[0][2], acc[0][3]));
    const eight_doubles total = pairwise(firstRowSums, rowCount == 2
        ? pairwise(pairwise(acc[1][0], acc[1][1]), pairwise(acc[1][2], acc[1][3])) : firstRowSums);
    for (long r = 0; r < rowCount; r++)
        for (long c = 0; c < 4; c++) {
            double sum = total[4 * r + c];
            for (long t = k; t < count; t++) sum = __builtin_elementwise_fma(a[firstRow + r][t], b[c][t], sum);
            sums[firstRow + r][c] = sum;
        }
}

TUTOR_KERNEL_BODY void skyline_block_body(double *const rowsOfI[4], const double *const rowsOfJ[4], long count, long rows,
                                          long columns, int diagonal, int wide) {
    const double *a[4], *b[4];
    for (long s = 0; s < 4; s++) {
        a[s] = rowsOfI[s < rows ? s : 0];
        b[s] = rowsOfJ[s < columns ? s : 0];
    }
    double sums[4][4];
    if (wide) {
        block_sums(a, b, count, sums, 0, 2);
        block_sums(a, b, count, sums, 2, 2);
    } else {
        for (long r = 0; r < 4; r++) block_sums(a, b, count, sums, r, 1);
    }
    if (rows == 4 && columns == 4 && !diagonal) {
        /* The common case, with constant bounds: the block stays in registers, and the four rows'
           divisions of one column overlap. */
        double column[4][4];                                        /* column[c][r] = L_{i₀+r, j₀+c} */
        for (long c = 0; c < 4; c++) {
            const double *restrict rowJ = rowsOfJ[c] + count;          /* L_{j₀+c, j₀+t} = rowJ[t] */
            for (long r = 0; r < 4; r++) column[c][r] = rowsOfI[r][count + c] - sums[r][c];
            for (long t = 0; t < c; t++)
                for (long r = 0; r < 4; r++) column[c][r] -= column[t][r] * rowJ[t];
            for (long r = 0; r < 4; r++) column[c][r] /= rowJ[c];
        }
        for (long r = 0; r < 4; r++)
            for (long c = 0; c < 4; c++) rowsOfI[r][count + c] = column[c][r];
        return;
    }
    /* On the diagonal, row j₀ + c of J is row i₀ + c of I: L_jj is written (r = c) before the rows
       below read it, so these pointers may alias. */
    for (long c = 0; c < columns; c++) {
        const double *rowJ = rowsOfJ[c] + count;
        for (long r = diagonal ? c : 0; r < rows; r++) {
            double *rowI = rowsOfI[r] + count;
            double total = rowI[c] - sums[r][c];
            for (long t = 0; t < c; t++) total -= rowI[t] * rowJ[t];
            rowI[c] = diagonal && r == c ? __builtin_sqrt(total) : total / rowJ[c];
        }
    }
}
TUTOR_BLOCKED_VECTOR_KERNEL(tutor_skyline_cholesky_block, skyline_block_body,
                            (double *const rowsOfI[4], const double *const rowsOfJ[4], long count, long rows, long columns,
                             int diagonal),
                            (rowsOfI, rowsOfJ, count, rows, columns, diagonal))
