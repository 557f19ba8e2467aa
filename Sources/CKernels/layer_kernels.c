/* The element-wise loops of MiniNet's layers, written once and compiled for SSE2, AVX2 and
   AVX-512F (vector_targets.h explains how). Each loop computes every output entry as the Swift
   it replaced did, in the same order, so that the three widths and the Swift give the same bits;
   the comments in include/layer_kernels.h say what each computes. */

#include "layer_kernels.h"
#include "vector_targets.h"
#include <string.h>

#pragma clang fp contract(off)

/* The smallest j ≥ 0 with j·s ≥ a, for s > 0: ⌈a/s⌉, or 0 when a ≤ 0. */
static inline long firstMultipleReaching(long a, long s) { return a <= 0 ? 0 : (a + s - 1) / s; }

static inline long clamp(long value, long low, long high) { return value < low ? low : value > high ? high : value; }

/* ---- im2col and col2im ---------------------------------------------------------------------

   For kernel column v, output column j reads input column j·s + v − p, which lies inside the
   plane for first ≤ j < last: first = ⌈(p − v)/s⌉, last = ⌈(W + p − v)/s⌉ (both clamped to
   [0, OW]). Outside that run the columns hold the padding's zeros. */

static inline void insideRun(long v, long width, long stride, long padding, long outputWidth, long *first, long *last) {
    *first = clamp(firstMultipleReaching(padding - v, stride), 0, outputWidth);
    *last = clamp(firstMultipleReaching(width + padding - v, stride), *first, outputWidth);
}

TUTOR_KERNEL_BODY void im2col_channel_body(const float *restrict x, float *restrict columns, long c, long channels,
                                           long batch, long height, long width, long kernel, long stride,
                                           long padding, long outputHeight, long outputWidth) {
    const long planeSize = outputHeight * outputWidth, columnCount = batch * planeSize;
    for (long u = 0; u < kernel; u++) {
        for (long v = 0; v < kernel; v++) {
            float *row = columns + ((c * kernel + u) * kernel + v) * columnCount;
            long first, last;
            insideRun(v, width, stride, padding, outputWidth, &first, &last);
            for (long n = 0; n < batch; n++) {
                const float *plane = x + (n * channels + c) * height * width;
                float *destination = row + n * planeSize;
                for (long i = 0; i < outputHeight; i++) {
                    const long y = i * stride + u - padding;
                    float *destinationRow = destination + i * outputWidth;
                    if (y < 0 || y >= height) {
                        memset(destinationRow, 0, (size_t)outputWidth * sizeof(float));
                        continue;
                    }
                    /* source[t·s] is input column (first + t)·s + v − p. */
                    const float *source = plane + y * width + (first * stride + v - padding);
                    for (long j = 0; j < first; j++) destinationRow[j] = 0;
                    for (long j = first; j < last; j++) destinationRow[j] = source[(j - first) * stride];
                    for (long j = last; j < outputWidth; j++) destinationRow[j] = 0;
                }
            }
        }
    }
}
TUTOR_VECTOR_KERNEL(tutor_im2col_channel, im2col_channel_body,
                    (const float *x, float *columns, long channel, long channels, long batch, long height,
                     long width, long kernel, long stride, long padding, long outputHeight, long outputWidth),
                    (x, columns, channel, channels, batch, height, width, kernel, stride, padding,
                     outputHeight, outputWidth))

/* Within one row i of one (u, v), different j reach different input columns, so the j loop has
   no two updates of one entry and may run in any lanes; the order in which an entry receives
   its terms is that of (u, v, n, i), as in the Swift. */
TUTOR_KERNEL_BODY void col2im_channel_body(const float *restrict columns, float *restrict x, long c, long channels,
                                           long batch, long height, long width, long kernel, long stride,
                                           long padding, long outputHeight, long outputWidth) {
    const long planeSize = outputHeight * outputWidth, columnCount = batch * planeSize;
    for (long u = 0; u < kernel; u++) {
        for (long v = 0; v < kernel; v++) {
            const float *row = columns + ((c * kernel + u) * kernel + v) * columnCount;
            long first, last;
            insideRun(v, width, stride, padding, outputWidth, &first, &last);
            for (long n = 0; n < batch; n++) {
                float *plane = x + (n * channels + c) * height * width;
                const float *source = row + n * planeSize;
                for (long i = 0; i < outputHeight; i++) {
                    const long y = i * stride + u - padding;
                    if (y < 0 || y >= height) continue;
                    const float *sourceRow = source + i * outputWidth;
                    float *destination = plane + y * width + (first * stride + v - padding);
                    if (stride == 1) {
                        for (long j = first; j < last; j++) destination[j - first] += sourceRow[j];
                    } else {
                        /* Strided stores: AVX2 and AVX-512 would scatter them lane by lane,
                           slower than one at a time (measured), so no width vectorises this. */
#pragma clang loop vectorize(disable)
                        for (long j = first; j < last; j++) destination[(j - first) * stride] += sourceRow[j];
                    }
                }
            }
        }
    }
}
TUTOR_VECTOR_KERNEL(tutor_col2im_channel, col2im_channel_body,
                    (const float *columns, float *x, long channel, long channels, long batch, long height,
                     long width, long kernel, long stride, long padding, long outputHeight, long outputWidth),
                    (columns, x, channel, channels, batch, height, width, kernel, stride, padding,
                     outputHeight, outputWidth))

