#ifndef TUTOR_WINOGRAD_KERNELS_H
#define TUTOR_WINOGRAD_KERNELS_H

#include "vector_width.h"

/* The four transforms of Winograd's F(2×2, 3×3), one plane at a time; see
   Sources/MiniNet/Layers/Winograd.swift for the algorithm and winograd_kernels.c for the loops.
   In V, M and their gradients, position ξ = 4·i + j of tile t sits at [ξ·stride + t]. */

/* x [height, width] → v[ξ·stride + t] = (Bᵀ d_t B)[ξ]. (The layers call the several-planes form below;
   this one is its reference in the tests.) */
void tutor_winograd_transform_input(const float *x, long height, long width, float *v, long stride);

/* The same for `images` planes, plane n at x + n·imageStride, their tiles one after the other:
   tile t of plane n at v[ξ·stride + n·tilesPerImage + t]. The same bits as one plane at a time. */
void tutor_winograd_transform_input_images(const float *x, long imageStride, long images, long height, long width, float *v,
                                           long stride);

/* The adjoint: ∂L/∂d_t = B ∂L/∂V_t Bᵀ, written (not added) into dx [height, width]. */
void tutor_winograd_transform_input_adjoint(const float *dv, long stride, long height, long width, float *dx);

/* m[ξ·stride + t] → y [height, width]: each tile's Aᵀ m A + bias. (The layers call the several-planes
   form below; this one is its reference in the tests.) */
void tutor_winograd_transform_output(const float *m, long stride, long height, long width, float bias, float *y);

/* The same for `images` planes: plane n's tiles at m[ξ·stride + n·tilesPerImage + t], its output
   at y + n·imageStride, its bias bias[n·biasStride] (biasStride 0: one bias for all). The same
   bits as one plane at a time. */
void tutor_winograd_transform_output_images(const float *m, long stride, long images, long height, long width, const float *bias,
                                            long biasStride, float *y, long imageStride);

/* The adjoint: dy [height, width] → dm[ξ·stride + t] = (A ∂L/∂Y_t Aᵀ)[ξ]. */
void tutor_winograd_transform_output_adjoint(const float *dy, long height, long width, float *dm, long stride);

/* F(4×4, 3×3), one channel of `images` images, plane n at x + n·imageStride [height, width] →
   v[ξ·stride + m] = (Bᵀ d_m B)[ξ], ξ = 6·i + j < 36, m = n·tilesPerImage + t. `turned` (0 or 1):
   transform each plane turned half a turn, x̃[r][c] = x[height − 1 − r][width − 1 − c]. */
void tutor_winograd4_transform_input(const float *x, long imageStride, long images, long height, long width, int turned,
                                     float *v, long stride);

/* F(4×4, 3×3): m[ξ·stride + n·tilesPerImage + t] → y + n·imageStride [height, width], each tile's
   Aᵀ m A + bias, for the `images` images of one channel; `turned`: written turned half a turn. */
void tutor_winograd4_transform_output(const float *m, long stride, long images, long height, long width, float bias, int turned,
                                      float *y, long imageStride);

#endif
