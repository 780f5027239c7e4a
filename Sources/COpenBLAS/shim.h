// C face of OpenBLAS (CBLAS) and LAPACKE for Swift.
//
// The openblas pkg-config file adds OpenBLAS's include directory, where its
// cblas.h lives; lapacke.h comes from the reference LAPACKE package.
#ifndef LESIONMAP_COPENBLAS_SHIM_H
#define LESIONMAP_COPENBLAS_SHIM_H

#include <cblas.h>
#include <lapacke.h>

#endif
