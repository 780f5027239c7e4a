#ifndef LESIONMAP_CDEFLATE_SHIM_H
#define LESIONMAP_CDEFLATE_SHIM_H

// libdeflate: whole-buffer DEFLATE/gzip decompression, about twice as fast as zlib's streaming inflate
// (ZlibSupport reads gzip files with it and keeps zlib for streams, compression and error reporting).
#include <libdeflate.h>

#endif
