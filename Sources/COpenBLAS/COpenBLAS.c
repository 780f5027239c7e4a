// Loads OpenBLAS and LAPACKE on the first call of a wrapper (see COpenBLAS.h).
#include "COpenBLAS.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef void (*dgemm_fn)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, blasint, blasint, blasint,
                         double, const double *, blasint, const double *, blasint, double, double *, blasint);
typedef void (*dgemv_fn)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, blasint, blasint, double, const double *, blasint,
                         const double *, blasint, double, double *, blasint);
typedef lapack_int (*dsyevd_fn)(int, char, char, lapack_int, double *, lapack_int, double *);
typedef double (*dlange_fn)(int, char, lapack_int, lapack_int, const double *, lapack_int);
typedef lapack_int (*dgetrf_fn)(int, lapack_int, lapack_int, double *, lapack_int, lapack_int *);
typedef lapack_int (*dgecon_fn)(int, char, lapack_int, const double *, lapack_int, double, double *);
typedef lapack_int (*dgetrs_fn)(int, char, lapack_int, lapack_int, const double *, lapack_int, const lapack_int *,
                                double *, lapack_int);
typedef lapack_int (*dposv_fn)(int, char, lapack_int, lapack_int, double *, lapack_int, double *, lapack_int);
typedef int (*shutdown_fn)(void);

static struct {
    dgemm_fn dgemm;
    dgemv_fn dgemv;
    dsyevd_fn dsyevd;
    dlange_fn dlange;
    dgetrf_fn dgetrf;
    dgecon_fn dgecon;
    dgetrs_fn dgetrs;
    dposv_fn dposv;
    shutdown_fn shutdown;
} api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static volatile int loaded = 0;

static void *open_first(const char *const *names, const char *package) {
    const char *error = "";
    for (const char *const *name = names; *name; name++) {
        void *handle = dlopen(*name, RTLD_NOW | RTLD_LOCAL);
        if (handle) return handle;
        error = dlerror();
    }
    fprintf(stderr, "lesionmap: cannot load %s (%s), which this command needs for its matrix arithmetic; "
                    "install it (Debian: apt-get install %s)\n", names[0], error ? error : "", package);
    exit(70);
}

static void *need(void *handle, const char *library, const char *symbol) {
    void *address = dlsym(handle, symbol);
    if (!address) {
        fprintf(stderr, "lesionmap: %s has no function %s; install the Debian package of OpenBLAS and LAPACKE "
                        "(apt-get install libopenblas0-pthread liblapacke)\n", library, symbol);
        exit(70);
    }
    return address;
}

static void load(void) {
    static const char *const blas_names[] = {"libopenblas.so.0", "libopenblas.so", NULL};
    static const char *const lapacke_names[] = {"liblapacke.so.3", "liblapacke.so", NULL};
    void *blas = open_first(blas_names, "libopenblas0-pthread");
    void *lapacke = open_first(lapacke_names, "liblapacke");
    api.dgemm = (dgemm_fn)need(blas, "libopenblas.so.0", "cblas_dgemm");
    api.dgemv = (dgemv_fn)need(blas, "libopenblas.so.0", "cblas_dgemv");
    api.dsyevd = (dsyevd_fn)need(lapacke, "liblapacke.so.3", "LAPACKE_dsyevd");
    api.dlange = (dlange_fn)need(lapacke, "liblapacke.so.3", "LAPACKE_dlange");
    api.dgetrf = (dgetrf_fn)need(lapacke, "liblapacke.so.3", "LAPACKE_dgetrf");
    api.dgecon = (dgecon_fn)need(lapacke, "liblapacke.so.3", "LAPACKE_dgecon");
    api.dgetrs = (dgetrs_fn)need(lapacke, "liblapacke.so.3", "LAPACKE_dgetrs");
    api.dposv = (dposv_fn)need(lapacke, "liblapacke.so.3", "LAPACKE_dposv");
    // Absent from OpenMP and serial builds of OpenBLAS, which have no busy-waiting thread server of their own.
    api.shutdown = (shutdown_fn)dlsym(blas, "blas_thread_shutdown_");
    // OpenBLAS started its worker threads as it loaded, and they busy-wait for work: stop them until a
    // multi-threaded call needs them (OpenBLAS then starts them again by itself, as after a fork).
    if (api.shutdown) api.shutdown();
    __atomic_store_n(&loaded, 1, __ATOMIC_RELEASE);
}

static inline void ensure_loaded(void) {
    if (!__atomic_load_n(&loaded, __ATOMIC_ACQUIRE)) pthread_once(&load_once, load);
}

int lm_openblas_is_loaded(void) { return __atomic_load_n(&loaded, __ATOMIC_ACQUIRE); }

int lm_openblas_stop_idle_threads(void) {
    if (!lm_openblas_is_loaded() || !api.shutdown) return 0;
    api.shutdown();
    return 1;
}

void lm_cblas_dgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB,
                    blasint m, blasint n, blasint k, double alpha, const double *a, blasint lda,
                    const double *b, blasint ldb, double beta, double *c, blasint ldc) {
    ensure_loaded();
    api.dgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void lm_cblas_dgemv(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE trans, blasint m, blasint n, double alpha,
                    const double *a, blasint lda, const double *x, blasint incx, double beta, double *y,
                    blasint incy) {
    ensure_loaded();
    api.dgemv(order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy);
}

lapack_int lm_LAPACKE_dsyevd(int layout, char jobz, char uplo, lapack_int n, double *a, lapack_int lda, double *w) {
    ensure_loaded();
    return api.dsyevd(layout, jobz, uplo, n, a, lda, w);
}

double lm_LAPACKE_dlange(int layout, char norm, lapack_int m, lapack_int n, const double *a, lapack_int lda) {
    ensure_loaded();
    return api.dlange(layout, norm, m, n, a, lda);
}

lapack_int lm_LAPACKE_dgetrf(int layout, lapack_int m, lapack_int n, double *a, lapack_int lda, lapack_int *ipiv) {
    ensure_loaded();
    return api.dgetrf(layout, m, n, a, lda, ipiv);
}

lapack_int lm_LAPACKE_dgecon(int layout, char norm, lapack_int n, const double *a, lapack_int lda, double anorm,
                             double *rcond) {
    ensure_loaded();
    return api.dgecon(layout, norm, n, a, lda, anorm, rcond);
}

lapack_int lm_LAPACKE_dgetrs(int layout, char trans, lapack_int n, lapack_int nrhs, const double *a, lapack_int lda,
                             const lapack_int *ipiv, double *b, lapack_int ldb) {
    ensure_loaded();
    return api.dgetrs(layout, trans, n, nrhs, a, lda, ipiv, b, ldb);
}

lapack_int lm_LAPACKE_dposv(int layout, char uplo, lapack_int n, lapack_int nrhs, double *a, lapack_int lda,
                            double *b, lapack_int ldb) {
    ensure_loaded();
    return api.dposv(layout, uplo, n, nrhs, a, lda, b, ldb);
}
