/* How one loop becomes three kernels (private to this target).

   A kernel's loop is written once, as a `TUTOR_KERNEL_BODY` function (static, always inlined).
   `TUTOR_VECTOR_KERNEL` then defines three functions that only call the body, each compiled
   for its own instruction set (`target` attribute), so the compiler vectorises the same source
   three times, 4, 8 or 16 floats at a time; and the public function, which calls the variant
   of the width in use through a table of function pointers. The three variants cannot drift
   apart: there is one source for all of them.

   Every file that includes this header also sets `#pragma clang fp contract(off)`: no a·b + c
   is fused into one rounding (AVX-512F has FMA instructions, SSE2 does not), so an element-wise
   loop gives the same bits at every width. Only the number of entries computed at once
   changes, never how one entry is computed. */

#ifndef TUTOR_VECTOR_TARGETS_H
#define TUTOR_VECTOR_TARGETS_H

#include "vector_width.h"

#define TUTOR_KERNEL_BODY static inline __attribute__((always_inline))

#if defined(__x86_64__) || defined(__i386__)
#define TUTOR_VECTOR_KERNEL(name, body, parameters, arguments)                                  \
    __attribute__((target("avx512f"))) static void name##_avx512 parameters { body arguments; } \
    __attribute__((target("avx2"))) static void name##_avx2 parameters { body arguments; }      \
    static void name##_sse parameters { body arguments; }                                       \
    void name parameters {                                                                      \
        static void (*const variants[TUTOR_VECTOR_WIDTH_COUNT]) parameters = {                  \
            name##_sse, name##_avx2, name##_avx512};                                            \
        variants[tutor_vector_width()] arguments;                                               \
    }
#else
/* Other processors (ARM): one build, for the compiler's default vectors (NEON), reported as
   the narrowest width. */
#define TUTOR_VECTOR_KERNEL(name, body, parameters, arguments) \
    void name parameters { body arguments; }
#endif

#endif
