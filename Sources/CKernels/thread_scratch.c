#include "thread_scratch.h"
#include <stdlib.h>

float *tutor_thread_scratch(size_t count) {
    static _Thread_local float *buffer;
    static _Thread_local size_t capacity;
    if (count > capacity) {
        free(buffer);
        buffer = malloc(count * sizeof(float));
        if (!buffer) abort();
        capacity = count;
    }
    return buffer;
}
