// C face of the serial HDF5 library for Swift.
//
// HDF5 exposes its file-access flags, default property lists and predefined
// datatypes as macros that expand to function calls or casts, which Swift
// cannot import; they are re-exported here as static inline functions.
// The helpers at the end cover variable-length UTF-8 strings and the error stack.
#ifndef LESIONMAP_CHDF5_SHIM_H
#define LESIONMAP_CHDF5_SHIM_H

#include <hdf5.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

// File access flags.
static inline unsigned chdf5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned chdf5_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned chdf5_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned chdf5_acc_excl(void) { return H5F_ACC_EXCL; }

// Default identifiers.
static inline hid_t chdf5_p_default(void) { return H5P_DEFAULT; }
static inline hid_t chdf5_s_all(void) { return H5S_ALL; }
static inline hid_t chdf5_e_default(void) { return H5E_DEFAULT; }

// Property list classes.
static inline hid_t chdf5_p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t chdf5_p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t chdf5_p_dataset_create(void) { return H5P_DATASET_CREATE; }

// Predefined datatypes.
static inline hid_t chdf5_t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t chdf5_t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t chdf5_t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t chdf5_t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t chdf5_t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t chdf5_t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t chdf5_t_c_s1(void) { return H5T_C_S1; }
static inline size_t chdf5_t_variable(void) { return H5T_VARIABLE; }
static inline hsize_t chdf5_s_unlimited(void) { return H5S_UNLIMITED; }

// A new variable-length, null-terminated UTF-8 string type (h5py reads it as str);
// the caller closes it with H5Tclose. Returns a negative id on failure.
static inline hid_t chdf5_vlen_utf8_string_type(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return t;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0 ||
        H5Tset_strpad(t, H5T_STR_NULLTERM) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

// A new fixed-length, null-padded ASCII string type of `size` bytes; the caller
// closes it with H5Tclose. Returns a negative id on failure.
static inline hid_t chdf5_fixed_ascii_string_type(size_t size) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return t;
    if (H5Tset_size(t, size) < 0 || H5Tset_cset(t, H5T_CSET_ASCII) < 0 ||
        H5Tset_strpad(t, H5T_STR_NULLPAD) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

// Frees the strings HDF5 allocated while reading variable-length data into `buf`.
static inline herr_t chdf5_reclaim_vlen(hid_t mem_type, hid_t space, void *buf) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(mem_type, space, H5P_DEFAULT, buf);
#else
    return H5Dvlen_reclaim(mem_type, space, H5P_DEFAULT, buf);
#endif
}

// Stops HDF5 printing its error stack to stderr; failures are reported by return codes instead.
static inline herr_t chdf5_silence_errors(void) {
    return H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

typedef struct {
    char *buffer;
    size_t size;
} chdf5_error_sink;

static inline herr_t chdf5_error_walker(unsigned n, const H5E_error2_t *err, void *data) {
    chdf5_error_sink *sink = (chdf5_error_sink *)data;
    if (err == NULL || err->desc == NULL || sink->size == 0) return 0;
    // Walking downward, the last entry is the innermost (most specific) cause.
    snprintf(sink->buffer, sink->size, "%s (in %s)", err->desc,
             err->func_name != NULL ? err->func_name : "?");
    (void)n;
    return 0;
}

// Copies the innermost message of the current thread's error stack into `buffer`
// (empty when the stack is empty) and clears the stack.
static inline void chdf5_take_error_message(char *buffer, size_t size) {
    if (size == 0) return;
    buffer[0] = '\0';
    chdf5_error_sink sink = {buffer, size};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, chdf5_error_walker, &sink);
    H5Eclear2(H5E_DEFAULT);
}

// Counts the attributes attached to an object.
static inline herr_t chdf5_attribute_counter(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    (void)loc; (void)name; (void)info;
    *(hsize_t *)data += 1;
    return 0;
}

static inline long long chdf5_attribute_count(hid_t object) {
    hsize_t count = 0;
    hsize_t index = 0;
    if (H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, chdf5_attribute_counter, &count) < 0)
        return -1;
    return (long long)count;
}

