#ifndef TUTOR_LAYER_KERNELS_H
#define TUTOR_LAYER_KERNELS_H

#include "vector_width.h"

/* The element-wise loops of MiniNet's layers (Sources/MiniNet/Layers), each compiled for SSE2,
   AVX2 and AVX-512F and run at the width vector_width.h chose. Every one computes each output
   entry exactly as the Swift it replaced, in the same order, so every width gives the same
   bits; the threads share the work out in Swift, one call per plane, channel or range. */

/* ---- Conv2d: im2col and its adjoint, for one input channel c of x [N, Cin, H, W] ----------
   columns [Cin·k·k, N·OH·OW]: columns[(c·k + u)·k + v, n·OH·OW + i·OW + j]
   = x[n, c, i·s + u − p, j·s + v − p], 0 outside. */

/* Writes channel c's k·k rows of the columns, every entry (the padding's zeros included). */
void tutor_im2col_channel(const float *x, float *columns, long channel, long channels, long batch,
                          long height, long width, long kernel, long stride, long padding,
                          long outputHeight, long outputWidth);

/* Adds channel c's k·k rows of the columns back into channel c of x, in the order u, v, n, i, j. */
void tutor_col2im_channel(const float *columns, float *x, long channel, long channels, long batch,
                          long height, long width, long kernel, long stride, long padding,
                          long outputHeight, long outputWidth);

/* ---- ReLU ---------------------------------------------------------------------------------- */

/* y = x > 0 ? x : 0 (NaN becomes 0, −0 becomes +0). */
void tutor_relu_forward(const float *x, float *y, long count);

/* dx = y > 0 ? dy : 0, with y the forward output (y > 0 exactly where x > 0). */
void tutor_relu_backward(const float *y, const float *dy, float *dx, long count);

/* Guided backpropagation: dx = y > 0 and dy > 0 ? dy : 0. */
void tutor_relu_backward_guided(const float *y, const float *dy, float *dx, long count);

/* ---- BatchNorm2d ----------------------------------------------------------------------------- */

/* y = scale·x + shift (rounded after the product and after the sum, never fused). */
void tutor_scale_shift(const float *x, float *y, long count, float scale, float shift);

/* In place: y = scale·y + shift, then + addend (when not NULL), then max(0, ·) (when relu is 1;
   NaN becomes 0), each step rounded: BatchNorm2d, the residual's sum and ReLU as one pass. */
void tutor_scale_shift_add_relu(float *y, const float *addend, long count, float scale, float shift, int relu);

/* dx = (a·g − b·x) + d, each step rounded. */
void tutor_batchnorm_input_gradient(const float *g, const float *x, float *dx, long count,
                                    float a, float b, float d);

/* ---- MaxPool2d ------------------------------------------------------------------------------- */

/* One plane x [H, W] → y [OH, OW]: the maximum of each k×k window at stride s, padding p (which
   never wins); the first maximum in row-major order wins ties, and a NaN wins only as the
   window's first real entry, as `x > best` decides. When winners is not NULL, winners[i·OW + j]
   = indexOffset + (flat index in the plane of the winner). */
void tutor_maxpool_plane(const float *x, long height, long width, long kernel, long stride, long padding,
                         long outputHeight, long outputWidth, float *y, long *winners, long indexOffset);

#endif
