#ifndef TUTOR_THREAD_POOL_H
#define TUTOR_THREAD_POOL_H

/* The threads that MiniNet's parallel loops and products run on (Gemm.concurrently).

   Why not Dispatch alone: between two parallel regions, Dispatch's worker threads go to sleep,
   and waking one costs tens of microseconds on a laptop and 75 to 150 µs on a virtual machine
   like CI's (measured: a 256 K-value loop on 2 threads took 4 times as long as on one). A
   network's pass is hundreds of short regions back to back. These threads spin for a while
   after each region before they sleep (as OpenMP's threads do, which PyTorch runs on), so the
   next region starts in about two microseconds. Which thread runs which part never depends
   on timing: part w always goes to thread w, so results cannot depend on it either. */

/* A region's work: body(context, part) for one part. */
typedef void (*tutor_pool_body)(void *context, long part);

/* Runs body(context, part) for part = 0, 1, …, parts − 1: part 0 on the calling thread, part w
   on the pool's thread w (started on first use), and returns when every part has finished.
   Returns 0, or −1 without running anything when the pool is already running a region for
   another thread or parts is out of 2 … 256 (the caller then runs the parts itself). */
int tutor_pool_run(long parts, tutor_pool_body body, void *context);

#endif
