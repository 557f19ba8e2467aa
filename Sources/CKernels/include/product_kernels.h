#ifndef TUTOR_PRODUCT_KERNELS_H
#define TUTOR_PRODUCT_KERNELS_H

/* C[i][j] = β·C[i][j] + Σ_p A[i][p]·B[j][p] for 0 ≤ i < m and jFrom ≤ j < jTo: C = A·Bᵀ with
   A [m, k] and B [n, k] both stored by rows (leading dimensions lda, ldb, ldc), as dot products
   of rows. Each sum keeps 16 partial sums, lane l taking the terms p ≡ l (mod 16) in the order of
   p, and then adds the lanes in the order 0 … 15 (and to β·C last); so every entry comes out
   the same at every vector width and for any range of j. For a product whose k is long next to
   m and n (a weight gradient, k = N·OH·OW), where a BLAS spends its time copying A and B into
   its packed layout. β = 0 does not read C. */
void tutor_rows_dot_rows(const float *a, long lda, const float *b, long ldb, float *c, long ldc,
                         long m, long jFrom, long jTo, long k, float beta);

/* *result = start − Σ_k a[k]·b[k] over 0 ≤ k < count, in Double, in the order of ROAD's skyline
   Cholesky (NoisyLinearImputation.swift, `subtractingDot`): sixteen partial sums, sum[l] taking
   k ≡ l (mod 16) while 16 terms are left, then sum[l] for l < 4 taking the next blocks of 4; the
   lanes added as ((s[l] + s[4 + l]) + (s[8 + l] + s[12 + l])) for l = 0 … 3, those four as
   (0 + 1) + (2 + 3), the result subtracted from `start`, then the last terms subtracted one by
   one. The same bits at every vector width, and as the Swift loop of four SIMD4 sums. */
void tutor_subtracting_dot(double start, const double *a, const double *b, long count, double *result);

#endif
