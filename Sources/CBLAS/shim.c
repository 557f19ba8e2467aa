#include "cblas_shim.h"
#include <malloc.h>

/* Keeps large buffers in glibc's heap for reuse instead of mapping and unmapping them on
   every allocation above 128 KiB; see MiniNet.configureAllocator. */
void tutor_configure_allocator(void) {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 64 << 20);
}
