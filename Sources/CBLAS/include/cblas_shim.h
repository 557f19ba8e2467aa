#ifndef TUTOR_CBLAS_SHIM_H
#define TUTOR_CBLAS_SHIM_H
/* The subset of the CBLAS interface (and OpenBLAS's thread control) that MiniNet uses.
   Declared here rather than included, because Debian puts OpenBLAS's cblas.h under an
   architecture- and variant-specific directory. The link is against libopenblas. */

#include <stddef.h>

enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112, CblasConjTrans = 113 };

void cblas_sgemm(const enum CBLAS_ORDER Order, const enum CBLAS_TRANSPOSE TransA,
                 const enum CBLAS_TRANSPOSE TransB, const int M, const int N, const int K,
                 const float alpha, const float *A, const int lda, const float *B, const int ldb,
                 const float beta, float *C, const int ldc);

void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

/* glibc allocator tuning for many large, short-lived buffers (defined in shim.c). */
void tutor_configure_allocator(void);
/* Bytes glibc's allocator has handed out and not had back, and bytes it holds from the
   system (every arena's heap and every mapped chunk): mallinfo2, for developers' reports. */
void tutor_heap_usage(size_t *in_use, size_t *held);

/* OpenBLAS picks its kernels from the processor's model and falls back to SSE3 (Prescott)
   for a model it does not know, as a virtual machine often reports; this picks them again
   from what the processor can do (AVX-512, AVX2 + FMA, AVX), unless OPENBLAS_CORETYPE is set.
   Call before the first product. Returns the name of the kernels in use (shim.c). */
const char *tutor_choose_openblas_kernels(void);
/* The OpenBLAS kernels tutor_choose_openblas_kernels would take for this processor when nothing
   else decides ("SKYLAKEX", "HASWELL", "SANDYBRIDGE", "PRESCOTT" for SSE only; "unknown" off
   x86-64), whatever OPENBLAS_CORETYPE says: to tell a person what a setting of theirs leaves out. */
const char *tutor_openblas_kernels_for_processor(void);

/* CRC-32 (the zip/PNG polynomial) of `count` bytes, continuing from `crc` (0 to start).
   On an x86-64 processor with PCLMULQDQ, by carry-less multiplication (folding, shim.c), else
   and for the last bytes with zlib's crc32_z, which works on several bytes at a time from
   precomputed tables (4 GB/s, against 0.5 GB/s for one table lookup per byte; links libz). */
unsigned int tutor_crc32(unsigned int crc, const void *bytes, unsigned long count);

#endif
