// Loads HDF5 on the first call of a wrapper (see CHDF5.h).
//
// hdf5.h is included for its types, constants and prototypes only: nothing here refers to a symbol of the
// library, which is not linked (a stray reference fails the link). HDF5's macros for property list classes and
// predefined types name global variables of the library that are valid after H5open(); here they are read
// through addresses found with dlsym, after calling H5open as the macros do.
#include <hdf5.h>

#include "CHDF5.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// HDF5's file access flags expand to calls of H5check_version and H5open before their value; here they are plain
// values (the library is opened by the call that uses them, and its version is checked as it is loaded).
#undef H5CHECK
#define H5CHECK
#undef H5OPEN
#define H5OPEN

// The types and enumerators CHDF5.h gives Swift are the library's.
_Static_assert(H5I_BADID == LM_H5I_BADID && H5I_FILE == LM_H5I_FILE && H5I_GROUP == LM_H5I_GROUP &&
               H5I_DATASET == LM_H5I_DATASET, "H5I_type_t");
_Static_assert(H5_INDEX_UNKNOWN == LM_H5_INDEX_UNKNOWN && H5_INDEX_NAME == LM_H5_INDEX_NAME, "H5_index_t");
_Static_assert(H5_ITER_UNKNOWN == LM_H5_ITER_UNKNOWN && H5_ITER_INC == LM_H5_ITER_INC, "H5_iter_order_t");
_Static_assert(H5S_NO_CLASS == LM_H5S_NO_CLASS && H5S_SCALAR == LM_H5S_SCALAR, "H5S_class_t");
_Static_assert(H5F_SCOPE_LOCAL == LM_H5F_SCOPE_LOCAL && H5F_SCOPE_GLOBAL == LM_H5F_SCOPE_GLOBAL, "H5F_scope_t");
_Static_assert(H5T_NO_CLASS == LM_H5T_NO_CLASS && H5T_INTEGER == LM_H5T_INTEGER && H5T_FLOAT == LM_H5T_FLOAT &&
               H5T_STRING == LM_H5T_STRING, "H5T_class_t");
_Static_assert(H5T_STR_ERROR == LM_H5T_STR_ERROR && H5T_STR_NULLTERM == LM_H5T_STR_NULLTERM &&
               H5T_STR_NULLPAD == LM_H5T_STR_NULLPAD && H5T_STR_SPACEPAD == LM_H5T_STR_SPACEPAD, "H5T_str_t");
// The enumerations CHDF5.h declares for Swift get the same size as HDF5's (an int: each has a negative
// enumerator, or only small non-negative ones).
_Static_assert(sizeof(H5I_type_t) == sizeof(int) && sizeof(H5_index_t) == sizeof(int) &&
               sizeof(H5_iter_order_t) == sizeof(int) && sizeof(H5S_class_t) == sizeof(int) &&
               sizeof(H5F_scope_t) == sizeof(int) && sizeof(H5T_class_t) == sizeof(int) &&
               sizeof(H5T_str_t) == sizeof(int), "enumeration sizes");

// Functions called only from this file.
#define CHDF5_INTERNAL_FUNCTIONS(X)                                                                                 \
    X(H5open) X(H5get_libversion) X(H5Gget_info) X(H5Gclose) X(H5Aiterate2) X(H5Dget_chunk_info)                    \
    X(H5Dget_create_plist) X(H5Dget_num_chunks) X(H5Dget_offset) X(H5Dget_storage_size) X(H5Eclear2)                \
    X(H5Eset_auto2) X(H5Ewalk2) X(H5Pget_filter2) X(H5Pget_layout) X(H5Pget_nfilters) X(H5Pset_buffer)              \
    X(H5Pset_chunk) X(H5Pset_fapl_core) X(H5Pset_fletcher32) X(H5Pset_istore_k) X(H5Pset_libver_bounds)            \
    X(H5Pset_obj_track_times) X(H5Tset_cset) X(H5Tset_size) X(H5Tset_strpad)

