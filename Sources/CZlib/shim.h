#ifndef LESIONMAP_CZLIB_SHIM_H
#define LESIONMAP_CZLIB_SHIM_H

#include <zlib.h>

// zlib's init entry points are macros (they pass the library version and the
// z_stream size for an ABI check), which Swift cannot import; these wrappers
// make them callable.
static inline int czlib_inflate_init2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}

static inline int czlib_deflate_init2(z_streamp stream, int level, int windowBits) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}

#endif