// Property lists for files that LesionMap writes.
//
// Written files are built entirely in memory (the core driver without a backing
// store) and their image is then written to disk by the caller: HDF5 1.10 cannot
// recover from a failed write while closing a disk file (a full disk leaves a
// half-closed file or dataset registered, which its exit handler then closes
// again and crashes), so no HDF5 call ever writes to disk.
// The format is that of HDF5 1.8 (readable by h5py and every HDF5 since 1.8),
// whose object headers, links and attribute messages carry checksums, and no
// object records its modification time, so equal contents give equal bytes.
static inline hid_t chdf5_memory_file_access(size_t increment) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return fapl;
    if (H5Pset_fapl_core(fapl, increment, 0) < 0 ||
        H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

// A file creation property list whose root group records no times, and whose
// chunk indexes (version 1 B-trees) have nodes of 4 entries instead of 64: most
// checksummed datasets are a single chunk, and a 64-entry node would add about
// 2 kB to each (in a part file of one patient, with some 20 numeric columns,
// more than the data itself).
static inline hid_t chdf5_untimed_file_creation(void) {
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fcpl < 0) return fcpl;
    if (H5Pset_obj_track_times(fcpl, 0) < 0 || H5Pset_istore_k(fcpl, 2) < 0) {
        H5Pclose(fcpl);
        return -1;
    }
    return fcpl;
}

// A group creation property list recording no times.
static inline hid_t chdf5_untimed_group_creation(void) {
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    if (gcpl < 0) return gcpl;
    if (H5Pset_obj_track_times(gcpl, 0) < 0) {
        H5Pclose(gcpl);
        return -1;
    }
    return gcpl;
}

// A dataset transfer property list whose type-conversion buffers hold `count`
// elements of the larger of the two types, at least 1 KiB and at most 1 MiB
// (HDF5's default size). HDF5 allocates and zeroes these buffers on every read
// or write that converts (variable-length strings always do): at the default
// 1 MiB, each text column of a small file costs two 1 MiB clears. Smaller
// buffers change only how many elements are converted per pass, never the
// bytes stored. The caller closes it with H5Pclose; negative on failure.
static inline hid_t chdf5_transfer_list(hid_t file_type, hid_t mem_type, size_t count) {
    size_t file_size = H5Tget_size(file_type), mem_size = H5Tget_size(mem_type);
    if (file_size == 0 || mem_size == 0) return -1;
    size_t element = file_size > mem_size ? file_size : mem_size;
    size_t bytes = (size_t)1 << 20;
    if (count < bytes / element) bytes = count * element;
    if (bytes < 1024) bytes = 1024;
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    if (dxpl < 0) return dxpl;
    if (H5Pset_buffer(dxpl, bytes, NULL, NULL) < 0) {
        H5Pclose(dxpl);
        return -1;
    }
    return dxpl;
}

// A dataset creation property list recording no times; with `chunk_rank` > 0 the
// data is stored in chunks of `chunk_dims`, each with a Fletcher32 checksum that
// HDF5 (and h5py) verify on every read.
static inline hid_t chdf5_dataset_creation(int chunk_rank, const hsize_t *chunk_dims) {
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (dcpl < 0) return dcpl;
    if (H5Pset_obj_track_times(dcpl, 0) < 0 ||
        (chunk_rank > 0 && (H5Pset_chunk(dcpl, chunk_rank, chunk_dims) < 0 || H5Pset_fletcher32(dcpl) < 0))) {
        H5Pclose(dcpl);
        return -1;
    }
    return dcpl;
}

// Whether the dataset's data passes through the Fletcher32 filter (1), not (0), or failure (-1).
static inline int chdf5_dataset_has_fletcher32(hid_t dataset) {
    hid_t dcpl = H5Dget_create_plist(dataset);
    if (dcpl < 0) return -1;
    int found = 0;
    int count = H5Pget_nfilters(dcpl);
    for (int i = 0; i < count; i++) {
        unsigned flags = 0;
        size_t elements = 0;
        unsigned config = 0;
        if (H5Pget_filter2(dcpl, (unsigned)i, &flags, &elements, NULL, 0, NULL, &config) == H5Z_FILTER_FLETCHER32)
            found = 1;
    }
    H5Pclose(dcpl);
    return count < 0 ? -1 : found;
}

