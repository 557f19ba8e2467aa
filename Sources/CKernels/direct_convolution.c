/* Stride-1 convolutions of few channels, computed directly (include/direct_convolution.h),
   written once and compiled for SSE2, AVX2 and AVX-512F.

   The forward pass keeps a block of up to 8 output channels × 2 vectors of 16 positions (two
   halves of one output row, or two rows of 16) in registers (16 AVX-512 registers), and runs over
   the terms (c, u, v): each step loads 2 × 16 neighbouring inputs once and multiplies them by one
   weight of each of the block's channels. For the small network of the lessons (3 → 8 channels
   on 32 × 32 pictures) this does the 27 multiply-adds of each output without writing 27 copies of
   the picture first.

   The weight gradient keeps 2 output channels × up to 14 entries of ∂L/∂W, 16 lanes each, while
   the positions (n, i, j) go by 16 at a time: each step loads 16 values of ∂L/∂y per channel and,
   for every entry, the 16 inputs under them.

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

enum { ITEM_CHANNELS = 8, MAX_CHANNELS = 8, MAX_CHUNKS = 2, MAX_OUTPUTS = 2, MAX_TERMS = 14 };

#define LOAD16(target, p) __builtin_memcpy(&(target), (p), sizeof(vector16))

/* The first `count` (1 … 16) values at p, the other lanes zero. (Results by pointer: a 16-float
   vector argument or result would have a different calling convention in each variant.) */
TUTOR_KERNEL_BODY void load_first(vector16 *values, const float *p, long count) {
    if (count >= 16) {
        LOAD16(*values, p);
    } else {
        *values = 0;
        for (long l = 0; l < count; l++) (*values)[l] = p[l];
    }
}

/* The fixed tree of the header. (By pointer: a 16-float vector argument would have a different
   calling convention in each variant.) */
TUTOR_KERNEL_BODY float lane_total(const vector16 *lanes) {
    const vector8 eight = lanes->lo + lanes->hi;
    const vector4 four = eight.lo + eight.hi;
    const vector2 two = four.lo + four.hi;
    return two.x + two.y;
}

/* Output channels o … o + channelCount − 1 (≤ MAX_CHANNELS) at slotCount (≤ MAX_CHUNKS) slots of
   one picture from `slot`: slot s is 16 positions of output row s / chunks from position
   16·(s mod chunks), so that a row of only 16 positions still fills a block of two. x and y are
   that picture's planes. */
TUTOR_KERNEL_BODY void convolve_block(const float *restrict x, const float *restrict weight, const float *bias,
                                      float *restrict y, long channels, long paddedHeight, long paddedWidth, long kernel,
                                      long outputPlane, long outputWidth, long chunks, long o, int channelCount,
                                      long slot, int slotCount) {
    const float *under[MAX_CHUNKS];             /* the padded input's top-left value of each slot */
    for (int t = 0; t < MAX_CHUNKS; t++) {
        const long s = t < slotCount ? slot + t : slot;
        under[t] = x + s / chunks * paddedWidth + 16 * (s % chunks);
    }
    vector16 sums[MAX_CHANNELS][MAX_CHUNKS];
    for (int b = 0; b < MAX_CHANNELS; b++)
        for (int t = 0; t < MAX_CHUNKS; t++) sums[b][t] = 0;
    const long taps = kernel * kernel, channelStride = channels * taps;
    for (long c = 0; c < channels; c++) {
        for (long u = 0; u < kernel; u++) {
            const long row = (c * paddedHeight + u) * paddedWidth;
            const float *w = weight + (o * channels + c) * taps + u * kernel; /* W[o, c, u, 0] */
            for (long v = 0; v < kernel; v++) {
                vector16 inputs[MAX_CHUNKS];
                for (int t = 0; t < MAX_CHUNKS; t++)
                    if (t < slotCount) LOAD16(inputs[t], under[t] + row + v);
                for (int b = 0; b < MAX_CHANNELS; b++) {
                    if (b < channelCount) {
                        const vector16 wb = w[b * channelStride + v];
                        for (int t = 0; t < MAX_CHUNKS; t++)
                            if (t < slotCount) sums[b][t] = __builtin_elementwise_fma(wb, inputs[t], sums[b][t]);
                    }
                }
            }
        }
    }
    for (int t = 0; t < slotCount; t++) {
        const long i = (slot + t) / chunks, j = 16 * ((slot + t) % chunks);
        const long count = outputWidth - j < 16 ? outputWidth - j : 16;
        for (int b = 0; b < channelCount; b++) {
            vector16 out = sums[b][t];
            if (bias) out += bias[o + b];
            float *to = y + (o + b) * outputPlane + i * outputWidth + j;
            if (count == 16) {
                __builtin_memcpy(to, &out, sizeof(vector16));
            } else {
                for (long l = 0; l < count; l++) to[l] = out[l];
            }
        }
    }
}