// The global identifiers behind HDF5's macros, valid after H5open().
#define CHDF5_GLOBALS(X)                                                                                            \
    X(H5P_CLS_FILE_ACCESS_ID_g) X(H5P_CLS_FILE_CREATE_ID_g) X(H5P_CLS_GROUP_CREATE_ID_g)                            \
    X(H5P_CLS_LINK_CREATE_ID_g) X(H5P_CLS_DATASET_CREATE_ID_g) X(H5P_CLS_DATASET_XFER_ID_g)                         \
    X(H5T_NATIVE_DOUBLE_g) X(H5T_NATIVE_FLOAT_g) X(H5T_NATIVE_INT64_g) X(H5T_NATIVE_INT32_g)                        \
    X(H5T_IEEE_F64LE_g) X(H5T_STD_I64LE_g) X(H5T_C_S1_g)

// Each function as a pointer of exactly the type hdf5.h gives it.
#define POINTER_OF_PUBLIC(type, name, parameters, arguments) __typeof__(name) *name;
#define POINTER(name) __typeof__(name) *name;
#define ADDRESS(name) hid_t *name;
static struct {
    CHDF5_FUNCTIONS(POINTER_OF_PUBLIC)
    CHDF5_INTERNAL_FUNCTIONS(POINTER)
    // H5Treclaim (1.12 and later) or H5Dvlen_reclaim (its name before; not declared by every hdf5.h).
    herr_t (*reclaim)(hid_t type_id, hid_t space_id, hid_t plist_id, void *buf);
} api;
static struct {
    CHDF5_GLOBALS(ADDRESS)
} globals;
#undef POINTER_OF_PUBLIC
#undef POINTER
#undef ADDRESS

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static volatile int loaded = 0;

static const char *const library_names[] = {"libhdf5_serial.so.103", "libhdf5.so.103", "libhdf5_serial.so",
                                             "libhdf5.so", NULL};
static const char *loaded_name = "libhdf5_serial.so.103";

static _Noreturn void stop(const char *what, const char *detail) {
    fprintf(stderr, "lesionmap: %s (%s); this command needs HDF5 to read and write feature stores: install the "
                    "serial HDF5 library 1.10 or later (Debian: apt-get install libhdf5-103-1; to build LesionMap, "
                    "libhdf5-dev)\n", what, detail);
    exit(70);
}

static void *need(void *handle, const char *symbol) {
    void *address = dlsym(handle, symbol);
    if (!address) {
        char what[256];
        snprintf(what, sizeof what, "%s has no symbol %s", loaded_name, symbol);
        const char *error = dlerror();
        stop(what, error ? error : "not found");
    }
    return address;
}

static void load(void) {
    void *handle = NULL;
    char error[512] = ""; // why the usual name failed (copied: the next dlopen overwrites dlerror's text)
    for (const char *const *name = library_names; *name && !handle; name++) {
        handle = dlopen(*name, RTLD_NOW | RTLD_LOCAL);
        if (handle) loaded_name = *name;
        else if (name == library_names) snprintf(error, sizeof error, "%s", dlerror());
    }
    if (!handle) {
        char what[256];
        snprintf(what, sizeof what, "cannot load %s", library_names[0]);
        stop(what, error);
    }
    // Identifiers are 64-bit from HDF5 1.10 on (32-bit in 1.8): an older library must not be called at all.
    __typeof__(H5get_libversion) *version = (__typeof__(H5get_libversion) *)need(handle, "H5get_libversion");
    unsigned major = 0, minor = 0, release = 0;
    if (version(&major, &minor, &release) < 0 || major != 1 || minor < 10) {
        char what[256], detail[64];
        snprintf(what, sizeof what, "%s is HDF5 %u.%u.%u, older than 1.10", loaded_name, major, minor, release);
        snprintf(detail, sizeof detail, "LesionMap was built with HDF5 %d.%d.%d", H5_VERS_MAJOR, H5_VERS_MINOR,
                 H5_VERS_RELEASE);
        stop(what, detail);
    }
#define RESOLVE_PUBLIC(type, name, parameters, arguments) api.name = (__typeof__(api.name))need(handle, #name);
#define RESOLVE(name) api.name = (__typeof__(api.name))need(handle, #name);
#define RESOLVE_ADDRESS(name) globals.name = (hid_t *)need(handle, #name);
    CHDF5_FUNCTIONS(RESOLVE_PUBLIC)
    CHDF5_INTERNAL_FUNCTIONS(RESOLVE)
    CHDF5_GLOBALS(RESOLVE_ADDRESS)
#undef RESOLVE_PUBLIC
#undef RESOLVE
#undef RESOLVE_ADDRESS
    api.reclaim = (__typeof__(api.reclaim))dlsym(handle, "H5Treclaim");
    if (!api.reclaim) api.reclaim = (__typeof__(api.reclaim))need(handle, "H5Dvlen_reclaim");
    if (api.H5open() < 0) stop("cannot initialise the HDF5 library", loaded_name);
    __atomic_store_n(&loaded, 1, __ATOMIC_RELEASE);
}

