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

/* *result = start − Σ_k a[k]·b[k] over 0 ≤ k < count, in Double, in the order of the triangular
   solves of ROAD's skyline Cholesky (NoisyLinearImputation.swift, `subtractingDot`): sixteen
   partial sums, sum[l] taking k ≡ l (mod 16) while 16 terms are left, then sum[l] for l < 4
   taking the next blocks of 4; the lanes added as ((s[l] + s[4 + l]) + (s[8 + l] + s[12 + l]))
   for l = 0 … 3, those four as (0 + 1) + (2 + 3), the result subtracted from `start`, then the
   last terms subtracted one by one. The same bits at every vector width, and as the Swift loop
   of four SIMD4 sums. */
void tutor_subtracting_dot(double start, const double *a, const double *b, long count, double *result);

/* results[c] = starts[c] − Σ_k a[k]·b_c[k] for c = 0, 1, 2: three tutor_subtracting_dot sharing
   one a (the three colour channels of ROAD's triangular solves), each in the same order and with
   the same bits as that call alone. */
void tutor_subtracting_dots3(const double *starts, const double *a, const double *b0, const double *b1, const double *b2,
                             long count, double *results);

/* y_c[k] = y_c[k] − l[k]·scales[c] for 0 ≤ k < count and c = 0, 1, 2: the back substitution of
   ROAD's skyline Cholesky for the three colour channels (NoisyLinearImputation.swift, `solve`).
   Each product is rounded and then subtracted (no fused multiply-add), element by element, so
   every vector width gives the bits of the plain loop. y0, y1, y2 and l must not overlap. */
void tutor_subtract_scaled3(const double *l, const double *scales, double *y0, double *y1, double *y2, long count);

/* One block of ROAD's blocked skyline Cholesky (NoisyLinearImputation.swift, `factorise`): rows
   i = i₀ + r of L (r < rows) against rows j = j₀ + c (c < columns), where rowsOfI[r] points at
   L_{i,k₀} and rowsOfJ[c] at L_{j,k₀}, and count = j₀ − k₀. Each entry is computed in place, for
   c = 0, 1, … in turn:

       common = Σ_{k₀ ≤ k < j₀} L_ik L_jk
       L_ij = (A_ij − common − Σ_{j₀ ≤ k < j} L_ik L_jk) / L_jj        (L_ii = √(…) on the diagonal)

   With `diagonal` set, J is I and only r ≥ c is computed. `common` is one of sixteen dot
   products taken together, each in one fixed order: eight lanes, lane l taking k ≡ l (mod 8)
   while 8 terms are left, each term by one fused multiply-add; then lanes 0 … 3 taking the next 4
   terms if 4 are left; the lanes added as ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)); then any
   last terms one by one, each by a fused multiply-add. The terms inside the block are subtracted
   one by one, each product rounded, then subtracted. The same bits at every vector width. */
void tutor_skyline_cholesky_block(double *const rowsOfI[4], const double *const rowsOfJ[4], long count, long rows,
                                  long columns, int diagonal);

#endif
