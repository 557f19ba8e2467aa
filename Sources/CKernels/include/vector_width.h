#ifndef TUTOR_VECTOR_WIDTH_H
#define TUTOR_VECTOR_WIDTH_H

/* The vector width MiniNet's C loops run with. Every kernel in this target is compiled three
   times from one source, for SSE2 (4 floats per instruction, every x86-64 has it), AVX2 (8)
   and AVX-512F (16); which of the three runs is chosen once, on first use, from what the
   processor reports (CPUID), and can be narrowed afterwards (tests, comparisons). */

enum {
    TUTOR_VECTOR_SSE = 0,       /* SSE2: the x86-64 baseline */
    TUTOR_VECTOR_AVX2 = 1,      /* AVX2 */
    TUTOR_VECTOR_AVX512 = 2,    /* AVX-512F */
    TUTOR_VECTOR_WIDTH_COUNT = 3
};

/* The widest width this processor (and its operating system) supports. */
int tutor_widest_vector_width(void);

/* The width the kernels run with now: the widest, unless tutor_set_vector_width chose another. */
int tutor_vector_width(void);

/* Makes every kernel run with `width` from now on. Returns 0, or −1 (and changes nothing)
   when `width` is not one of the three or the processor lacks it. */
int tutor_set_vector_width(int width);

/* "sse", "avx2" or "avx512" for a width; "?" for anything else. */
const char *tutor_vector_width_name(int width);

#endif
