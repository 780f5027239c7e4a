// C face of OpenBLAS (CBLAS) and LAPACKE for Swift, loaded on first use.
//
// Most lesionmap commands (features, extract, report, ...) never multiply a matrix. Linking OpenBLAS and LAPACKE
// made every process load them (and libgfortran, libquadmath, the reference BLAS/LAPACK) and resolve about 16,000
// of their symbols at start, and start OpenBLAS's worker threads, which busy-wait for work. Instead, the first call
// of any function below opens libopenblas.so.0 and liblapacke.so.3 (dlopen) and finds the functions in them; a
// process that makes no such call never loads them. If they cannot be loaded, the process stops with a message
// naming the library and the package that provides it (a linked library would have stopped it at start).
//
// The functions take the arguments of the CBLAS and LAPACKE functions of the same name without the `lm_` prefix;
// cblas.h and lapacke.h are included for their types and constants only (nothing here links their functions).
#ifndef LESIONMAP_COPENBLAS_H
#define LESIONMAP_COPENBLAS_H

#include <cblas.h>
#include <lapacke.h>

void lm_cblas_dgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB,
                    blasint m, blasint n, blasint k, double alpha, const double *a, blasint lda,
                    const double *b, blasint ldb, double beta, double *c, blasint ldc);
void lm_cblas_dgemv(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE trans, blasint m, blasint n, double alpha,
                    const double *a, blasint lda, const double *x, blasint incx, double beta, double *y,
                    blasint incy);

lapack_int lm_LAPACKE_dsyevd(int layout, char jobz, char uplo, lapack_int n, double *a, lapack_int lda, double *w);
double lm_LAPACKE_dlange(int layout, char norm, lapack_int m, lapack_int n, const double *a, lapack_int lda);
lapack_int lm_LAPACKE_dgetrf(int layout, lapack_int m, lapack_int n, double *a, lapack_int lda, lapack_int *ipiv);
lapack_int lm_LAPACKE_dgecon(int layout, char norm, lapack_int n, const double *a, lapack_int lda, double anorm,
                             double *rcond);
lapack_int lm_LAPACKE_dgetrs(int layout, char trans, lapack_int n, lapack_int nrhs, const double *a, lapack_int lda,
                             const lapack_int *ipiv, double *b, lapack_int ldb);
lapack_int lm_LAPACKE_dposv(int layout, char uplo, lapack_int n, lapack_int nrhs, double *a, lapack_int lda,
                            double *b, lapack_int ldb);

/// Whether OpenBLAS has been loaded (by a call of one of the functions above).
int lm_openblas_is_loaded(void);

/// Stops OpenBLAS's idle worker threads if it is loaded and has a thread server of its own (the pthreads build);
/// returns 1 when it did. OpenBLAS starts them again at its next multi-threaded call.
int lm_openblas_stop_idle_threads(void);

#endif
