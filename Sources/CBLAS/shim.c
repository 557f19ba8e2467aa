#define _GNU_SOURCE
#include "cblas_shim.h"
#include <malloc.h>
#include <zlib.h>

/* Keeps large buffers in glibc's heap for reuse instead of mapping and unmapping them on
   every allocation above 128 KiB; see MiniNet.configureAllocator. */
void tutor_configure_allocator(void) {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 64 << 20);
}

unsigned int tutor_crc32(unsigned int crc, const void *bytes, unsigned long count) {
    return (unsigned int)crc32_z(crc, (const Bytef *)bytes, (z_size_t)count);
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <strings.h>

/* Which register widths the operating system saves on a context switch (XCR0). */
static unsigned long long tutor_xgetbv0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

/* The OpenBLAS kernels for what the processor can do, or NULL for SSE only. */
static const char *tutor_kernels_for_processor(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return NULL;
    int osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1, fma = (ecx >> 12) & 1;
    if (!osxsave || !avx) return NULL;
    unsigned long long xcr0 = tutor_xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return NULL;                 /* XMM and YMM state */
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return "SANDYBRIDGE";
    int avx2 = (ebx >> 5) & 1;
    int avx512 = ((ebx >> 16) & 1) && ((ebx >> 17) & 1) && ((ebx >> 28) & 1)   /* F, DQ, CD */
              && ((ebx >> 30) & 1) && ((ebx >> 31) & 1);                          /* BW, VL */
    if (avx512 && avx2 && fma && (xcr0 & 0xE0) == 0xE0) return "SKYLAKEX";       /* opmask, ZMM state */
    if (avx2 && fma) return "HASWELL";
    return "SANDYBRIDGE";
}

const char *tutor_choose_openblas_kernels(void) {
    const char *(*corename)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_corename");
    void (*dynamic_init)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init");
    void (*dynamic_quit)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit");
    if (!corename) return "unknown";
    /* A person's OPENBLAS_CORETYPE wins; a build without run-time dispatch has one set of kernels. */
    if (getenv("OPENBLAS_CORETYPE") || !dynamic_init || !dynamic_quit) return corename();
    /* Prescott is OpenBLAS's fallback for a processor model it does not know, as virtual
       machines often report; anything else is its own, informed choice. */
    if (strcasecmp(corename(), "Prescott") != 0) return corename();
    const char *wanted = tutor_kernels_for_processor();
    if (!wanted) return corename();
    setenv("OPENBLAS_CORETYPE", wanted, 1);
    dynamic_quit();
    dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
    return corename();
}
#else
const char *tutor_choose_openblas_kernels(void) { return "unknown"; }
#endif
