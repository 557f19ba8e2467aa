#ifndef TUTOR_NARROW_PRODUCTS_H
#define TUTOR_NARROW_PRODUCTS_H

/* C = A × B for a B with few columns and an A read where it lies, without copying either into
   a packed layout first: A [rows, inner] with entry (r, k) at a[r·rowStride + k·innerStride] (so
   A or Aᵀ of a row-major matrix), B [inner, columns] and C [rows, columns] row-major, C written.
   Each entry is one chain of fused multiply-adds over k in order, c = fma(a_K−1, b_K−1, … fma(a₁,
   b₁, fma(a₀, b₀, 0))), one rounding per step, at every vector width (SSE2, which has no FMA
   instruction, calls the C library's fmaf, correctly rounded as the instruction is): so every
   width gives the same bits.

   For Winograd's products at a deep layer (U[ξ] of 512 × 512 against 32 tiles), where a BLAS
   spends about as long copying U[ξ] into its packed layout as multiplying. */
void tutor_multiply_narrow(const float *a, long rowStride, long innerStride, const float *b, float *c,
                           long rows, long inner, long columns);

#endif
