// C face of OpenBLAS (CBLAS) and LAPACKE for Swift.
//
// The openblas pkg-config file adds OpenBLAS's include directory, where its
// cblas.h lives; lapacke.h comes from the reference LAPACKE package.
#ifndef LESIONMAP_COPENBLAS_SHIM_H
#define LESIONMAP_COPENBLAS_SHIM_H

#include <cblas.h>
#include <lapacke.h>

// OpenBLAS built with its own thread server (the pthreads variant) starts its worker threads when the
// library loads, and each worker busy-waits (sched_yield) for work for about 2^28 cycles before it
// sleeps: a short command that makes no BLAS call pays that spinning on another core. Stopping the
// server is safe at any time: OpenBLAS starts it again by itself at the next multi-threaded call
// (exec_blas re-creates the pool, as after a fork). The symbol is weak because OpenMP and serial
// builds of OpenBLAS may not define it; then nothing is done.
extern int blas_thread_shutdown_(void) __attribute__((weak));

/// Stops OpenBLAS's idle worker threads until a BLAS call needs them; returns 1 when it did.
static inline int copenblas_stop_idle_threads(void) {
    if (!blas_thread_shutdown_) return 0;
    blas_thread_shutdown_();
    return 1;
}

#endif
