#ifndef TUTOR_DOT_PRODUCTS_H
#define TUTOR_DOT_PRODUCTS_H

/* C = A × Bᵀ by dot products of rows, for a long inner dimension and few rows of B: A [rows, inner]
   and B [columns, inner] row-major, both read where they lie (no packed copy), rows rowFrom …
   rowTo − 1 of C [rows, columns] (row-major, stride ldc) written.

   Each entry is summed in 16 lanes, lane l taking the terms k ≡ l (mod 16) in the order of k as
   one chain of fused multiply-adds (one rounding per term), and the lanes are then added in a
   fixed tree: (l, l + 8), then (l, l + 4), (l, l + 2), (l, l + 1). The same operations at every
   vector width (SSE2, which has no FMA instruction, gets it from the C library's fmaf, slowly but
   correctly rounded), so every width and every share of rows among threads gives the same bits.

   For a convolution on one small picture through im2col (a ResNet's 7 × 7 stage: W [512, 4608]
   against 49 positions), where a BLAS spends a large part of its time copying W into its packed
   layout: here W streams from memory once and the columns stay in cache. */
void tutor_multiply_dot_rows(const float *a, const float *b, float *c, long ldc, long columns, long inner,
                             long rowFrom, long rowTo);

/* The im2col columns of one picture x [C, H, W] written by rows: columnsT [OH·OW, C·k·k],
   columnsT[(i·OW + j)·C·k·k + (c·k + u)·k + v] = x[c, i·s + u − p, j·s + v − p] (0 outside), for
   the positions (i, j) of rows positionFrom … positionTo − 1. */
void tutor_im2col_rows(const float *x, float *columnsT, long channels, long height, long width, long kernel, long stride,
                       long padding, long outputHeight, long outputWidth, long positionFrom, long positionTo);

#endif
