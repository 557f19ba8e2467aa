/* The spinning thread pool of thread_pool.h.

   Each pool thread w has its own ticket. To start a region, the caller writes the region's body
   and context, then increments the ticket of every thread that takes a part; a thread that sees
   its ticket move runs its part and decrements `unfinished`. The caller runs part 0 itself,
   then waits for `unfinished` to reach 0; only then may the next region overwrite the body and
   context, so a thread always reads the region its ticket announced.

   Waiting: a thread spins on its ticket for `spin_nanoseconds`, then sleeps on its condition
   variable. Before sleeping it sets `sleeping` and reads the ticket again; the caller increments
   the ticket and then reads `sleeping` (both sequentially consistent), so at least one of the two
   sees the other: either the thread sees the new ticket and does not sleep, or the caller sees
   `sleeping` and signals under the thread's mutex. */

#define _GNU_SOURCE
#include "thread_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TUTOR_PAUSE() _mm_pause()
#else
#define TUTOR_PAUSE() ((void)0)
#endif

enum { max_parts = 256 };

/* Long enough to bridge the gap between the regions of one pass (a few µs to some tens), short
   enough that an idle process stops using its cores at once to a person. With more threads
   than cores (TUTOR_THREADS=16 on a laptop of 4), spinning threads would take the cores from
   the ones with work: then they sleep at once. */
static const long spin_nanoseconds = 200000;
static _Atomic long spin_limit = spin_nanoseconds;

struct pool_thread {
    _Atomic unsigned long ticket;
    _Atomic int sleeping;
    pthread_t thread;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    char padding[64];
};

static struct pool_thread threads[max_parts];
static pthread_mutex_t busy = PTHREAD_MUTEX_INITIALIZER;
static tutor_pool_body _Atomic region_body;
static void *_Atomic region_context;
static _Atomic long unfinished;

static long now_nanoseconds(void) {
    struct timespec time;
    clock_gettime(CLOCK_MONOTONIC, &time);
    return (long)time.tv_sec * 1000000000L + time.tv_nsec;
}

static void *pool_thread_main(void *argument) {
    long part = (long)argument;
    struct pool_thread *self = &threads[part];
    unsigned long seen = 0;
    for (;;) {
        long spins = 0, spin_start = 0;
        while (atomic_load_explicit(&self->ticket, memory_order_acquire) == seen) {
            TUTOR_PAUSE();
            if ((++spins & 255) != 0) continue;
            long now = now_nanoseconds();
            if (spin_start == 0) spin_start = now;
            if (now - spin_start < atomic_load_explicit(&spin_limit, memory_order_relaxed)) continue;
            pthread_mutex_lock(&self->mutex);
            atomic_store(&self->sleeping, 1);
            while (atomic_load(&self->ticket) == seen) pthread_cond_wait(&self->wake, &self->mutex);
            atomic_store(&self->sleeping, 0);
            pthread_mutex_unlock(&self->mutex);
        }
        seen = atomic_load_explicit(&self->ticket, memory_order_acquire);
        tutor_pool_body body = atomic_load_explicit(&region_body, memory_order_relaxed);
        void *context = atomic_load_explicit(&region_context, memory_order_relaxed);
        body(context, part);
        atomic_fetch_sub_explicit(&unfinished, 1, memory_order_release);
    }
    return 0;
}

/* Pool threads 1 … threads_started − 1 are running. */
static long threads_started = 1;

/* Starts pool threads up to parts − 1; called with `busy` held. */
static int start_threads(long parts) {
    if (parts <= threads_started) return 0;
    for (long part = threads_started; part < parts; part++) {
        struct pool_thread *thread = &threads[part];
        pthread_mutex_init(&thread->mutex, 0);
        pthread_cond_init(&thread->wake, 0);
        atomic_store(&thread->ticket, 0);
        atomic_store(&thread->sleeping, 0);
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setstacksize(&attributes, 8L << 20);
        int failed = pthread_create(&thread->thread, &attributes, pool_thread_main, (void *)part);
        pthread_attr_destroy(&attributes);
        if (failed) return -1;
        pthread_detach(thread->thread);
        threads_started = part + 1;
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        atomic_store(&spin_limit, cores > 0 && threads_started > cores ? 0 : spin_nanoseconds);
    }
    return 0;
}

int tutor_pool_run(long parts, tutor_pool_body body, void *context) {
    if (parts < 2 || parts > max_parts) return -1;
    if (pthread_mutex_trylock(&busy) != 0) return -1;
    if (start_threads(parts) != 0) {
        pthread_mutex_unlock(&busy);
        return -1;
    }
    atomic_store_explicit(&region_body, body, memory_order_relaxed);
    atomic_store_explicit(&region_context, context, memory_order_relaxed);
    atomic_store_explicit(&unfinished, parts - 1, memory_order_relaxed);
    for (long part = 1; part < parts; part++) {
        struct pool_thread *thread = &threads[part];
        atomic_fetch_add(&thread->ticket, 1);
        if (atomic_load(&thread->sleeping)) {
            pthread_mutex_lock(&thread->mutex);
            pthread_cond_signal(&thread->wake);
            pthread_mutex_unlock(&thread->mutex);
        }
    }
    body(context, 0);
    long spins = 0;
    while (atomic_load_explicit(&unfinished, memory_order_acquire) != 0) {
        TUTOR_PAUSE();
        /* A part still running after many spins is long or its thread is descheduled: let the
           other threads have this core. */
        if (++spins > 4096) sched_yield();
    }
    pthread_mutex_unlock(&busy);
    return 0;
}
