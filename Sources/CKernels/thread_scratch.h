/* A buffer per thread for the C kernels (private to this target). */

#ifndef TUTOR_THREAD_SCRATCH_H
#define TUTOR_THREAD_SCRATCH_H

#include <stddef.h>

/* A buffer of at least `count` floats, kept by the calling thread for its next call (its
   contents are not kept): a kernel called once per plane or per product would otherwise
   malloc and free some tens of KB each time, which costs more than its arithmetic. A kernel
   uses it only until it returns. */
float *tutor_thread_scratch(size_t count);

#endif