/* ---- ReLU: selects, no arithmetic ------------------------------------------------------------ */

TUTOR_KERNEL_BODY void relu_forward_body(const float *restrict x, float *restrict y, long count) {
    for (long i = 0; i < count; i++) y[i] = x[i] > 0 ? x[i] : 0;
}
TUTOR_VECTOR_KERNEL(tutor_relu_forward, relu_forward_body,
                    (const float *x, float *y, long count), (x, y, count))

TUTOR_KERNEL_BODY void relu_backward_body(const float *restrict y, const float *restrict dy, float *restrict dx, long count) {
    /* dy is loaded whether or not it is kept: a load under the condition would need a masked
       load, which SSE2 lacks, and the loop would stay scalar there (16 times slower). */
    for (long i = 0; i < count; i++) {
        const float gradient = dy[i];
        dx[i] = y[i] > 0 ? gradient : 0;
    }
}
TUTOR_VECTOR_KERNEL(tutor_relu_backward, relu_backward_body,
                    (const float *y, const float *dy, float *dx, long count), (y, dy, dx, count))

TUTOR_KERNEL_BODY void relu_backward_guided_body(const float *restrict y, const float *restrict dy, float *restrict dx, long count) {
    for (long i = 0; i < count; i++) {
        const float gradient = dy[i];
        dx[i] = y[i] > 0 && gradient > 0 ? gradient : 0;
    }
}
TUTOR_VECTOR_KERNEL(tutor_relu_backward_guided, relu_backward_guided_body,
                    (const float *y, const float *dy, float *dx, long count), (y, dy, dx, count))

/* ---- BatchNorm2d: one product and one sum (or three) per entry, each rounded ------------------ */

TUTOR_KERNEL_BODY void scale_shift_body(const float *restrict x, float *restrict y, long count, float scale, float shift) {
    for (long i = 0; i < count; i++) y[i] = scale * x[i] + shift;
}
TUTOR_VECTOR_KERNEL(tutor_scale_shift, scale_shift_body,
                    (const float *x, float *y, long count, float scale, float shift), (x, y, count, scale, shift))

/* The same scale and shift in place, then (in an inference pass, InferenceFusion.swift) the
   residual's sum and the ReLU that follow it, each step rounded as the separate layers round it. */
TUTOR_KERNEL_BODY void scale_shift_add_relu_body(float *restrict y, const float *restrict addend, long count, float scale,
                                                 float shift, int relu) {
    if (addend && relu) {
        for (long i = 0; i < count; i++) {
            const float sum = (scale * y[i] + shift) + addend[i];
            y[i] = sum > 0 ? sum : 0;
        }
    } else if (addend) {
        for (long i = 0; i < count; i++) y[i] = (scale * y[i] + shift) + addend[i];
    } else if (relu) {
        for (long i = 0; i < count; i++) {
            const float value = scale * y[i] + shift;
            y[i] = value > 0 ? value : 0;
        }
    } else {
        for (long i = 0; i < count; i++) y[i] = scale * y[i] + shift;
    }
}
TUTOR_VECTOR_KERNEL(tutor_scale_shift_add_relu, scale_shift_add_relu_body,
                    (float *y, const float *addend, long count, float scale, float shift, int relu),
                    (y, addend, count, scale, shift, relu))

TUTOR_KERNEL_BODY void batchnorm_input_gradient_body(const float *restrict g, const float *restrict x, float *restrict dx,
                                                     long count, float a, float b, float d) {
    for (long i = 0; i < count; i++) dx[i] = a * g[i] - b * x[i] + d;
}
TUTOR_VECTOR_KERNEL(tutor_batchnorm_input_gradient, batchnorm_input_gradient_body,
                    (const float *g, const float *x, float *dx, long count, float a, float b, float d),
                    (g, x, dx, count, a, b, d))

/* ---- MaxPool2d --------------------------------------------------------------------------------

   The windows of the interior columns (jLow ≤ j < jHigh: all k of their columns inside the
   plane) are taken together, one window position at a time across the whole output row, so
   the j loop vectorises; each window still sees its positions in row-major order, starting
   from its first real entry and replacing the best only when x > best, exactly as one window
   at a time does. The few windows at the left and right edges are taken one at a time. */

/* Interior windows per pass when winners are kept (a stack buffer of their offsets). */
#define MAXPOOL_CHUNK 512

/* One window position across the interior windows: best[j] = max(best[j], entries[j·s]) with
   x > best deciding. Called with the literal s = 2 (ResNet's pooling) as well as a variable
   one: with a known stride the compiler vectorises the strided loads with shuffles, with an
   unknown one it only vectorises s = 1 and leaves the rest scalar. */