// Where a dataset's stored bytes lie in its file: contiguous data as one range,
// chunked data as one range per chunk (before any filter is undone). Fills up to
// `capacity` ranges and returns how many there are, or -1 on failure.
static inline long long chdf5_dataset_storage_ranges(hid_t dataset, unsigned long long *offsets,
                                                     unsigned long long *sizes, long long capacity) {
    hid_t dcpl = H5Dget_create_plist(dataset);
    if (dcpl < 0) return -1;
    H5D_layout_t layout = H5Pget_layout(dcpl);
    H5Pclose(dcpl);
    if (layout == H5D_LAYOUT_ERROR) return -1;
    if (layout != H5D_CHUNKED) {
        haddr_t contiguous = H5Dget_offset(dataset);
        if (contiguous == HADDR_UNDEF) return 0;
        if (capacity > 0) {
            offsets[0] = contiguous;
            sizes[0] = H5Dget_storage_size(dataset);
        }
        return 1;
    }
    hid_t space = H5Dget_space(dataset);
    if (space < 0) return -1;
    hsize_t count = 0;
    if (H5Dget_num_chunks(dataset, space, &count) < 0) { H5Sclose(space); return -1; }
    for (hsize_t i = 0; i < count && (long long)i < capacity; i++) {
        unsigned mask = 0;
        haddr_t address = HADDR_UNDEF;
        hsize_t size = 0;
        if (H5Dget_chunk_info(dataset, space, i, NULL, &mask, &address, &size) < 0) { H5Sclose(space); return -1; }
        offsets[i] = address;
        sizes[i] = size;
    }
    H5Sclose(space);
    return (long long)count;
}

// Closes an object identifier with the call of its own type. H5Dclose drops the
// identifier even when closing fails, whereas H5Oclose (HDF5 1.10) keeps a
// half-closed dataset registered, which HDF5's exit handler then closes a second
// time (a crash after a failed write).
static inline herr_t chdf5_close_object(hid_t id) {
    switch (H5Iget_type(id)) {
    case H5I_DATASET: return H5Dclose(id);
    case H5I_GROUP: return H5Gclose(id);
    case H5I_DATATYPE: return H5Tclose(id);
    default: return H5Oclose(id);
    }
}

// Bob Jenkins' lookup3 hash (public domain), byte-wise variant of hashlittle(),
// the checksum HDF5 uses for its metadata blocks.
#define CHDF5_ROT(x, k) (((x) << (k)) | ((x) >> (32 - (k))))
static inline uint32_t chdf5_lookup3(const uint8_t *k, size_t length, uint32_t initval) {
    uint32_t a, b, c;
    a = b = c = 0xdeadbeef + ((uint32_t)length) + initval;
    while (length > 12) {
        a += k[0] + ((uint32_t)k[1] << 8) + ((uint32_t)k[2] << 16) + ((uint32_t)k[3] << 24);
        b += k[4] + ((uint32_t)k[5] << 8) + ((uint32_t)k[6] << 16) + ((uint32_t)k[7] << 24);
        c += k[8] + ((uint32_t)k[9] << 8) + ((uint32_t)k[10] << 16) + ((uint32_t)k[11] << 24);
        a -= c; a ^= CHDF5_ROT(c, 4);  c += b;
        b -= a; b ^= CHDF5_ROT(a, 6);  a += c;
        c -= b; c ^= CHDF5_ROT(b, 8);  b += a;
        a -= c; a ^= CHDF5_ROT(c, 16); c += b;
        b -= a; b ^= CHDF5_ROT(a, 19); a += c;
        c -= b; c ^= CHDF5_ROT(b, 4);  b += a;
        length -= 12;
        k += 12;
    }
    switch (length) {
    case 12: c += ((uint32_t)k[11]) << 24; /* fall through */
    case 11: c += ((uint32_t)k[10]) << 16; /* fall through */
    case 10: c += ((uint32_t)k[9]) << 8;   /* fall through */
    case 9: c += k[8];                     /* fall through */
    case 8: b += ((uint32_t)k[7]) << 24;   /* fall through */
    case 7: b += ((uint32_t)k[6]) << 16;   /* fall through */
    case 6: b += ((uint32_t)k[5]) << 8;    /* fall through */
    case 5: b += k[4];                     /* fall through */
    case 4: a += ((uint32_t)k[3]) << 24;   /* fall through */
    case 3: a += ((uint32_t)k[2]) << 16;   /* fall through */
    case 2: a += ((uint32_t)k[1]) << 8;    /* fall through */
    case 1: a += k[0]; break;
    case 0: return c;
    }
    c ^= b; c -= CHDF5_ROT(b, 14);
    a ^= c; a -= CHDF5_ROT(c, 11);
    b ^= a; b -= CHDF5_ROT(a, 25);
    c ^= b; c -= CHDF5_ROT(b, 16);
    a ^= c; a -= CHDF5_ROT(c, 4);
    b ^= a; b -= CHDF5_ROT(a, 14);
    c ^= b; c -= CHDF5_ROT(b, 24);
    return c;
}