/* `wide`: AVX-512's 32 registers hold 8 channels × 2 slots; AVX2's 16 registers of 8 floats (and
   SSE2's) take 4 channels × 1 slot, so that their sums stay in registers too. */
TUTOR_KERNEL_BODY void convolve_direct_body(const float *x, const float *weight, const float *bias, float *y,
                                            long channels, long paddedHeight, long paddedWidth, long kernel,
                                            long outputChannels, long outputHeight, long outputWidth, long itemFrom,
                                            long itemTo, int wide) {
    const int blockChannels = wide ? 8 : 4, blockSlots = wide ? 2 : 1;
    const long groups = (outputChannels + ITEM_CHANNELS - 1) / ITEM_CHANNELS;
    const long chunks = (outputWidth + 15) / 16, slots = outputHeight * chunks, outputPlane = outputHeight * outputWidth;
    for (long item = itemFrom; item < itemTo; item++) {
        const long n = item / groups, first = item % groups * ITEM_CHANNELS;
        const long last = first + ITEM_CHANNELS < outputChannels ? first + ITEM_CHANNELS : outputChannels;
        const float *picture = x + n * channels * paddedHeight * paddedWidth;
        float *output = y + n * outputChannels * outputPlane;
        for (long o = first; o < last; o += blockChannels) {
            const int channelCount = last - o < blockChannels ? (int)(last - o) : blockChannels;
            for (long slot = 0; slot < slots; slot += blockSlots) {
                const int slotCount = slots - slot < blockSlots ? (int)(slots - slot) : blockSlots;
                /* A whole block with the block's sizes as constants, so that its loops unroll
                   without a test per multiply-add; a cut block with the tests. */
                if (channelCount == blockChannels && slotCount == blockSlots) {
                    convolve_block(picture, weight, bias, output, channels, paddedHeight, paddedWidth, kernel, outputPlane,
                                   outputWidth, chunks, o, blockChannels, slot, blockSlots);
                } else {
                    convolve_block(picture, weight, bias, output, channels, paddedHeight, paddedWidth, kernel, outputPlane,
                                   outputWidth, chunks, o, channelCount, slot, slotCount);
                }
            }
        }
    }
}

/* One chunk of 16 positions: ∂L/∂y of each output channel of the block (g), times the inputs under
   each entry, into `sums`. `count` < 16 (the row's last chunk) leaves the other lanes zero on both
   sides: an input past the row's end may be ±∞ or NaN, and 0 · ∞ is NaN. */
TUTOR_KERNEL_BODY void accumulate_chunk(vector16 sums[MAX_OUTPUTS][MAX_TERMS], const long *offsets, int outputs, int terms,
                                        const float *under, const vector16 *g, long count) {
    for (int t = 0; t < MAX_TERMS; t++) {
        if (t < terms) {
            vector16 inputs;
            if (count == 16) LOAD16(inputs, under + offsets[t]);
            else load_first(&inputs, under + offsets[t], count);
            for (int b = 0; b < MAX_OUTPUTS; b++)
                if (b < outputs) sums[b][t] = __builtin_elementwise_fma(g[b], inputs, sums[b][t]);
        }
    }
}

/* Entries q0 … q0 + termCount − 1 of rows o … o + outputs − 1 of ∂L/∂W, computed as a block of
   `outputs` × `terms` (constants at each call, terms ≥ termCount): the entries past termCount
   repeat entry q0 and are not written. Each step loads `outputs` vectors of ∂L/∂y and `terms`
   vectors of inputs for outputs · terms multiply-adds. */
