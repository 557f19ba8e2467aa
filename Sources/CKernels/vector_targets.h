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

/* (a, b, …) → (a, b, …, wide), for TUTOR_BLOCKED_VECTOR_KERNEL's bodies. */
#define TUTOR_AND_WIDE(...) (__VA_ARGS__, wide)

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

/* The same for a kernel whose blocks are sized to the registers: each variant also has FMA
   instructions, and the body takes one argument more, last: `wide`, 1 in the AVX-512 variant (32
   registers of 16 floats) and 0 in the others (16 registers of 8 or 4 floats). */
#define TUTOR_BLOCKED_VECTOR_KERNEL(name, body, parameters, arguments)                                             \
    __attribute__((target("avx512f,fma"))) static void name##_avx512 parameters {                                  \
        enum { wide = 1 };                                                                                         \
        body TUTOR_AND_WIDE arguments;                                                                             \
    }                                                                                                              \
    __attribute__((target("avx2,fma"))) static void name##_avx2 parameters {                                       \
        enum { wide = 0 };                                                                                         \
        body TUTOR_AND_WIDE arguments;                                                                             \
    }                                                                                                              \
    static void name##_sse parameters {                                                                            \
        enum { wide = 0 };                                                                                         \
        body TUTOR_AND_WIDE arguments;                                                                             \
    }                                                                                                              \
    void name parameters {                                                                                         \
        static void (*const variants[TUTOR_VECTOR_WIDTH_COUNT]) parameters = {                                     \
            name##_sse, name##_avx2, name##_avx512};                                                               \
        variants[tutor_vector_width()] arguments;                                                                  \
    }
#else
/* Other processors (ARM): one build, for the compiler's default vectors (NEON), reported as
   the narrowest width. */
#define TUTOR_VECTOR_KERNEL(name, body, parameters, arguments) \
    void name parameters { body arguments; }
#define TUTOR_BLOCKED_VECTOR_KERNEL(name, body, parameters, arguments) \
    void name parameters {                                             \
        enum { wide = 0 };                                             \
        body TUTOR_AND_WIDE arguments;                                 \
    }
#endif

#endif
