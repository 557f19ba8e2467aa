/* Which of the three builds of every kernel runs (vector_targets.h): chosen once, on the first
   call of any kernel, as the widest the processor has; tutor_set_vector_width may narrow it. */

#include "vector_width.h"
#include <pthread.h>
#include <stdatomic.h>

/* −1 until the first kernel call (or tutor_set_vector_width) decides. */
static atomic_int activeWidth = -1;
static pthread_once_t widestOnce = PTHREAD_ONCE_INIT;
static int widest = TUTOR_VECTOR_SSE;

/* __builtin_cpu_supports reads CPUID and also checks (XGETBV) that the operating system saves
   the wide registers on a context switch; without that the instructions would fault. */
static void findWidest(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    /* AVX2 and AVX-512F kernels may also use FMA (narrow_products.c); every processor with
       AVX2 so far has it, and one without runs the SSE2 kernels. */
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) widest = TUTOR_VECTOR_AVX512;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) widest = TUTOR_VECTOR_AVX2;
    else widest = TUTOR_VECTOR_SSE;
#else
    widest = TUTOR_VECTOR_SSE;          /* one build only (vector_targets.h) */
#endif
}

int tutor_widest_vector_width(void) {
    pthread_once(&widestOnce, findWidest);
    return widest;
}

int tutor_vector_width(void) {
    int width = atomic_load_explicit(&activeWidth, memory_order_relaxed);
    if (width >= 0) return width;
    /* The first call: every thread that gets here stores the same value. */
    int unset = -1;
    atomic_compare_exchange_strong(&activeWidth, &unset, tutor_widest_vector_width());
    return atomic_load(&activeWidth);
}

int tutor_set_vector_width(int width) {
    if (width < TUTOR_VECTOR_SSE || width > tutor_widest_vector_width()) return -1;
    atomic_store(&activeWidth, width);
    return 0;
}

const char *tutor_vector_width_name(int width) {
    switch (width) {
    case TUTOR_VECTOR_SSE: return "sse";
    case TUTOR_VECTOR_AVX2: return "avx2";
    case TUTOR_VECTOR_AVX512: return "avx512";
    default: return "?";
    }
}
