/* Stride-1 convolutions of few channels, computed directly (include/direct_convolution.h),
   written once and compiled for SSE2, AVX2 and AVX-512F.

   The forward pass keeps a block of up to 8 output channels × 2 vectors of 16 positions of one
   output row in registers (16 AVX-512 registers), and runs over the terms (c, u, v): each step
   loads 16 (or 32) neighbouring inputs once and multiplies them by one weight of each of the
   block's channels. For the small network of the lessons (3 → 8 channels on 32 × 32 pictures)
   this does the 27 multiply-adds of each output without writing 27 copies of the picture first.

   The weight gradient keeps up to 28 entries of ∂L/∂W of one output channel in registers, 16
   lanes each, while the positions (n, i, j) go by 16 at a time: each step loads 16 values of ∂L/∂y
   and, for every entry, the 16 inputs under them.

   Blocks that run past the last channels, positions or entries take fewer of them; which entries
   are computed together never changes how one is computed. */

#include "direct_convolution.h"
#include "vector_targets.h"
#include <math.h>

#pragma clang fp contract(off)

typedef float vector16 __attribute__((ext_vector_type(16)));
typedef float vector8 __attribute__((ext_vector_type(8)));
typedef float vector4 __attribute__((ext_vector_type(4)));
typedef float vector2 __attribute__((ext_vector_type(2)));

enum { ITEM_CHANNELS = 8, MAX_CHANNELS = 8, MAX_CHUNKS = 2, MAX_TERMS = 28 };

#define LOAD16(target, p) __builtin_memcpy(&(target), (p), sizeof(vector16))

/* The first `count` (1 … 16) values at p, the other lanes zero. */
TUTOR_KERNEL_BODY vector16 load_first(const float *p, long count) {
    vector16 values = 0;
    if (count >= 16) {
        LOAD16(values, p);
    } else {
        for (long l = 0; l < count; l++) values[l] = p[l];
    }
    return values;
}

/* The fixed tree of the header. (By pointer: a 16-float vector argument would have a different
   calling convention in each variant.) */
TUTOR_KERNEL_BODY float lane_total(const vector16 *lanes) {
    const vector8 eight = lanes->lo + lanes->hi;
    const vector4 four = eight.lo + eight.hi;
    const vector2 two = four.lo + four.hi;
    return two.x + two.y;
}

/* Output channels o … o + channelCount − 1 (≤ MAX_CHANNELS) of output row i of one picture,
   chunkCount (≤ MAX_CHUNKS) vectors of 16 positions from position 16·chunk. x and y are that
   picture's planes. */
TUTOR_KERNEL_BODY void convolve_block(const float *restrict x, const float *restrict weight, const float *bias,
                                      float *restrict y, long channels, long paddedHeight, long paddedWidth, long kernel,
                                      long outputPlane, long outputWidth, long o, int channelCount, long i, long chunk,
                                      int chunkCount) {
    vector16 sums[MAX_CHANNELS][MAX_CHUNKS];
    for (int b = 0; b < MAX_CHANNELS; b++)
        for (int t = 0; t < MAX_CHUNKS; t++) sums[b][t] = 0;
    const long taps = kernel * kernel, channelStride = channels * taps;
    for (long c = 0; c < channels; c++) {
        for (long u = 0; u < kernel; u++) {
            const float *row = x + (c * paddedHeight + i + u) * paddedWidth + 16 * chunk;
            const float *w = weight + (o * channels + c) * taps + u * kernel; /* W[o, c, u, 0] */
            for (long v = 0; v < kernel; v++) {
                vector16 inputs[MAX_CHUNKS];
                for (int t = 0; t < MAX_CHUNKS; t++)
                    if (t < chunkCount) LOAD16(inputs[t], row + v + 16 * t);
                for (int b = 0; b < MAX_CHANNELS; b++) {
                    if (b < channelCount) {
                        const vector16 wb = w[b * channelStride + v];
                        for (int t = 0; t < MAX_CHUNKS; t++)
                            if (t < chunkCount) sums[b][t] = __builtin_elementwise_fma(wb, inputs[t], sums[b][t]);
                    }
                }
            }
        }
    }
    for (int b = 0; b < channelCount; b++) {
        for (int t = 0; t < chunkCount; t++) {
            vector16 out = sums[b][t];
            if (bias) out += bias[o + b];
            const long j = 16 * (chunk + t), count = outputWidth - j < 16 ? outputWidth - j : 16;
            float *to = y + (o + b) * outputPlane + i * outputWidth + j;
            if (count == 16) {
                __builtin_memcpy(to, &out, sizeof(vector16));
            } else {
                for (long l = 0; l < count; l++) to[l] = out[l];
            }
        }
    }
}

/* `wide`: AVX-512's 32 registers hold 8 channels × 2 vectors; AVX2's 16 registers of 8 floats
   (and SSE2's) take 4 channels × 1 vector, so that their sums stay in registers too. */
