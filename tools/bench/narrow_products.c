/* The products of Winograd's positions, timed alone: OpenBLAS's cblas_sgemm against MiniNet's
   tutor_multiply_narrow (Sources/CKernels/narrow_products.c), on one thread, for the shapes a
   ResNet's 3 × 3 convolutions give (U[ξ] [rows, inner] × V[ξ] [inner, columns]; "T" marks U[ξ]
   stored by columns, as the input gradient reads it). Each line is the best of 30 rounds of 16
   products with different operands, the two kernels in turn. Winograd.takesNarrowProducts
   follows what this measures.

   Build and run from the repository's root (OPENBLAS_CORETYPE chooses OpenBLAS's kernels; the
   argument, sse, avx2 or avx512, the width of MiniNet's kernel, the widest by default):

       S=Sources/CKernels
       clang -O2 -I$S/include -I$S tools/bench/narrow_products.c $S/narrow_products.c \
           $S/thread_scratch.c $S/vector_width.c -lopenblas -lm -o /tmp/narrow_products
       OPENBLAS_CORETYPE=Haswell /tmp/narrow_products
       env -u OPENBLAS_CORETYPE /tmp/narrow_products avx2 */

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "narrow_products.h"
#include "vector_width.h"

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    openblas_set_num_threads(1);
    if (argc > 1) {
        const int width = strcmp(argv[1], "sse") == 0 ? TUTOR_VECTOR_SSE : strcmp(argv[1], "avx2") == 0 ? TUTOR_VECTOR_AVX2 : TUTOR_VECTOR_AVX512;
        if (tutor_set_vector_width(width) != 0) {
            fprintf(stderr, "narrow_products: this processor has no %s\n", argv[1]);
            return 2;
        }
    }
    /* rows, inner, columns, U stored by columns */
    static const long shapes[][4] = {
        {64, 64, 196, 0},  {128, 128, 49, 0},  {256, 256, 16, 0},  {512, 512, 4, 0},    /* F(4×4) and F(2×2), one picture */
        {64, 64, 784, 0},  {128, 128, 196, 0}, {256, 256, 49, 0},  {256, 256, 64, 0},   {512, 512, 32, 0},
        {64, 64, 512, 0},  {128, 128, 512, 0}, {256, 256, 512, 0}, {512, 512, 128, 0},  /* batches */
        {16, 16, 512, 0},  {32, 32, 512, 0},                                            /* the small CNN */
        {64, 64, 196, 1},  {128, 128, 49, 1},  {256, 256, 49, 1},  {512, 512, 32, 1},   /* input gradients */
        {64, 64, 784, 1},  {128, 128, 392, 1}, {256, 256, 392, 1},
        {64, 64, 512, 1},  {128, 128, 512, 1}, {64, 64, 1024, 1},                       /* rows of B 2 KiB apart */
        {128, 576, 784, 0}, {256, 1152, 196, 0}, {128, 576, 3136, 0}, {256, 1152, 784, 0}, /* im2col, stride 2: W × columns */
        {576, 128, 784, 1}, {1152, 256, 196, 1}, {576, 128, 3136, 1}, {1152, 256, 784, 1}, /* and Wᵀ × ∂L/∂Y */
        {64, 64, 3136, 0}, {128, 64, 784, 0}, {64, 128, 3136, 1},                         /* 1 × 1 */
    };
    enum { POSITIONS = 16, ROUNDS = 30 };
    printf("kernels: OpenBLAS %s, narrow %s\n", getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "(its own choice)",
           tutor_vector_width_name(tutor_vector_width()));
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const long rows = shapes[s][0], inner = shapes[s][1], columns = shapes[s][2];
        const int byColumns = (int)shapes[s][3];
        float *a = malloc(sizeof(float) * (size_t)(rows * inner * POSITIONS));
        float *b = malloc(sizeof(float) * (size_t)(inner * columns * POSITIONS));
        float *c = malloc(sizeof(float) * (size_t)(rows * columns * POSITIONS));
        if (!a || !b || !c) return 1;
        for (long i = 0; i < rows * inner * POSITIONS; i++) a[i] = (float)rand() / (float)RAND_MAX - 0.5f;
        for (long i = 0; i < inner * columns * POSITIONS; i++) b[i] = (float)rand() / (float)RAND_MAX - 0.5f;
        double best[2] = {1e9, 1e9};
        for (int round = 0; round < ROUNDS; round++) {
            for (int kernel = 0; kernel < 2; kernel++) {
                const double start = seconds();
                for (int p = 0; p < POSITIONS; p++) {
                    const float *u = a + p * rows * inner, *v = b + p * inner * columns;
                    float *m = c + p * rows * columns;
                    if (kernel == 0)
                        cblas_sgemm(CblasRowMajor, byColumns ? CblasTrans : CblasNoTrans, CblasNoTrans, (int)rows, (int)columns, (int)inner, 1,
                                    u, byColumns ? (int)rows : (int)inner, v, (int)columns, 0, m, (int)columns);
                    else
                        tutor_multiply_narrow(u, byColumns ? 1 : inner, byColumns ? rows : 1, v, m, rows, inner, columns);
                }
                const double elapsed = seconds() - start;
                if (elapsed < best[kernel]) best[kernel] = elapsed;
            }
        }
        const double flops = 2.0 * (double)(rows * inner * columns) * POSITIONS;
        printf("%4ld × %4ld × %4ld %s  OpenBLAS %6.1f GFLOP/s  narrow %6.1f GFLOP/s  narrow / OpenBLAS time %.2f\n", rows, inner, columns,
               byColumns ? "T" : " ", flops / best[0] / 1e9, flops / best[1] / 1e9, best[1] / best[0]);
        free(a);
        free(b);
        free(c);
    }
    return 0;
}
