#ifndef TUTOR_RANDOM_KERNELS_H
#define TUTOR_RANDOM_KERNELS_H

#include <stdint.h>

/* out[i] = (float)(√(−2 ln u₁) · cos 2πu₂) · scale for 0 ≤ i < count: the next `count` samples of
   SeededGenerator.normal(), each times `scale`, bit for bit. SeededGenerator is SplitMix64 with
   counter `state` and increment γ, so sample i draws its two 64-bit words from the counters
   state + (2i + 1)·γ and state + (2i + 2)·γ, and no sample waits for the one before it:

       u₁ = 1 − (w₁ >> 11)·2⁻⁵³ ∈ (0, 1],   u₂ = (w₂ >> 11)·2⁻⁵³ ∈ [0, 1)

   ln and cos are PortableMath's (Sources/MiniNet/Data/PortableMath.swift): the same basic
   operations in the same order, rounding half away from zero as Swift's `rounded()`, no fused
   multiply-add. So every vector width gives the bits of the Swift loop. The caller advances the
   counter by 2·count·γ. */
void tutor_standard_normals(uint64_t state, uint64_t increment, long count, float scale, float *out);

#endif