static inline void ensure_loaded(void) {
    if (!__atomic_load_n(&loaded, __ATOMIC_ACQUIRE)) pthread_once(&load_once, load);
}

int chdf5_is_loaded(void) { return __atomic_load_n(&loaded, __ATOMIC_ACQUIRE); }

void chdf5_load(void) { ensure_loaded(); }

// The trampolines, each of exactly the type of the HDF5 function it calls.
#define TRAMPOLINE(type, name, parameters, arguments)                                                               \
    type lm_##name parameters {                                                                                     \
        ensure_loaded();                                                                                            \
        return api.name arguments;                                                                                  \
    }                                                                                                               \
    _Static_assert(__builtin_types_compatible_p(__typeof__(lm_##name), __typeof__(name)), #name);
CHDF5_FUNCTIONS(TRAMPOLINE)
#undef TRAMPOLINE

/// One of HDF5's global identifiers, read after H5open() as HDF5's macro reads it.
static hid_t global(hid_t *const *address) {
    ensure_loaded();
    api.H5open();
    return **address;
}

unsigned chdf5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
unsigned chdf5_acc_rdwr(void) { return H5F_ACC_RDWR; }
unsigned chdf5_acc_trunc(void) { return H5F_ACC_TRUNC; }
unsigned chdf5_acc_excl(void) { return H5F_ACC_EXCL; }

hid_t chdf5_p_default(void) { return H5P_DEFAULT; }
hid_t chdf5_s_all(void) { return H5S_ALL; }
hid_t chdf5_e_default(void) { return H5E_DEFAULT; }

hid_t chdf5_p_file_access(void) { return global(&globals.H5P_CLS_FILE_ACCESS_ID_g); }
hid_t chdf5_p_link_create(void) { return global(&globals.H5P_CLS_LINK_CREATE_ID_g); }
hid_t chdf5_p_dataset_create(void) { return global(&globals.H5P_CLS_DATASET_CREATE_ID_g); }

hid_t chdf5_t_native_double(void) { return global(&globals.H5T_NATIVE_DOUBLE_g); }
hid_t chdf5_t_native_float(void) { return global(&globals.H5T_NATIVE_FLOAT_g); }
hid_t chdf5_t_native_int64(void) { return global(&globals.H5T_NATIVE_INT64_g); }
hid_t chdf5_t_native_int32(void) { return global(&globals.H5T_NATIVE_INT32_g); }
hid_t chdf5_t_ieee_f64le(void) { return global(&globals.H5T_IEEE_F64LE_g); }
hid_t chdf5_t_std_i64le(void) { return global(&globals.H5T_STD_I64LE_g); }
hid_t chdf5_t_c_s1(void) { return global(&globals.H5T_C_S1_g); }
size_t chdf5_t_variable(void) { return H5T_VARIABLE; }
hsize_t chdf5_s_unlimited(void) { return H5S_UNLIMITED; }

hid_t chdf5_vlen_utf8_string_type(void) {
    ensure_loaded(); // before reading the function pointers, not only while evaluating the arguments
    hid_t t = api.H5Tcopy(chdf5_t_c_s1());
    if (t < 0) return t;
    if (api.H5Tset_size(t, H5T_VARIABLE) < 0 || api.H5Tset_cset(t, H5T_CSET_UTF8) < 0 ||
        api.H5Tset_strpad(t, H5T_STR_NULLTERM) < 0) {
        api.H5Tclose(t);
        return -1;
    }
    return t;
}

hid_t chdf5_fixed_ascii_string_type(size_t size) {
    ensure_loaded();
    hid_t t = api.H5Tcopy(chdf5_t_c_s1());
    if (t < 0) return t;
    if (api.H5Tset_size(t, size) < 0 || api.H5Tset_cset(t, H5T_CSET_ASCII) < 0 ||
        api.H5Tset_strpad(t, H5T_STR_NULLPAD) < 0) {
        api.H5Tclose(t);
        return -1;
    }
    return t;
}

herr_t chdf5_reclaim_vlen(hid_t mem_type, hid_t space, void *buf) {
    ensure_loaded();
    return api.reclaim(mem_type, space, H5P_DEFAULT, buf);
}

herr_t chdf5_silence_errors(void) {
    ensure_loaded();
    return api.H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

typedef struct {
    char *buffer;
    size_t size;
} error_sink;

static herr_t error_walker(unsigned n, const H5E_error2_t *err, void *data) {
    error_sink *sink = (error_sink *)data;
    if (err == NULL || err->desc == NULL || sink->size == 0) return 0;
    // Walking downward, the last entry is the innermost (most specific) cause.
    snprintf(sink->buffer, sink->size, "%s (in %s)", err->desc, err->func_name != NULL ? err->func_name : "?");
    (void)n;
    return 0;
}

void chdf5_take_error_message(char *buffer, size_t size) {
    if (size == 0) return;
    buffer[0] = '\0';
    ensure_loaded();
    error_sink sink = {buffer, size};
    api.H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, error_walker, &sink);
    api.H5Eclear2(H5E_DEFAULT);
}

static herr_t checksum_walker(unsigned n, const H5E_error2_t *err, void *data) {
    (void)n;
    if (err != NULL && err->desc != NULL &&
        (strstr(err->desc, "checksum") != NULL || strstr(err->desc, "Fletcher32") != NULL))
        *(int *)data = 1;
    return 0;
}

int chdf5_error_is_checksum_failure(void) {
    ensure_loaded();
    int found = 0;
    api.H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, checksum_walker, &found);
    return found;
}

static herr_t attribute_counter(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    (void)loc; (void)name; (void)info;
    *(hsize_t *)data += 1;
    return 0;
}

long long chdf5_attribute_count(hid_t object) {
    ensure_loaded();
    hsize_t count = 0;
    hsize_t index = 0;
    if (api.H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, attribute_counter, &count) < 0) return -1;
    return (long long)count;
}

long long chdf5_link_count(hid_t group) {
    ensure_loaded();
    H5G_info_t info;
    if (api.H5Gget_info(group, &info) < 0) return -1;
    return (long long)info.nlinks;
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
hid_t chdf5_memory_file_access(size_t increment) {
    ensure_loaded();
    hid_t fapl = api.H5Pcreate(chdf5_p_file_access());
    if (fapl < 0) return fapl;
    if (api.H5Pset_fapl_core(fapl, increment, 0) < 0 ||
        api.H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) < 0) {
        api.H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

// A file creation property list whose root group records no times, and whose
// chunk indexes (version 1 B-trees) have nodes of 4 entries instead of 64: most
// checksummed datasets are a single chunk, and a 64-entry node would add about
// 2 kB to each (in a part file of one patient, with some 20 numeric columns,
// more than the data itself).
hid_t chdf5_untimed_file_creation(void) {
    ensure_loaded();
    hid_t fcpl = api.H5Pcreate(global(&globals.H5P_CLS_FILE_CREATE_ID_g));
    if (fcpl < 0) return fcpl;
    if (api.H5Pset_obj_track_times(fcpl, 0) < 0 || api.H5Pset_istore_k(fcpl, 2) < 0) {
        api.H5Pclose(fcpl);
        return -1;
    }
    return fcpl;
}

hid_t chdf5_untimed_group_creation(void) {
    ensure_loaded();
    hid_t gcpl = api.H5Pcreate(global(&globals.H5P_CLS_GROUP_CREATE_ID_g));
    if (gcpl < 0) return gcpl;
    if (api.H5Pset_obj_track_times(gcpl, 0) < 0) {
        api.H5Pclose(gcpl);
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
hid_t chdf5_transfer_list(hid_t file_type, hid_t mem_type, size_t count) {
    ensure_loaded();
    size_t file_size = api.H5Tget_size(file_type), mem_size = api.H5Tget_size(mem_type);
    if (file_size == 0 || mem_size == 0) return -1;
    size_t element = file_size > mem_size ? file_size : mem_size;
    size_t bytes = (size_t)1 << 20;
    if (count < bytes / element) bytes = count * element;
    if (bytes < 1024) bytes = 1024;
    hid_t dxpl = api.H5Pcreate(global(&globals.H5P_CLS_DATASET_XFER_ID_g));
    if (dxpl < 0) return dxpl;
    if (api.H5Pset_buffer(dxpl, bytes, NULL, NULL) < 0) {
        api.H5Pclose(dxpl);
        return -1;
    }
    return dxpl;
}

// A dataset creation property list recording no times; with `chunk_rank` > 0 the
// data is stored in chunks of `chunk_dims`, each with a Fletcher32 checksum that
// HDF5 (and h5py) verify on every read.
hid_t chdf5_dataset_creation(int chunk_rank, const hsize_t *chunk_dims) {
    ensure_loaded();
    hid_t dcpl = api.H5Pcreate(chdf5_p_dataset_create());
    if (dcpl < 0) return dcpl;
    if (api.H5Pset_obj_track_times(dcpl, 0) < 0 ||
        (chunk_rank > 0 && (api.H5Pset_chunk(dcpl, chunk_rank, chunk_dims) < 0 || api.H5Pset_fletcher32(dcpl) < 0))) {
        api.H5Pclose(dcpl);
        return -1;
    }
    return dcpl;
}

int chdf5_dataset_has_fletcher32(hid_t dataset) {
    ensure_loaded();
    hid_t dcpl = api.H5Dget_create_plist(dataset);
    if (dcpl < 0) return -1;
    int found = 0;
    int count = api.H5Pget_nfilters(dcpl);
    for (int i = 0; i < count; i++) {
        unsigned flags = 0;
        size_t elements = 0;
        unsigned config = 0;
        if (api.H5Pget_filter2(dcpl, (unsigned)i, &flags, &elements, NULL, 0, NULL, &config) == H5Z_FILTER_FLETCHER32)
            found = 1;
    }
    api.H5Pclose(dcpl);
    return count < 0 ? -1 : found;
}

// Contiguous data is one range, chunked data one range per chunk (before any filter is undone).
long long chdf5_dataset_storage_ranges(hid_t dataset, unsigned long long *offsets, unsigned long long *sizes,
                                       long long capacity) {
    ensure_loaded();
    hid_t dcpl = api.H5Dget_create_plist(dataset);
    if (dcpl < 0) return -1;
    H5D_layout_t layout = api.H5Pget_layout(dcpl);
    api.H5Pclose(dcpl);
    if (layout == H5D_LAYOUT_ERROR) return -1;
    if (layout != H5D_CHUNKED) {
        haddr_t contiguous = api.H5Dget_offset(dataset);
        if (contiguous == HADDR_UNDEF) return 0;
        if (capacity > 0) {
            offsets[0] = contiguous;
            sizes[0] = api.H5Dget_storage_size(dataset);
        }
        return 1;
    }
    hid_t space = api.H5Dget_space(dataset);
    if (space < 0) return -1;
    hsize_t count = 0;
    if (api.H5Dget_num_chunks(dataset, space, &count) < 0) { api.H5Sclose(space); return -1; }
    for (hsize_t i = 0; i < count && (long long)i < capacity; i++) {
        unsigned mask = 0;
        haddr_t address = HADDR_UNDEF;
        hsize_t size = 0;
        if (api.H5Dget_chunk_info(dataset, space, i, NULL, &mask, &address, &size) < 0) {
            api.H5Sclose(space);
            return -1;
        }
        offsets[i] = address;
        sizes[i] = size;
    }
    api.H5Sclose(space);
    return (long long)count;
}

// H5Dclose drops the identifier even when closing fails, whereas H5Oclose (HDF5 1.10) keeps a half-closed
// dataset registered, which HDF5's exit handler then closes a second time (a crash after a failed write).
herr_t chdf5_close_object(hid_t id) {
    ensure_loaded();
    switch (api.H5Iget_type(id)) {
    case H5I_DATASET: return api.H5Dclose(id);
    case H5I_GROUP: return api.H5Gclose(id);
    case H5I_DATATYPE: return api.H5Tclose(id);
    default: return api.H5Oclose(id);
    }
}

// Bob Jenkins' lookup3 hash (public domain), byte-wise variant of hashlittle(),
// the checksum HDF5 uses for its metadata blocks.
#define CHDF5_ROT(x, k) (((x) << (k)) | ((x) >> (32 - (k))))
static uint32_t lookup3(const uint8_t *k, size_t length, uint32_t initval) {
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
// not open ("incorrect metadata checksum"). Recomputes that checksum in place.
int chdf5_repair_superblock_checksum(uint8_t *image, size_t size) {
    static const uint8_t signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (size < 12 || memcmp(image, signature, 8) != 0) return -1;
    if (image[8] < 2) return 0; // versions 0 and 1 carry no checksum
    size_t covered = 12 + 4 * (size_t)image[9]; // four addresses of the given size
    if (size < covered + 4) return -1;
    uint32_t sum = lookup3(image, covered, 0);
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
// verifies.
static uint64_t read_le(const uint8_t *p, size_t width) {
    uint64_t v = 0;
    for (size_t i = 0; i < width; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void clear_header_times(uint8_t *image, size_t size, uint64_t address) {
    if (address > size || size - address < 6) return;
    size_t at = (size_t)address;
    if (memcmp(image + at, "OHDR", 4) != 0 || image[at + 4] != 2) return;
    uint8_t flags = image[at + 5];
    if (!(flags & 0x20)) return; // no times stored
    size_t times = at + 6;
    size_t p = times + 16 + ((flags & 0x10) ? 4 : 0);
    size_t sizeWidth = (size_t)1 << (flags & 3);
    if (p + sizeWidth > size) return;
    uint64_t chunk = read_le(image + p, sizeWidth);
    p += sizeWidth;
    if (chunk > size || p + chunk + 4 > size) return;
    size_t end = p + (size_t)chunk; // the checksum follows the first chunk
    if (lookup3(image + at, end - at, 0) != (uint32_t)read_le(image + end, 4)) return;
    memset(image + times, 0, 16);
    uint32_t sum = lookup3(image + at, end - at, 0);
    for (int i = 0; i < 4; i++) image[end + i] = (uint8_t)(sum >> (8 * i));
}

int chdf5_clear_header_times_of_image(uint8_t *image, size_t size) {
    static const uint8_t signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (size < 12 || memcmp(image, signature, 8) != 0) return -1;
    if (image[8] < 2) return 0; // only version 2/3 superblocks point at version 2 headers
    size_t width = image[9];
    if (width < 1 || width > 8 || size < 12 + 4 * width) return -1;
    uint64_t base = read_le(image + 12, width);
    uint64_t undefined = width == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * width)) - 1;
    uint64_t extension = read_le(image + 12 + width, width);
    uint64_t root = read_le(image + 12 + 3 * width, width);
    if (extension != undefined && base <= size) clear_header_times(image, size, base + extension);
    if (root != undefined && base <= size) clear_header_times(image, size, base + root);
    return 0;
}