TUTOR_KERNEL_BODY void convolve_direct_body(const float *x, const float *weight, const float *bias, float *y,
                                            long channels, long paddedHeight, long paddedWidth, long kernel,
                                            long outputChannels, long outputHeight, long outputWidth, long itemFrom,
                                            long itemTo, int wide) {
    const int blockChannels = wide ? 8 : 4, blockChunks = wide ? 2 : 1;
    const long groups = (outputChannels + ITEM_CHANNELS - 1) / ITEM_CHANNELS;
    const long chunks = (outputWidth + 15) / 16, outputPlane = outputHeight * outputWidth;
    for (long item = itemFrom; item < itemTo; item++) {
        const long n = item / groups, first = item % groups * ITEM_CHANNELS;
        const long last = first + ITEM_CHANNELS < outputChannels ? first + ITEM_CHANNELS : outputChannels;
        const float *picture = x + n * channels * paddedHeight * paddedWidth;
        float *output = y + n * outputChannels * outputPlane;
        for (long o = first; o < last; o += blockChannels) {
            const int channelCount = last - o < blockChannels ? (int)(last - o) : blockChannels;
            for (long i = 0; i < outputHeight; i++) {
                for (long chunk = 0; chunk < chunks; chunk += blockChunks) {
                    const int chunkCount = chunks - chunk < blockChunks ? (int)(chunks - chunk) : blockChunks;
                    convolve_block(picture, weight, bias, output, channels, paddedHeight, paddedWidth, kernel,
                                   outputPlane, outputWidth, o, channelCount, i, chunk, chunkCount);
                }
            }
        }
    }
}

/* Entries q0 … q0 + termCount − 1 (≤ MAX_TERMS) of row o of ∂L/∂W. */
TUTOR_KERNEL_BODY void weight_gradient_block(const float *restrict x, const float *restrict dy, float *restrict dw,
                                             long batch, long channels, long paddedHeight, long paddedWidth,
                                             long kernel, long outputChannels, long outputHeight, long outputWidth,
                                             long o, long q0, int termCount) {
    const long taps = kernel * kernel, patch = channels * taps;
    long offsets[MAX_TERMS];
    for (int t = 0; t < MAX_TERMS; t++) {
        const long q = t < termCount ? q0 + t : q0, c = q / taps, u = q % taps / kernel, v = q % kernel;
        offsets[t] = (c * paddedHeight + u) * paddedWidth + v;
    }
    vector16 sums[MAX_TERMS];
    for (int t = 0; t < MAX_TERMS; t++) sums[t] = 0;
    const long chunks = (outputWidth + 15) / 16;
    for (long n = 0; n < batch; n++) {
        const float *picture = x + n * channels * paddedHeight * paddedWidth;
        for (long i = 0; i < outputHeight; i++) {
            const float *gradientRow = dy + ((n * outputChannels + o) * outputHeight + i) * outputWidth;
            for (long chunk = 0; chunk < chunks; chunk++) {
                /* A last chunk of fewer than 16 positions leaves its other lanes zero on both
                   sides: an input past the row's end may be ±∞ or NaN, and 0 · ∞ is NaN. */
                const long j = 16 * chunk, count = outputWidth - j;
                const vector16 g = load_first(gradientRow + j, count);
                const float *under = picture + i * paddedWidth + j;
                for (int t = 0; t < MAX_TERMS; t++) {
                    if (t < termCount) {
                        vector16 inputs = load_first(under + offsets[t], count);
                        sums[t] = __builtin_elementwise_fma(g, inputs, sums[t]);
                    }
                }
            }
        }
    }
    for (int t = 0; t < termCount; t++) dw[o * patch + q0 + t] += lane_total(&sums[t]);
}

/* `wide`: 28 entries in AVX-512's 32 registers; 7 for AVX2 (14 of its 16) and SSE2. */
TUTOR_KERNEL_BODY void weight_gradient_body(const float *x, const float *dy, float *dw, long batch, long channels,
                                            long paddedHeight, long paddedWidth, long kernel, long outputChannels,
                                            long outputHeight, long outputWidth, long outputFrom, long outputTo,
                                            int wide) {
    const long patch = channels * kernel * kernel, most = wide ? MAX_TERMS : 7;
    /* Blocks of nearly equal size: 27 entries as one block of 27, not 24 and 3. */
    const long blocks = (patch + most - 1) / most, size = (patch + blocks - 1) / blocks;
    for (long o = outputFrom; o < outputTo; o++) {
        for (long q0 = 0; q0 < patch; q0 += size) {
            const int termCount = patch - q0 < size ? (int)(patch - q0) : (int)size;
            weight_gradient_block(x, dy, dw, batch, channels, paddedHeight, paddedWidth, kernel, outputChannels,
                                  outputHeight, outputWidth, o, q0, termCount);
        }
    }
}

TUTOR_BLOCKED_VECTOR_KERNEL(tutor_convolve_direct, convolve_direct_body,
                            (const float *x, const float *weight, const float *bias, float *y, long channels,
                             long paddedHeight, long paddedWidth, long kernel, long outputChannels, long outputHeight,
                             long outputWidth, long itemFrom, long itemTo),
                            (x, weight, bias, y, channels, paddedHeight, paddedWidth, kernel, outputChannels,
                             outputHeight, outputWidth, itemFrom, itemTo))

TUTOR_BLOCKED_VECTOR_KERNEL(tutor_convolve_direct_weight_gradient, weight_gradient_body,
                            (const float *x, const float *outputGradient, float *weightGradient, long batch,
                             long channels, long paddedHeight, long paddedWidth, long kernel, long outputChannels,
                             long outputHeight, long outputWidth, long outputFrom, long outputTo),
                            (x, outputGradient, weightGradient, batch, channels, paddedHeight, paddedWidth, kernel,
                             outputChannels, outputHeight, outputWidth, outputFrom, outputTo))