// H5Fget_file_image of HDF5 1.10 returns a version 2/3 superblock whose checksum
// was computed before the image's status flags were cleared, so the image would
// not open ("incorrect metadata checksum"). Recomputes that checksum in place;
// returns 0, or -1 when `image` does not start with such a superblock.
static inline int chdf5_repair_superblock_checksum(uint8_t *image, size_t size) {
    static const uint8_t signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (size < 12 || memcmp(image, signature, 8) != 0) return -1;
    if (image[8] < 2) return 0; // versions 0 and 1 carry no checksum
    size_t covered = 12 + 4 * (size_t)image[9]; // four addresses of the given size
    if (size < covered + 4) return -1;
    uint32_t sum = chdf5_lookup3(image, covered, 0);
    for (int i = 0; i < 4; i++) image[covered + i] = (uint8_t)(sum >> (8 * i));
    return 0;
}

// HDF5 1.10 writes the superblock extension's object header (present because the
// store sets file creation properties) with access/modification/change/birth times,
// even though every object LesionMap creates is made without them: two stores with
// equal contents written in different seconds would differ in those 16 bytes.
// Sets the times of the superblock extension and of the root group to 0 and
// recomputes their header checksums, so equal contents give equal bytes. A header is
// changed only when it is a version 2 header with times whose stored checksum
// verifies; returns 0, or -1 when the image is not a version 2/3 superblock image.
static inline uint64_t chdf5_read_le(const uint8_t *p, size_t width) {
    uint64_t v = 0;
    for (size_t i = 0; i < width; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline void chdf5_clear_header_times(uint8_t *image, size_t size, uint64_t address) {
    if (address > size || size - address < 6) return;
    size_t at = (size_t)address;
    if (memcmp(image + at, "OHDR", 4) != 0 || image[at + 4] != 2) return;
    uint8_t flags = image[at + 5];
    if (!(flags & 0x20)) return; // no times stored
    size_t times = at + 6;
    size_t p = times + 16 + ((flags & 0x10) ? 4 : 0);
    size_t sizeWidth = (size_t)1 << (flags & 3);
    if (p + sizeWidth > size) return;
    uint64_t chunk = chdf5_read_le(image + p, sizeWidth);
    p += sizeWidth;
    if (chunk > size || p + chunk + 4 > size) return;
    size_t end = p + (size_t)chunk; // the checksum follows the first chunk
    if (chdf5_lookup3(image + at, end - at, 0) != (uint32_t)chdf5_read_le(image + end, 4)) return;
    memset(image + times, 0, 16);
    uint32_t sum = chdf5_lookup3(image + at, end - at, 0);
    for (int i = 0; i < 4; i++) image[end + i] = (uint8_t)(sum >> (8 * i));
}

static inline int chdf5_clear_header_times_of_image(uint8_t *image, size_t size) {
    static const uint8_t signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (size < 12 || memcmp(image, signature, 8) != 0) return -1;
    if (image[8] < 2) return 0; // only version 2/3 superblocks point at version 2 headers
    size_t width = image[9];
    if (width < 1 || width > 8 || size < 12 + 4 * width) return -1;
    uint64_t base = chdf5_read_le(image + 12, width);
    uint64_t undefined = width == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * width)) - 1;
    uint64_t extension = chdf5_read_le(image + 12 + width, width);
    uint64_t root = chdf5_read_le(image + 12 + 3 * width, width);
    if (extension != undefined && base <= size) chdf5_clear_header_times(image, size, base + extension);
    if (root != undefined && base <= size) chdf5_clear_header_times(image, size, base + root);
    return 0;
}

// Whether the current error stack reports a failed checksum (Fletcher32 of a data
// chunk, or the checksum of an HDF5 metadata block). Does not clear the stack.
static inline herr_t chdf5_checksum_walker(unsigned n, const H5E_error2_t *err, void *data) {
    (void)n;
    if (err != NULL && err->desc != NULL &&
        (strstr(err->desc, "checksum") != NULL || strstr(err->desc, "Fletcher32") != NULL))
        *(int *)data = 1;
    return 0;
}

static inline int chdf5_error_is_checksum_failure(void) {
    int found = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, chdf5_checksum_walker, &found);
    return found;
}

#endif