TUTOR_KERNEL_BODY void maxpool_pass(const float *restrict entries, long stride, float *restrict best, long from, long to) {
    for (long j = from; j < to; j++) {
        const float value = entries[j * stride], current = best[j];
        best[j] = value > current ? value : current;
    }
}

/* The same, keeping in offsets[j] the offset of the best entry so far. */
TUTOR_KERNEL_BODY void maxpool_pass_recording(const float *restrict entries, long stride, float *restrict best,
                                              int *restrict offsets, int offset, long count) {
    /* SSE2 has no blend instruction, and the compiler's cost model would keep this loop scalar
       there, with a branch per window position that the data makes unpredictable. */
#pragma clang loop vectorize(enable)
    for (long j = 0; j < count; j++) {
        const float value = entries[j * stride], current = best[j];
        const int wins = value > current, previous = offsets[j];
        best[j] = wins ? value : current;
        /* offset where value wins, previous elsewhere, by a mask: written as a select, the
           compiler turns it back into a store under a branch for each lane. */
        offsets[j] = previous + ((offset - previous) & -wins);
    }
}

TUTOR_KERNEL_BODY void maxpool_plane_body(const float *restrict x, long height, long width, long kernel, long stride,
                                          long padding, long outputHeight, long outputWidth, float *restrict y,
                                          long *restrict winners, long indexOffset) {
    const long jLow = clamp(firstMultipleReaching(padding, stride), 0, outputWidth);
    /* (A plane of 2³¹ or more values, whose offsets need more than 32 bits, is taken one
       window at a time.) */
    const long jHigh = width + padding - kernel < 0 || height * width >= 0x7fffffffL ? jLow
                     : clamp((width + padding - kernel) / stride + 1, jLow, outputWidth);
    for (long i = 0; i < outputHeight; i++) {
        const long top = i * stride - padding;
        const long firstRow = top < 0 ? 0 : top, endRow = top + kernel < height ? top + kernel : height;
        float *restrict yRow = y + i * outputWidth;
        long *restrict winnerRow = winners ? winners + i * outputWidth : 0;
        for (long j = 0; j < outputWidth; j++) {
            if (j == jLow) j = jHigh;           /* the interior is done below */
            if (j >= outputWidth) break;
            const long left = j * stride - padding;
            const long firstColumn = left < 0 ? 0 : left, endColumn = left + kernel < width ? left + kernel : width;
            long best = firstRow * width + firstColumn;
            float bestValue = x[best];
            for (long row = firstRow; row < endRow; row++) {
                for (long column = firstColumn; column < endColumn; column++) {
                    if (x[row * width + column] > bestValue) { best = row * width + column; bestValue = x[best]; }
                }
            }
            yRow[j] = bestValue;
            if (winnerRow) winnerRow[j] = indexOffset + best;
        }
        if (jLow >= jHigh) continue;
        /* Window j's entry (row, v) is x[offset + j·s] with offset = row·W + v − p. The winners
           are first kept as that offset, a 32-bit integer beside each 32-bit float (so the
           compare-and-select runs in the same lanes), and made flat indices at the end. */
        const long start = firstRow * width - padding;
        for (long j = jLow; j < jHigh; j++) yRow[j] = x[start + j * stride];
        if (!winnerRow) {
            for (long row = firstRow; row < endRow; row++) {
                for (long v = (row == firstRow ? 1 : 0); v < kernel; v++) {
                    const long offset = row * width + v - padding;
                    if (stride == 2) maxpool_pass(x + offset, 2, yRow, jLow, jHigh);
                    else maxpool_pass(x + offset, stride, yRow, jLow, jHigh);
                }
            }
            continue;
        }
        for (long chunk = jLow; chunk < jHigh; chunk += MAXPOOL_CHUNK) {
            const long chunkEnd = chunk + MAXPOOL_CHUNK < jHigh ? chunk + MAXPOOL_CHUNK : jHigh;
            float *restrict bestValues = yRow + chunk;
            int bestOffsets[MAXPOOL_CHUNK];
            for (long j = 0; j < chunkEnd - chunk; j++) bestOffsets[j] = (int)start;
            for (long row = firstRow; row < endRow; row++) {
                for (long v = (row == firstRow ? 1 : 0); v < kernel; v++) {
                    const long offset = row * width + v - padding;
                    const float *entries = x + offset + chunk * stride;
                    if (stride == 2) maxpool_pass_recording(entries, 2, bestValues, bestOffsets, (int)offset, chunkEnd - chunk);
                    else maxpool_pass_recording(entries, stride, bestValues, bestOffsets, (int)offset, chunkEnd - chunk);
                }
            }
            for (long j = 0; j < chunkEnd - chunk; j++) winnerRow[chunk + j] = indexOffset + bestOffsets[j] + (chunk + j) * stride;
        }
    }
}
TUTOR_VECTOR_KERNEL(tutor_maxpool_plane, maxpool_plane_body,
                    (const float *x, long height, long width, long kernel, long stride, long padding,
                     long outputHeight, long outputWidth, float *y, long *winners, long indexOffset),
                    (x, height, width, kernel, stride, padding, outputHeight, outputWidth, y, winners, indexOffset))
