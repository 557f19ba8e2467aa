#ifndef TUTOR_DIRECT_CONVOLUTION_H
#define TUTOR_DIRECT_CONVOLUTION_H

/* Stride-1 convolutions with few channels, computed where the numbers lie instead of through
   im2col's columns (Cin·k·k copies of every picture) and a product.

   The input comes zero-padded: x [N, C, PH, PW] with PH = OH + k − 1 and PW ≥ 16·⌈OW/16⌉ + k − 1,
   the picture's padding rows and columns already in place and every value past them zero, so
   that each output row is read as whole vectors of 16 positions.

   Every output (and every weight-gradient entry) is one chain of fused multiply-adds in a fixed
   order, the same at every vector width (SSE2, which has no FMA instruction, gets it from the C
   library's fmaf) and for every share of the work among threads: the same bits everywhere. */

/* y[n, o, i, j] = Σ_c Σ_u Σ_v W[o, c, u, v] · x[n, c, i + u, j + v]   (+ b[o] after the sum, when
   bias is not NULL), the terms taken in the order of (c, u, v).

   W [Cout, C, k, k], y [N, Cout, OH, OW]. Work item g is picture g / ⌈Cout/8⌉ and its output
   channels 8·(g mod ⌈Cout/8⌉) … (at most 8); items itemFrom … itemTo − 1 are written. */
void tutor_convolve_direct(const float *x, const float *weight, const float *bias, float *y, long channels,
                           long paddedHeight, long paddedWidth, long kernel, long outputChannels, long outputHeight,
                           long outputWidth, long itemFrom, long itemTo);

/* ∂L/∂W[o, c, u, v] += Σ_n Σ_i Σ_j ∂L/∂y[n, o, i, j] · x[n, c, i + u, j + v], for output channels
   outputFrom … outputTo − 1.

   Each entry is summed in 16 lanes, lane l taking the positions j ≡ l (mod 16) in the order of
   (n, i, j), then the lanes in the fixed tree (l, l + 8), (l, l + 4), (l, l + 2), (l, l + 1), and
   the total added to the entry. dy [N, Cout, OH, OW], dw [Cout, C·k·k]. */
void tutor_convolve_direct_weight_gradient(const float *x, const float *outputGradient, float *weightGradient, long batch,
                                           long channels, long paddedHeight, long paddedWidth, long kernel,
                                           long outputChannels, long outputHeight, long outputWidth, long outputFrom,
                                           long outputTo);

#endif
