#ifndef LESIONMAP_CMALLOC_SHIM_H
#define LESIONMAP_CMALLOC_SHIM_H

// glibc's allocator settings (mallopt), which Swift's Glibc module does not export (ImagingCore.HeapReuse).
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>

static inline int cmalloc_set_thresholds(int mmap_threshold, int trim_threshold) {
    return mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1 && mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1;
}
#else
static inline int cmalloc_set_thresholds(int mmap_threshold, int trim_threshold) {
    (void)mmap_threshold; (void)trim_threshold;
    return 0;
}
#endif

#endif