TUTOR_KERNEL_BODY void weight_gradient_block(const float *restrict x, const float *restrict dy, float *restrict dw,
                                             long batch, long channels, long paddedHeight, long paddedWidth,
                                             long kernel, long outputChannels, long outputHeight, long outputWidth,
                                             long o, int outputs, long q0, int termCount, int terms) {
    const long taps = kernel * kernel, patch = channels * taps, plane = outputHeight * outputWidth;
    long offsets[MAX_TERMS];
    for (int t = 0; t < MAX_TERMS; t++) {
        const long q = t < termCount ? q0 + t : q0, c = q / taps, u = q % taps / kernel, v = q % kernel;
        offsets[t] = (c * paddedHeight + u) * paddedWidth + v;
    }
    vector16 sums[MAX_OUTPUTS][MAX_TERMS];
    for (int b = 0; b < MAX_OUTPUTS; b++)
        for (int t = 0; t < MAX_TERMS; t++) sums[b][t] = 0;
    const long whole = outputWidth / 16, rest = outputWidth % 16;
    for (long n = 0; n < batch; n++) {
        const float *picture = x + n * channels * paddedHeight * paddedWidth;
        for (long i = 0; i < outputHeight; i++) {
            const float *gradientRow = dy + ((n * outputChannels + o) * outputHeight + i) * outputWidth;
            const float *under = picture + i * paddedWidth;
            vector16 g[MAX_OUTPUTS];
            for (long chunk = 0; chunk < whole; chunk++) {
                for (int b = 0; b < MAX_OUTPUTS; b++)
                    if (b < outputs) LOAD16(g[b], gradientRow + b * plane + 16 * chunk);
                accumulate_chunk(sums, offsets, outputs, terms, under + 16 * chunk, g, 16);
            }
            if (rest) {
                for (int b = 0; b < MAX_OUTPUTS; b++)
                    if (b < outputs) load_first(&g[b], gradientRow + b * plane + 16 * whole, rest);
                accumulate_chunk(sums, offsets, outputs, terms, under + 16 * whole, g, rest);
            }
        }
    }
    for (int b = 0; b < outputs; b++)
        for (int t = 0; t < termCount; t++) dw[(o + b) * patch + q0 + t] += lane_total(&sums[b][t]);
}

/* `wide`: 2 output channels × up to 14 entries in AVX-512's 32 registers; 1 × 7 for AVX2 (14 of
   its 16 registers) and SSE2. The entries go in blocks of nearly equal size (27 as 14 and 13, 72 as
   six of 12), each computed as a block of one of a few constant sizes. */
TUTOR_KERNEL_BODY void weight_gradient_body(const float *x, const float *dy, float *dw, long batch, long channels,
                                            long paddedHeight, long paddedWidth, long kernel, long outputChannels,
                                            long outputHeight, long outputWidth, long outputFrom, long outputTo,
                                            int wide) {
    const long patch = channels * kernel * kernel, most = wide ? MAX_TERMS : 7;
    const long blocks = (patch + most - 1) / most, size = (patch + blocks - 1) / blocks;
    const int blockOutputs = wide ? MAX_OUTPUTS : 1;
    for (long o = outputFrom; o < outputTo; o += blockOutputs) {
        const int outputs = outputTo - o < blockOutputs ? 1 : blockOutputs;
        for (long q0 = 0; q0 < patch; q0 += size) {
            const int termCount = patch - q0 < size ? (int)(patch - q0) : (int)size;
#define TUTOR_WEIGHT_GRADIENT_BLOCK(outputs, terms)                                                              \
    weight_gradient_block(x, dy, dw, batch, channels, paddedHeight, paddedWidth, kernel, outputChannels,         \
                          outputHeight, outputWidth, o, outputs, q0, termCount, terms)
            if (!wide) TUTOR_WEIGHT_GRADIENT_BLOCK(1, 7);
            else if (outputs == 1) TUTOR_WEIGHT_GRADIENT_BLOCK(1, MAX_TERMS);
            else if (size <= 8) TUTOR_WEIGHT_GRADIENT_BLOCK(MAX_OUTPUTS, 8);
            else if (size <= 12) TUTOR_WEIGHT_GRADIENT_BLOCK(MAX_OUTPUTS, 12);
            else TUTOR_WEIGHT_GRADIENT_BLOCK(MAX_OUTPUTS, MAX_TERMS);
#undef TUTOR_WEIGHT_GRADIENT_BLOCK
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
